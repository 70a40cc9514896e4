"""Declarative base, column types and transaction helpers shared by every domain package."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import DateTime, Engine, MetaData, Table, TypeDecorator, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session

from navigator.core.errors import Problem

T = TypeVar("T")
M = TypeVar("M", bound="Base")

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
    """The unit of work: commit on success, roll back on any error (then re-raise).

    The one owner of commit and rollback. Views and CLI commands open it (directly, or
    through `retry_on_conflict`); services only add and flush, so what one request writes
    lands together or not at all, and a service can be composed into a larger unit (a
    decision and its referral) without committing half of it.
    """
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


# How many times `retry_on_conflict` runs a unit of work. Once the rows it conflicts on are
# written with `insert_unless_exists`, a loser's second run finds the winner's committed row;
# the third run is a margin, and the bound keeps a persistent conflict (a bug) from looping.
CONFLICT_ATTEMPTS = 3


def retry_on_conflict(
    session: Session, unit_of_work: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS
) -> T:
    """Run `unit_of_work` (which flushes, never commits) in a `transaction` and commit it,
    returning its result. If a concurrent request won a unique constraint (the same
    idempotency key or event_id), everything is rolled back and the unit runs again, when it
    finds the winner's row instead of writing its own. At most `attempts` runs; the last
    `IntegrityError` is raised if every run loses. Any other error rolls back and is raised
    at once. The unit of work must be idempotent when re-run: it reads what it needs afresh
    and makes new ids each run.

    No savepoints: under pysqlite's transaction handling, releasing the outermost savepoint
    commits, which would leave half of a lost race behind.
    """
    for _ in range(attempts - 1):
        try:
            with transaction(session):
                return unit_of_work()
        except IntegrityError:
            pass  # rolled back by `transaction`: run it again
    with transaction(session):
        return unit_of_work()


def load_or_404(
    session: Session,
    model: type[M],
    record_id: str,
    *,
    noun: str,
    for_update: bool = False,
    visible: Callable[[M], bool] | None = None,
) -> M:
    """The `model` row with this primary key, for API views and console pages alike.

    `for_update`: the row is locked until the transaction ends, so two changes at once run
    one after the other (each passes its checks on the other's result). `visible`: the
    caller's need-to-know rule; a row it refuses is answered exactly like an unknown id, so
    its existence is not confirmed. Raises Problem 404 "No <noun> with id '<id>'."
    """
    query = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    row = session.scalar(query.with_for_update() if for_update else query)
    if row is None or (visible is not None and not visible(row)):
        raise Problem(404, f"No {noun} with id {record_id!r}.")
    return row


def insert_unless_exists(
    session: Session, model: type[Base], values: Mapping[str, Any], *, on: Sequence[str]
) -> bool:
    """`INSERT ... ON CONFLICT (on) DO NOTHING` in the session's transaction; True if this
    statement inserted the row, False if a row with the same `on` values already existed.

    Why not insert and catch the `IntegrityError`: on PostgreSQL the error aborts the whole
    transaction, and savepoints are unsafe on SQLite (see `retry_on_conflict`). With ON
    CONFLICT, PostgreSQL waits for a concurrent insert of the same key to commit and then
    does nothing; SQLite serialises writers, so the loser's insert sees the winner's row.
    Either way the caller then selects the winner's row, in the same transaction (READ
    COMMITTED on PostgreSQL, so the next statement sees it). `on` must be exactly the
    columns of a unique constraint or index of the model's table.

    Raises ValueError for a database other than PostgreSQL or SQLite.
    """
    table = cast(Table, model.__table__)  # a mapped class's table is always a Table
    insert: Callable[[Table], Any]
    dialect = session.connection().dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:
        raise ValueError(f"insert_unless_exists does not support {dialect!r}")
    statement = (
        insert(table)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=list(on))
        # RETURNING, not rowcount: psycopg reports no rowcount for this statement (-1).
        .returning(table.c[on[0]])
    )
    return session.execute(statement).first() is not None


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
