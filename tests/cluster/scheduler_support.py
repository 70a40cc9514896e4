"""Helpers for the scheduler fault tests (`test_scheduler_failover.py`, and
`tests/sms/test_worker.py`): a fresh PostgreSQL database per test, outbox rows queued due now,
real `navigator scheduler` processes whose log lines are collected, and the fake Twilio's
record of what it accepted, counted by navigator's message id."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import make_url

from navigator.core.db import utcnow
from navigator.core.migrations import upgrade
from navigator.sms.fake_twilio import FakeTwilio
from navigator.sms.models import SmsMessage

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAVIGATOR = Path(sys.executable).parent / "navigator"


def wait_for(condition: Callable[[], Any], timeout: float, what: str = "condition") -> Any:
    """Poll `condition` every 0.1 s until it is truthy; AssertionError naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, migrated database on the server of `server_url` (never the shared test
    database, which the rest of the suite empties); dropped afterwards."""
    name = f"navigator_fault_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(libpq(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def queue_messages(database_url: str, count: int, *, tag: str = "F") -> list[str]:
    """`count` follow-up texts in the outbox, due now, each to its own number with its own
    reference in the body (as `navigator.sms.due` writes them); their ids."""
    now = utcnow()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "follow_up": "ucr-4h",
            "to_number": f"+4477009{number:05d}",
            "body": f"NHS BLMK care navigation, ref {tag}-{number}. Reply STOP to stop.",
            "status": "scheduled",
            "due_at": now - timedelta(seconds=1),
            "next_attempt_at": now - timedelta(seconds=1),
            "attempts": 0,
        }
        for number in range(count)
    ]
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(SmsMessage), rows)
    finally:
        engine.dispose()
    return [row["id"] for row in rows]


def statuses(database_url: str) -> Counter[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return Counter(conn.scalars(select(SmsMessage.status)))
    finally:
        engine.dispose()


def accepted_by_fake(fake: FakeTwilio) -> Counter[str]:
    """How many times the fake accepted each navigator message id (its status callback URL
    carries `?message_id=`, `navigator.sms.clients.twilio.TwilioSettings.status_callback`)."""
    ids: Counter[str] = Counter()
    for message in fake.sent():
        query = parse_qs(urlparse(message["status_callback"] or "").query)
        ids[(query.get("message_id") or ["?"])[0]] += 1
    return ids


@dataclass
class Scheduler:
    """A running `navigator scheduler`, its stderr collected line by line by a thread."""

    process: subprocess.Popen[bytes]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def _collect(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    @property
    def pid(self) -> int:
        return self.process.pid

    def state(self) -> str | None:
        """ "active" or "standby" from its last leader log line, None before the first."""
        for line in reversed(list(self.lines)):
            if f"scheduler {self.pid}: active" in line:
                return "active"
            if f"scheduler {self.pid}: standby" in line or f"scheduler {self.pid}: lost" in line:
                return "standby"
        return None

    def log(self) -> str:
        return "\n".join(self.lines[-60:])

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        """Read to the end of its stderr, then close the pipe (not left to the GC)."""
        if self.reader is not None:
            self.reader.join(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then wait (a bound, not a speed check); SIGKILL if it will not stop."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            raise
        finally:
            self._close()


def scheduler_env(
    database_url: str, fake: FakeTwilio, instance_dir: Path, follow_ups: str, **extra: str
) -> dict[str, str]:
    """The environment of a scheduler sending to `fake`, with short intervals and lease so a
    fail-over test takes seconds (the lease stays over twice the HTTP timeout)."""
    return (
        {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "SCHED"))}
        | {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-only-secret",
            "NAVIGATOR_INSTANCE_DIR": str(instance_dir),
            "NAVIGATOR_FOLLOW_UPS": follow_ups,
            "PUBLIC_BASE_URL": fake.public_base_url,
            "TWILIO_API_BASE": fake.url,
            "SMS_DISPATCH_INTERVAL_SECONDS": "0.3",
            "SMS_SWEEP_INTERVAL_SECONDS": "1",
            "SMS_SENDING_LEASE_SECONDS": "5",
            "SMS_HTTP_TIMEOUT_SECONDS": "2",
            "SMS_BATCH_SIZE": "20",
            "SMS_SEND_CONCURRENCY": "8",
            "SCHEDULER_LEADER_POLL_SECONDS": "1",
        }
        | extra
    )


def start_scheduler(env: dict[str, str]) -> Scheduler:
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(NAVIGATOR), "scheduler"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    scheduler = Scheduler(process)
    scheduler.reader = threading.Thread(target=scheduler._collect, daemon=True)
    scheduler.reader.start()
    return scheduler
