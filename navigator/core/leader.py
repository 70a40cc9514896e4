"""Leader election: of any number of processes running the same loop (`navigator scheduler`),
exactly one is active; the others are standbys that take over when it dies.

Two locks behind one interface (`LeaderLock`), chosen from the database URL by `leader_lock`:

- **PostgreSQL:** a session-level advisory lock (`pg_try_advisory_lock(namespace, key)`) held
  on a dedicated *direct* connection, opened with psycopg outside SQLAlchemy's pool. The lock
  lives exactly as long as that server session: when the holder's process dies (even
  `kill -9`) its socket closes, the backend ends and PostgreSQL releases the lock at once.
  TCP keepalives are set on both ends, so a holder whose host vanishes (power, network) loses
  the lock after about `KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT` seconds (the
  server-side GUCs, set per session), and a holder whose server vanishes notices as fast (the
  libpq parameters, and `tcp_user_timeout` for unacknowledged data). The connection must not
  go through pgbouncer in transaction (or statement) pooling mode: a session-level lock would
  then belong to whatever client next shares the server connection. Point the scheduler's
  `DATABASE_URL` at PostgreSQL itself, or at a pgbouncer pool in session mode.
- **SQLite** (one machine): `fcntl.flock` on a lock file beside the database file
  (`<database>.<name>.lock`). The kernel drops the lock when the holder's process dies. A
  lock file that is deleted or replaced while held counts as lost (`holds` compares inodes),
  so a second process cannot lock a new file while the first still thinks it leads.

Neither lock is what keeps a message from being sent twice: the outboxes' claims do that (a
conditional UPDATE, committed before the send). The lock keeps one process doing the work, so
two schedulers do not race for every row and the job store (APScheduler's, which cannot be
shared: https://apscheduler.readthedocs.io/en/3.x/faq.html) has one writer.

`LeaderElection` runs the loop: try the lock every `poll_seconds`; on winning call
`on_elected`; while active, check the lock every `poll_seconds` and on losing it call
`on_deposed` at once, then try again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# The first key of every navigator advisory lock ("navi" as a 32-bit integer), so they cannot
# collide with another application's locks on a shared server.
NAMESPACE = 0x6E617669
# TCP keepalives on the lock connection (seconds): a peer that stops answering is given up
# after about idle + interval * count = 11 s, well inside the 30 s fail-over target.
KEEPALIVE_IDLE = 5
KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3
# Unacknowledged data is given up after this long (milliseconds; Linux TCP_USER_TIMEOUT).
TCP_USER_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_MS = 5_000


class LeaderLockError(Exception):
    """The lock could not be asked for (the database is unreachable); try again later."""


class LeaderLock(Protocol):
    """A lock that at most one process holds at a time, released when its holder dies."""

    def try_acquire(self) -> bool:
        """Take the lock if free, without waiting; True if this process now holds it (also
        when it already did). Raises LeaderLockError if the lock's owner cannot be reached."""

    def holds(self) -> bool:
        """Whether this process still holds the lock, checked now (not remembered): False
        after the connection or lock file was lost. Never raises."""

    def release(self) -> None:
        """Give the lock up (idempotent)."""

    def describe(self) -> str:
        """Where the lock lives, for logs (never a password)."""


