"""`navigator demo`: fresh demo API keys and logins for local use (`scripts/run` prints them)."""

from __future__ import annotations

import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy import select, update

from navigator.auth.keys import create_api_client
from navigator.auth.models import USER_ROLES, ApiClient, User
from navigator.auth.passwords import create_user, set_password
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session

# One demo API client per API role: name "demo-<role>", with an ODS code for the provider.
DEMO_CLIENTS = {"integrator": None, "navigator": None, "provider": "RC9", "admin": None}
DEMO_DOMAIN = "demo.navigator.example"  # demo logins are <role>@DEMO_DOMAIN


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create fresh demo API keys and demo logins (local use only) and print them."""
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
