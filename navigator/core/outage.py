"""Telling a database outage from a bug.

While PostgreSQL restarts or fails over, or the connection pool is exhausted, every request
that touches the database fails. That is an outage, and clients should be told to come back
(503 with `Retry-After`), not that navigator has a bug (500). But the same exception classes
also carry real bugs (SQLite raises `OperationalError` for "no such table"), so the
distinction is made on what the driver reports, not on the class alone.

Sources: PostgreSQL's SQLSTATE table (Appendix A, "PostgreSQL Error Codes"): class 08
"Connection Exception", 57P01 `admin_shutdown`, 57P02 `crash_shutdown`, 57P03
`cannot_connect_now` (starting up or in recovery), 53300 `too_many_connections`, 25006
`read_only_sql_transaction` (the connection reached a standby during a fail-over); SQLite's
result codes SQLITE_BUSY (5) and SQLITE_LOCKED (6).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# Seconds a client is asked to wait before retrying during an outage: about how long a fast
# PostgreSQL restart or a pgbouncer reconnect takes, so a client's retry usually lands.
RETRY_AFTER_SECONDS = 5

_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "25006"})
_SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED


def is_database_outage(exc: BaseException) -> bool:
    """True when `exc`, or an exception it was raised from or while handling, says the
    database is unreachable, restarting, shutting down, out of connections, read-only (a
    standby) or (SQLite) locked: transient, worth a retry. The chain matters because a
    connection lost mid-request can surface as another error (SQLAlchemy's
    `PendingRollbackError` after a failed flush, a raw driver error from a rollback).
    False for everything else, including SQL errors, constraint violations and a schema
    that is not migrated."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _says_outage(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _says_outage(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeoutError):  # no connection free in the pool within its timeout
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy saw the connection drop under the statement
            return True
        original: BaseException | None = exc.orig
        if getattr(original, "sqlstate", None) == "25006":  # psycopg's InternalError subclass
            return True
        if not isinstance(exc, OperationalError | InterfaceError):
            return False
    else:
        original = exc  # a driver's own exception, not wrapped by SQLAlchemy
        if type(original).__name__ not in ("OperationalError", "InterfaceError"):
            return getattr(original, "sqlstate", None) == "25006"
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
    sqlite_code = getattr(original, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in _SQLITE_BUSY_CODES  # extended codes keep the primary low
    # psycopg gives no SQLSTATE when it could not connect at all (refused, reset, timed out),
    # and an InterfaceError is a connection already closed under us.
    return type(original).__module__.startswith("psycopg")
