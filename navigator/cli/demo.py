"""`navigator demo`: fresh demo API keys and logins for local use (`scripts/run` prints them);
with `--activity`, first a month of synthetic BLMK activity (`cli/demo_activity.py`)."""

from __future__ import annotations

import logging
import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy import select, update

from navigator.auth.keys import create_api_client
from navigator.auth.models import USER_ROLES, ApiClient, User
from navigator.auth.passwords import create_user, set_password
from navigator.cli.demo_activity import (
    ActivityRefused,
    app_settings,
    generate_activity,
    referral_statuses,
    summary_lines,
)
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session

# One demo API client per API role: name "demo-<role>", with an ODS code for the provider.
DEMO_CLIENTS = {"integrator": None, "navigator": None, "provider": "RC9", "admin": None}
DEMO_DOMAIN = "demo.navigator.example"  # demo logins are <role>@DEMO_DOMAIN


@click.command("demo")
@click.option(
    "--activity",
    is_flag=True,
    help="First add a month of synthetic BLMK activity (calls, referrals, transitions, delays, "
    "texts, capacity); refused on a database holding any patient or activity the demo did not "
    "make. Run again, it adds what happened since its latest call.",
)
@click.option(
    "--seed",
    type=int,
    default=17,
    show_default=True,
    help="With --activity: the same seed on the same database and clock gives the same activity.",
)
@with_appcontext
def demo(activity: bool, seed: int) -> None:
    """Create fresh demo API keys and demo logins (local use only) and print them."""
    if activity:
        _activity(seed)
    lines = []
    # One unit of work: earlier demo keys are revoked only if every new key and login is made.
    with transaction(current_session()):
        current_session().execute(
            update(ApiClient)
            .where(ApiClient.name.like("demo-%"), ApiClient.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        for role, ods in DEMO_CLIENTS.items():
            _, key = create_api_client(
                current_session(), name=f"demo-{role}", role=role, organisation_ods=ods
            )
            lines.append(f"  API key ({role}{', ' + ods if ods else ''}): {key}")
        for role in USER_ROLES:
            email, password = f"{role}@{DEMO_DOMAIN}", secrets.token_urlsafe(9)
            user = current_session().scalar(select(User).where(User.email == email))
            if user is None:
                create_user(current_session(), email=email, password=password, role=role)
            else:
                set_password(user, password)
            lines.append(f"  login ({role}): {email} / {password}")
    click.echo("Demo credentials (new each run; earlier demo keys are revoked):")
    for line in lines:
        click.echo(line)


def _activity(seed: int) -> None:
    """Generate the demo activity in one unit of work (all of it or none), and report it; a
    database holding any patient or activity the demo did not make is refused (exit 1) before
    anything is written."""
    session = current_session()
    with transaction(session):
        # The services log each text and reply at INFO: hundreds of lines, none news here.
        logger = logging.getLogger("navigator")
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            made = generate_activity(session, app_settings(), seed=seed, now=utcnow())
        except ActivityRefused as exc:
            raise click.ClickException(
                f"Demo activity refused: {exc} (For new demo credentials alone: navigator demo.)"
            ) from exc
        finally:
            logger.setLevel(level)
        lines = summary_lines(made, referral_statuses(session))
    for line in lines:
        click.echo(line)
