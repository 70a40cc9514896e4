"""navigator's command line: the `navigator` console script and every command it offers.

One module per area (db, directory, users, demo, transitions, metrics, sms, rules). The app
factory calls `register_commands` to put the commands that run inside the app on `app.cli`;
`main` is Flask's CLI bound to the factory. Command names, options, output and exit codes are
a public contract: the README and `scripts/run` call them.

Layering: `cli` is the top layer (it may import any package); only `navigator/__init__.py`
imports it.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from navigator.cli.bars import fake_bars_sender
from navigator.cli.db import db_group
from navigator.cli.demo import demo
from navigator.cli.directory import directory_group
from navigator.cli.metrics import metrics_group
from navigator.cli.rules import rules_group
from navigator.cli.sms import fake_twilio, scheduler
from navigator.cli.transitions import transitions_group
from navigator.cli.users import api_client_group, user_group

# The commands that need the app (`with_appcontext`), in `navigator --help`'s registration order.
APP_COMMANDS: tuple[click.Command, ...] = (
    db_group,
    directory_group,
    api_client_group,
    user_group,
    demo,
    transitions_group,
    metrics_group,
    scheduler,
    fake_twilio,
)


def register_commands(app: Flask) -> None:
    """Add every command that runs inside the app to `app.cli` (called by `create_app`)."""
    for command in APP_COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    # Imported when the CLI needs the app, not at module level: `navigator/__init__.py`
    # imports this package (for `register_commands`) before it defines `create_app`.
    from navigator import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """navigator: care-navigation single point of access (BLMK)."""


# Added to the group itself, not app.cli, so they work even when the rules stop the app loading.
main.add_command(rules_group)
# Needs no app, database or settings either (a loopback fake for trying BaRS by hand).
main.add_command(fake_bars_sender)
