"""Leader election (`navigator.core.leader`), with the real locks: PostgreSQL advisory locks on
real connections (skipped unless NAVIGATOR_TEST_DATABASE_URL is PostgreSQL) and `flock` on a
real file. Protects: at most one holder at a time; a holder that dies (`kill -9` of a real
process) or whose connection is closed or terminated frees the lock for another; a holder
whose connection is terminated notices (`holds()` turns false) and the election loop then
stops being active at once and becomes active again when it can.

Sources for the behaviour relied on: PostgreSQL's manual, "Advisory Locks" (session-level
locks are held until released or the session ends) and `pg_locks` (a two-key advisory lock
has classid, objid = the keys and objsubid = 2); flock(2) (the lock belongs to the open file
description and is released when it is closed, including at process exit)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from navigator.core import leader
from navigator.core.leader import (
    FileLock,
    LeaderElection,
    LeaderLock,
    LeaderLockError,
    PostgresAdvisoryLock,
    leader_lock,
)
from tests.sms.conftest import wait_for

LEADER_PY = Path(leader.__file__)


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("NAVIGATOR_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs NAVIGATOR_TEST_DATABASE_URL pointing at PostgreSQL")
    return url


@pytest.fixture
def lock_name() -> str:
    return f"test lock {uuid.uuid4()}"  # unique: tests never contend with each other


@pytest.fixture
def locks() -> Iterator[list[LeaderLock]]:
    made: list[LeaderLock] = []
    yield made
    for lock in made:
        lock.release()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def holder_process(code: str) -> subprocess.Popen[str]:
    """A Python process that takes a lock with `code` (which must define `lock`), prints
    `held` and waits to be killed."""
    # The module loaded from its file alone: importing the navigator package builds the
    # whole app, seconds on a loaded machine.
    program = (
        "import importlib.util, sys, time\n"
        f"spec = importlib.util.spec_from_file_location('leader', {str(LEADER_PY)!r})\n"
        "leader = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(leader)\n"
        "FileLock, PostgresAdvisoryLock = leader.FileLock, leader.PostgresAdvisoryLock\n"
        f"{code}\n"
        "assert lock.try_acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", program], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def killed(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    if process.stdout:
        process.stdout.close()


# --- PostgreSQL ------------------------------------------------------------------------------


def test_exactly_one_of_two_connections_gets_the_advisory_lock(
    pg_url: str, lock_name: str, locks: list[LeaderLock]
) -> None:
    first, second = PostgresAdvisoryLock(pg_url, lock_name), PostgresAdvisoryLock(pg_url, lock_name)
    locks += [first, second]
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    assert first.try_acquire() is True  # asking again while holding keeps it
    assert (first.holds(), second.holds()) == (True, False)
    first.release()  # closes its connection: the session, and so the lock, ends
    assert first.holds() is False
    wait_for(second.try_acquire, timeout=20)  # as soon as the server has ended that backend
    assert first.try_acquire() is False


def test_a_killed_holder_process_frees_the_advisory_lock(
    pg_url: str, lock_name: str, locks: list[LeaderLock]
) -> None:
    holder = holder_process(f"lock = PostgresAdvisoryLock({pg_url!r}, {lock_name!r})")
    waiting = PostgresAdvisoryLock(pg_url, lock_name)
    locks.append(waiting)
    try:
        assert waiting.try_acquire() is False
    finally:
        killed(holder)
    # PostgreSQL ends the backend when the dead process's socket closes: well within a poll.
    started = time.monotonic()
    wait_for(waiting.try_acquire, timeout=20)
    assert time.monotonic() - started < 20


def test_the_holder_notices_its_connection_was_terminated(
    pg_url: str, lock_name: str, locks: list[LeaderLock]
) -> None:
    holder, other = PostgresAdvisoryLock(pg_url, lock_name), PostgresAdvisoryLock(pg_url, lock_name)
    locks += [holder, other]
    assert holder.try_acquire()
    pid = holder.backend_pid()
    with psycopg.connect(libpq(pg_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: not holder.holds(), timeout=20)
    assert other.try_acquire() is True
    assert holder.try_acquire() is False  # reconnects, and finds the lock taken


def test_the_lock_connection_asks_for_tcp_keepalives(
    pg_url: str, lock_name: str, locks: list[LeaderLock]
) -> None:
    """Server-side keepalives are what free the lock of a holder whose host vanished."""
    lock = PostgresAdvisoryLock(pg_url, lock_name)
    locks.append(lock)
    assert lock.try_acquire()
    with psycopg.connect(libpq(pg_url), autocommit=True) as admin:
        row = admin.execute(
            "SELECT application_name FROM pg_stat_activity WHERE pid = %s", (lock.backend_pid(),)
        ).fetchone()
    assert row is not None and row[0].startswith("navigator leader")
    conn = lock._conn
    assert conn is not None
    assert conn.execute("SHOW tcp_keepalives_idle").fetchone() == ("5",)
    assert conn.execute("SHOW tcp_user_timeout").fetchone() == ("10000",)


def test_an_unreachable_server_is_an_error_not_a_refusal(lock_name: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lock = PostgresAdvisoryLock(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", lock_name)
    with pytest.raises(LeaderLockError):
        lock.try_acquire()
    assert lock.holds() is False


def test_the_election_steps_down_when_the_lock_is_lost_and_comes_back(
    pg_url: str, lock_name: str
) -> None:
    lock = PostgresAdvisoryLock(pg_url, lock_name)
    events: list[str] = []
    election = LeaderElection(
        lock,
        poll_seconds=0.2,
        on_elected=lambda: events.append("elected"),
        on_deposed=lambda: events.append("deposed"),
    )
    thread = threading.Thread(target=election.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: events == ["elected"], timeout=20)
        with psycopg.connect(libpq(pg_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (lock.backend_pid(),))
        # Noticed within a poll, deposed, and (the lock being free) elected again.
        wait_for(lambda: events == ["elected", "deposed", "elected"], timeout=20)
        assert election.active.is_set()
    finally:
        election.stop()
        thread.join(timeout=30)
    assert events == ["elected", "deposed", "elected", "deposed"]
    other = PostgresAdvisoryLock(pg_url, lock_name)
    try:
        assert other.try_acquire() is True  # released on the way out
    finally:
        other.release()


# --- SQLite: a file lock ---------------------------------------------------------------------


def test_exactly_one_file_lock_holder(tmp_path: Path, locks: list[LeaderLock]) -> None:
    url = f"sqlite:///{tmp_path / 'navigator.db'}"
    first, second = leader_lock(url, "navigator scheduler"), leader_lock(url, "navigator scheduler")
    locks += [first, second]
    assert isinstance(first, FileLock)
    assert first.path == tmp_path / "navigator.db.navigator-scheduler.lock"
    assert (first.try_acquire(), second.try_acquire()) == (True, False)
    first.release()
    assert (second.try_acquire(), first.try_acquire()) == (True, False)


def test_a_killed_holder_process_frees_the_file_lock(
    tmp_path: Path, locks: list[LeaderLock]
) -> None:
    path = tmp_path / "db.lock"
    holder = holder_process(f"from pathlib import Path\nlock = FileLock(Path({str(path)!r}))")
    waiting = FileLock(path)
    locks.append(waiting)
    try:
        assert waiting.try_acquire() is False
    finally:
        killed(holder)
    wait_for(waiting.try_acquire, timeout=10)


def test_a_deleted_lock_file_counts_as_lost(tmp_path: Path, locks: list[LeaderLock]) -> None:
    path = tmp_path / "db.lock"
    holder, other = FileLock(path), FileLock(path)
    locks += [holder, other]
    assert holder.try_acquire()
    path.unlink()  # someone tidied it away: another process could now lock a new file
    assert other.try_acquire() is True
    assert holder.holds() is False


def test_no_lock_for_an_in_memory_database() -> None:
    with pytest.raises(ValueError, match="memory"):
        leader_lock("sqlite:///:memory:", "navigator scheduler")
