"""`navigator api-client create` and `navigator user create`: who may use navigator.

API clients hold bearer keys (only a hash is kept); console users sign in with a password.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from navigator.auth.keys import create_api_client
from navigator.auth.models import API_ROLES, USER_ROLES
from navigator.auth.passwords import create_user
from navigator.cli.params import API_CLIENT_NAME_MAX, EMAIL_MAX, at_most
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.core.identifiers import normalise_ods_code
from navigator.directory.models import Organisation


def _known_ods(ods_code: str) -> bool:
    """True when an organisation in the directory has this ODS code (any letter case)."""
    found = current_session().scalar(
        select(Organisation.id)
        .where(func.upper(Organisation.ods_code) == ods_code.upper())
        .limit(1)
    )
    return found is not None


@click.group("api-client")
def api_client_group() -> None:
    """API clients (bearer keys)."""


@api_client_group.command("create")
@click.argument("name", type=at_most(API_CLIENT_NAME_MAX))
@click.option("--role", type=click.Choice(API_ROLES), required=True)
@click.option("--organisation", "organisation_ods", help="ODS code (required for provider)")
@with_appcontext
def api_client_create(name: str, role: str, organisation_ods: str | None) -> None:
    """Create an API client; prints its key, alone, on the last line (only a hash is kept).

    `--organisation` must be the ODS code of an organisation in the loaded directory: a typo
    would otherwise make a provider key that can update nothing, or the wrong organisation's.
    """
    if organisation_ods is not None:
        # One ASCII spelling (`ｒｃ９` is RC9), as every other ODS code is stored and matched.
        typed, organisation_ods = organisation_ods, normalise_ods_code(organisation_ods)
        if organisation_ods is None:
            raise click.UsageError(f"{typed!r} is not an ODS code (3 to 10 letters and digits)")
    if organisation_ods is not None and not _known_ods(organisation_ods):
        raise click.UsageError(
            f"no organisation in the directory has the ODS code {organisation_ods!r};"
            " load the directory first (navigator directory load) or check the code"
        )
    try:
        with transaction(current_session()):
            client, key = create_api_client(
                current_session(), name=name, role=role, organisation_ods=organisation_ods
            )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(
        f"created API client {client.id} ({name}, {role}); keep this key, it is not shown again:"
    )
    click.echo(key)


@click.group("user")
def user_group() -> None:
    """Console users."""


@user_group.command("create")
@click.argument("email", type=at_most(EMAIL_MAX))
@click.option("--role", type=click.Choice(USER_ROLES), required=True)
@with_appcontext
def user_create(email: str, role: str) -> None:
    """Create a console user; the password comes from a prompt or standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        with transaction(current_session()):
            user = create_user(current_session(), email=email, password=password, role=role)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created user {user.email} ({user.role})")
