"""The `navigator` console script: Flask's CLI bound to `create_app`."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from navigator import create_app
from navigator.rules.commands import rules_group


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """navigator: care-navigation single point of access (BLMK)."""


# Added to the group itself, not app.cli, so they work even when the rules stop the app loading.
main.add_command(rules_group)
