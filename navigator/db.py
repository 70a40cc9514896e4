"""Declarative base, column types and transaction helpers shared by every domain package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session

T = TypeVar("T")

# Stable constraint names so Alembic autogenerate and hand-written migrations agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and always returned timezone-aware.

    SQLite drops offsets and PostgreSQL keeps them; storing naive UTC on both keeps
    comparisons and SQL aggregates identical on the two databases.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit on success, roll back on any error: the one place views get a unit of work."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def retry_on_conflict(session: Session, unit_of_work: Callable[[], T]) -> T:
    """Run a unit of work that commits itself; if a concurrent request won a unique constraint
    (the same NHS number or idempotency key), roll everything back and run it once more, when
    it will find the winner's row instead of writing its own.

    No savepoints: under pysqlite's transaction handling, releasing the outermost savepoint
    commits, which would leave half of a lost race behind.
    """
    try:
        return unit_of_work()
    except IntegrityError:
        session.rollback()
        return unit_of_work()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: write-ahead logging so readers never block the writer, a busy timeout so
    concurrent writers (two gunicorn workers) wait instead of failing, and foreign keys on."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
