"""navigator's CLI commands, registered on `app.cli` by the app factory."""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError
from sqlalchemy import func, select, update

from navigator.auth.keys import create_api_client
from navigator.auth.models import API_ROLES, USER_ROLES, ApiClient, User
from navigator.auth.passwords import create_user, set_password
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.identifiers import normalise_ods_code
from navigator.core.migrations import upgrade
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.core.settings import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN
from navigator.directory.loader import load_path
from navigator.directory.models import Organisation
from navigator.directory.oruk import export_oruk
from navigator.directory.synth import synthesise
from navigator.metrics.cisp import ROW_PLACES
from navigator.metrics.schemas import CispQuerySchema
from navigator.metrics.service import as_csv, compute
from navigator.transitions.importer import import_csv

# The lengths of the columns the commands' text arguments are written to: longer text is
# refused here, with a message, rather than failing in the database (PostgreSQL raises
# StringDataRightTruncation; SQLite would keep it). Issue 12 §5.
API_CLIENT_NAME_MAX = 200  # ApiClient.name
EMAIL_MAX = 254  # User.email (RFC 5321's longest usable address)
CHANGED_BY_MAX = 200  # ServiceChange.changed_by


def at_most(limit: int) -> click.types.FuncParamType:
    """A click type for text of 1 to `limit` characters (a clear error, non-zero exit)."""

    def check(value: str) -> str:
        if not value.strip():
            raise click.BadParameter("must not be empty")
        if len(value) > limit:
            raise click.BadParameter(f"at most {limit} characters (this has {len(value)})")
        return value

    check.__name__ = f"text of at most {limit} characters"
    return click.types.FuncParamType(check)


# --- db -------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or upgrade the database with the migrations."""
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is at the latest migration")


# --- directory --------------------------------------------------------------------------


@click.group("directory")
def directory_group() -> None:
    """Directory of services data."""


@directory_group.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def directory_load(path: Path) -> None:
    """Load a directory file or folder (navigator format or Open Referral UK JSON)."""
    with transaction(current_session()):
        report = load_path(
            current_session(),
            path,
            vocab=VOCABULARY.get(),
            changed_by=f"load:{path.name}"[:CHANGED_BY_MAX],  # a file name is not bounded
        )
    for line in report.lines():
        click.echo(line)


@directory_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["oruk"]), required=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)"
)
@click.option(
    "--public",
    is_flag=True,
    help="Leave out professional-only contact and referral details (as the open /oruk/ feed does).",
)
@with_appcontext
def directory_export(fmt: str, out: Path | None, public: bool) -> None:
    """Export the whole directory as Open Referral UK (HSDS 3.0) JSON."""
    data = export_oruk(current_session(), include_professional=not public)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"exported {len(data)} services to {out}", err=True)
    else:
        click.echo(text)


@directory_group.command("synth")
@click.option("--services", "count", type=click.IntRange(1, 2_000_000), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@with_appcontext
def directory_synth(count: int, out: Path, seed: int) -> None:
    """Write a synthetic England-wide directory (for benchmarks) in navigator format."""
    data = synthesise(count, seed=seed, data_dir=current_app.config["NAVIGATOR_DIRECTORY_DATA"])
    out.write_text(json.dumps(data), encoding="utf-8")
    click.echo(f"wrote {len(data['services'])} services to {out}")


# --- access ---------------------------------------------------------------------------


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


DEMO_CLIENTS = {"integrator": None, "navigator": None, "provider": "RC9", "admin": None}
DEMO_DOMAIN = "demo.navigator.example"


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create fresh demo API keys and demo logins (local use only) and print them."""
    lines = []
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


@click.group("transitions")
def transitions_group() -> None:
    """Transitions of care."""


@transitions_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def transitions_import(path: Path) -> None:
    """Bulk-load transitions from CSV; reports row-level errors and keeps the good rows."""
    report = import_csv(current_session(), path, gazetteer=GAZETTEER.get())
    for error in report.errors:
        click.echo(error)
    click.echo(
        f"transitions: created {report.created}, already recorded {report.duplicates}, "
        f"rejected {len(report.errors)}"
    )


@click.group("metrics")
def metrics_group() -> None:
    """Dashboard measures."""


@metrics_group.command("cisp")
@click.option("--from", "start", required=True, help="YYYY-MM")
@click.option("--to", "end", required=True, help="YYYY-MM")
@click.option("--place", type=click.Choice(ROW_PLACES))
@click.option("--csv", "as_csv_output", is_flag=True, help="CSV rows instead of JSON")
@with_appcontext
def metrics_cisp(start: str, end: str, place: str | None, as_csv_output: bool) -> None:
    """The CISP measures per place and month (the same as GET /api/v1/metrics/cisp)."""
    try:
        args = CispQuerySchema().load(
            {"from": start, "to": end, **({"place": place} if place else {})}
        )
    except ValidationError as exc:
        raise click.UsageError(str(exc.messages)) from exc
    with transaction(current_session()):
        data = compute(current_session(), args["from_"], args["to"], args.get("place"))
    click.echo(as_csv(data["rows"]) if as_csv_output else json.dumps(data, indent=2))


# --- SMS follow-ups -------------------------------------------------------------------------


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Send follow-up texts (its own process; never run inside web workers). Stops on SIGTERM."""
    from navigator.sms.scheduler import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("fake-twilio")
@click.option("--port", type=int, default=8010, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--callback-delay", type=float, default=0.5, show_default=True)
@with_appcontext
def fake_twilio(port: int, host: str, callback_delay: float) -> None:
    """A local fake Twilio (messages API, signed callbacks, simulated replies and failures)."""
    from navigator.sms.fake_twilio import FakeTwilio

    config = current_app.config
    fake = FakeTwilio(
        account_sid=config["TWILIO_ACCOUNT_SID"] or DEV_TWILIO_ACCOUNT_SID,
        auth_token=config["TWILIO_AUTH_TOKEN"] or DEV_TWILIO_AUTH_TOKEN,
        public_base_url=config["PUBLIC_BASE_URL"],
        host=host,
        port=port,
        callback_delay=callback_delay,
    )
    click.echo(f"fake Twilio on {fake.url}; callbacks to {config['PUBLIC_BASE_URL']}")
    with contextlib.suppress(KeyboardInterrupt):
        fake.serve_forever()


def register_commands(app: Flask) -> None:
    for command in (
        db_group,
        directory_group,
        api_client_group,
        user_group,
        demo,
        transitions_group,
        metrics_group,
        scheduler,
        fake_twilio,
    ):
        app.cli.add_command(command)
