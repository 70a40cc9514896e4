"""`navigator db upgrade`: the database schema."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from navigator.core.migrations import upgrade


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or upgrade the database with the migrations."""
    # Alembic runs on its own connection and commits each migration: no session to own.
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is at the latest migration")