def lock_key(name: str) -> int:
    """The second advisory-lock key for a lock name: a stable 31-bit CRC of the name."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


class PostgresAdvisoryLock:
    """`pg_try_advisory_lock(NAMESPACE, lock_key(name))` on a connection of its own.

    `url`: an SQLAlchemy or libpq URL of the database (any database on the server will do;
    advisory locks are per database, so every contender must use the same one)."""

    def __init__(self, url: str, name: str) -> None:
        parsed = make_url(url)
        self._conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self._where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"
        self.name = name
        self.key = (NAMESPACE, lock_key(name))
        self._conn: psycopg.Connection[Any] | None = None
        self._held = False

    def describe(self) -> str:
        return f"PostgreSQL advisory lock {self.key} on {self._where}"

    def _connect(self) -> psycopg.Connection[Any]:
        server_keepalives = (
            f"-c tcp_keepalives_idle={KEEPALIVE_IDLE}"
            f" -c tcp_keepalives_interval={KEEPALIVE_INTERVAL}"
            f" -c tcp_keepalives_count={KEEPALIVE_COUNT}"
            f" -c tcp_user_timeout={TCP_USER_TIMEOUT_MS}"
            f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
        )
        return psycopg.connect(
            self._conninfo,
            autocommit=True,  # a session-level lock needs no transaction; none stays open
            application_name=f"navigator leader: {self.name}"[:63],
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            # libpq's side: notice a vanished server.
            keepalives=1,
            keepalives_idle=KEEPALIVE_IDLE,
            keepalives_interval=KEEPALIVE_INTERVAL,
            keepalives_count=KEEPALIVE_COUNT,
            tcp_user_timeout=TCP_USER_TIMEOUT_MS,
            # The server's side (per-session GUCs): drop a vanished holder, and its lock.
            options=server_keepalives,
        )

    def try_acquire(self) -> bool:
        if self._held and self.holds():
            return True
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", self.key).fetchone()
        except psycopg.Error as exc:
            self._close()
            raise LeaderLockError(f"{self.describe()}: {type(exc).__name__}") from exc
        self._held = bool(row and row[0])
        return self._held

    def holds(self) -> bool:
        if not self._held or self._conn is None or self._conn.closed:
            return False
        try:
            # The lock itself, not just the connection: a two-key advisory lock appears in
            # pg_locks with classid and objid set to the keys and objsubid 2.
            row = self._conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid() AND granted AND classid = %s AND objid = %s"
                " AND objsubid = 2)",
                self.key,
            ).fetchone()
        except psycopg.Error:
            self._close()
            return False
        self._held = bool(row and row[0])
        return self._held

    def backend_pid(self) -> int | None:
        """The server process of the lock connection (for tests and diagnostics)."""
        return self._conn.info.backend_pid if self._conn and not self._conn.closed else None

    def release(self) -> None:
        self._close()  # ending the session releases its advisory locks

    def _close(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


class FileLock:
    """An exclusive `flock` on `path` (created if missing), for processes on one machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def describe(self) -> str:
        return f"file lock {self.path}"

    def try_acquire(self) -> bool:
        if self.holds():
            return True
        self.release()
        try:
            handle = open(self.path, "ab")  # noqa: SIM115 - held open as long as the lock
        except OSError as exc:
            raise LeaderLockError(f"{self.describe()}: {exc.strerror}") from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def holds(self) -> bool:
        if self._file is None:
            return False
        try:
            same = os.stat(self.path).st_ino == os.fstat(self._file.fileno()).st_ino
        except OSError:
            same = False
        return same

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None


def leader_lock(database_url: str, name: str) -> LeaderLock:
    """The lock for `name` that suits the database: an advisory lock on PostgreSQL, a file
    lock beside an SQLite database file. Raises ValueError for an in-memory SQLite database
    (no other process can see it) or another database."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PostgresAdvisoryLock(database_url, name)
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file::"):
            raise ValueError("a leader lock needs an SQLite database file, not :memory:")
        slug = "".join(c if c.isalnum() else "-" for c in name)
        return FileLock(Path(f"{url.database}.{slug}.lock"))
    raise ValueError(f"no leader lock for {backend!r} databases")


class LeaderElection:
    """The standby/active loop around a `LeaderLock` (run it in the main thread).

    `on_elected()` is called when this process becomes active, `on_deposed()` when it stops
    being active (the lock was lost, or `stop()` was called while active); both in the loop's
    thread. Every `poll_seconds` a standby tries the lock and the active process checks it, so
    a dead holder is replaced within about `poll_seconds` of PostgreSQL (or the kernel)
    releasing its lock, and a holder that loses its lock stops within `poll_seconds` plus the
    TCP timeouts above."""

    def __init__(
        self,
        lock: LeaderLock,
        *,
        poll_seconds: float,
        on_elected: Callable[[], None],
        on_deposed: Callable[[], None],
        label: str = "process",
    ) -> None:
        self.lock = lock
        self.poll_seconds = poll_seconds
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.label = label
        self.active = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        """End `run` (from a signal handler or another thread)."""
        self._stop.set()

    def run(self) -> None:
        """Loop until `stop()`; on the way out, depose this process and release the lock."""
        pid = os.getpid()
        reported = ""
        try:
            while not self._stop.is_set():
                if self.active.is_set():
                    if not self.lock.holds():
                        log.warning(
                            "%s %s: lost the %s; standing by", self.label, pid, self.lock.describe()
                        )
                        self._depose()
                        reported = "lost"
                        continue  # try again at once: a restarted server may be back already
                else:
                    state = self._try()
                    if state == "won":
                        log.info(
                            "%s %s: active (holds the %s)", self.label, pid, self.lock.describe()
                        )
                        self.active.set()
                        try:
                            self.on_elected()
                        except Exception:  # e.g. the database went away as we started
                            log.exception("%s %s: could not start; standing by", self.label, pid)
                            self._depose()
                            state = "failed"
                        reported = state
                    elif state != reported:
                        log.info(
                            "%s %s: standby (%s); trying every %s s",
                            self.label,
                            pid,
                            "another process is active"
                            if state == "held"
                            else "the lock cannot be reached",
                            self.poll_seconds,
                        )
                        reported = state
                self._stop.wait(self.poll_seconds)
        finally:
            if self.active.is_set():
                self._depose()
            self.lock.release()

    def _try(self) -> str:
        try:
            return "won" if self.lock.try_acquire() else "held"
        except LeaderLockError:
            return "unreachable"

    def _depose(self) -> None:
        self.active.clear()
        try:
            self.on_deposed()
        finally:
            self.lock.release()
