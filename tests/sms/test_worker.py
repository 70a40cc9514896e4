"""The worker (`navigator.sms.worker`, run by `navigator scheduler`): it owns the outbox's
commits, claiming before it sends, so a second worker never sends the same text; and as a
real process, killed with SIGKILL mid-run and restarted, it loses nothing and sends nothing
twice; SIGTERM stops it cleanly. Without Twilio settings it still runs (the BaRS job), one
active and any other standing by."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.core.migrations import JOBS_TABLE
from navigator.sms.clients.twilio import TwilioSettings, TwilioSmsClient
from navigator.sms.models import SCHEDULED, SENDING, SmsMessage
from navigator.sms.outbox import claim_due
from navigator.sms.plan import QuietHours
from navigator.sms.worker import dispatch_due, sweep_stuck
from tests.cluster.scheduler_support import start_scheduler as start_with_log
from tests.conftest import PROJECT_ROOT
from tests.sms.conftest import Live, care_home_call, load_care_home_directory, wait_for

NAVIGATOR = Path(sys.executable).parent / "navigator"
NO_QUIET = QuietHours(0, 0)


class SecondWorkerLooks(TwilioSmsClient):
    """The real client, which before each send looks at the outbox as a second worker would:
    the message's committed status, and what that worker could claim."""

    def __init__(self, live: Live) -> None:
        super().__init__(TwilioSettings.from_config(live.app.config))
        self.live = live
        self.seen: list[tuple[str, list[str]]] = []

    def send_sms(self, to: str, body: str, *, reference: str) -> str:
        with self.live.app.app_context():  # its own session and connection
            other = db.session()
            try:
                message = other.get(SmsMessage, reference)
                assert message is not None
                with transaction(other):
                    claimed = claim_due(other, now=utcnow(), limit=10)
                self.seen.append((message.status, claimed))
            finally:
                db.session.remove()
        return super().send_sms(to, body, reference=reference)


def test_a_claim_is_committed_before_twilio_is_called(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    client = SecondWorkerLooks(live)
    report = dispatch_due(live_session, client, live.settings(), NO_QUIET)
    assert (report.claimed, report.sent) == (2, 2)
    assert client.seen == [(SENDING, []), (SENDING, [])]  # committed, and not claimable
    assert len(live.fake.sent()) == 2


class SlowTwilio(TwilioSmsClient):
    """The real client, taking `delay` seconds longer per send (a slow provider)."""

    def __init__(self, live: Live, delay: float) -> None:
        super().__init__(TwilioSettings.from_config(live.app.config))
        self.delay = delay

    def send_sms(self, to: str, body: str, *, reference: str) -> str:
        time.sleep(self.delay)
        return super().send_sms(to, body, reference=reference)


def test_each_batch_of_a_backlog_is_claimed_with_its_own_time(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    """A backlog sent batch by batch: a later batch's lease starts when it is claimed, not
    when the run began, or the sweeper would take a message still being sent for a dead
    sender's and queue it again (review of issue 18: a duplicate text under a backlog)."""
    settings = dataclasses.replace(live.settings(), batch_size=1)
    report = dispatch_due(live_session, SlowTwilio(live, 0.3), settings, NO_QUIET)
    assert report.sent == 2
    first, second = sorted(
        live_session.scalars(
            select(SmsMessage.first_claimed_at).where(SmsMessage.id.in_(due_messages))
        )
    )
    assert first is not None and second is not None
    assert (second - first).total_seconds() >= 0.3


def test_the_sweep_commits_what_it_does(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    settings = live.settings()
    with transaction(live_session):
        claim_due(live_session, now=utcnow(), limit=10)  # and the sender dies
    later = utcnow() + timedelta(seconds=settings.lease + 1)
    assert sweep_stuck(live_session, live.client(), settings, NO_QUIET, now=later) == 2
    assert live.statuses() == [SCHEDULED, SCHEDULED]  # seen by another session


def start_scheduler(
    live: Live, database_url: str, follow_ups: str, tmp_path: Path, *, capture: bool = False
) -> Any:
    env = os.environ | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-only-secret",  # required, and shared by all nodes, on PostgreSQL
        "NAVIGATOR_INSTANCE_DIR": str(tmp_path),
        "NAVIGATOR_FOLLOW_UPS": follow_ups,
        "PUBLIC_BASE_URL": live.base_url,
        "TWILIO_API_BASE": live.fake.url,
        "SMS_DISPATCH_INTERVAL_SECONDS": "0.2",
        "SMS_SWEEP_INTERVAL_SECONDS": "0.5",
        "SMS_SENDING_LEASE_SECONDS": "1.5",
        "SMS_HTTP_TIMEOUT_SECONDS": "0.5",
        "SMS_BATCH_SIZE": "5",
        "SCHEDULER_LEADER_POLL_SECONDS": "0.5",
    }
    return subprocess.Popen(  # noqa: S603 - our own console script
        [str(NAVIGATOR), "scheduler"],
        cwd=PROJECT_ROOT,
        env=env,
        stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
    )


def test_killed_scheduler_loses_nothing_and_sends_nothing_twice(
    live: Live,
    live_session: Session,
    auth: dict[str, dict[str, str]],
    database_url: str,
    follow_ups_without_quiet_hours: str,
    tmp_path: Path,
) -> None:
    load_care_home_directory()
    client = live.app.test_client()
    for number in range(20):
        body = care_home_call(case_ref=f"K-{number}")
        assert (
            client.post("/api/v1/navigations", json=body, headers=auth["integrator"]).status_code
            == 201
        )
    live.make_due()
    live.fake.slow_seconds = 0.05
    first = start_scheduler(live, database_url, follow_ups_without_quiet_hours, tmp_path)
    try:
        wait_for(lambda: len(live.fake.sent()) >= 10, timeout=20)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert len(live.fake.sent()) < 40, "killed before the end"
    second = start_scheduler(
        live, database_url, follow_ups_without_quiet_hours, tmp_path, capture=True
    )
    try:
        wait_for(lambda: live.statuses() == ["delivered"] * 40, timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            # A bound, not a speed check: a loaded 2-core machine can take seconds to stop.
            _, stderr = second.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()  # close the pipe, or it leaks into a later test's GC
            raise
    assert second.returncode == 0, stderr.decode()[-2000:]
    counts = Counter(m["body"] for m in live.fake.sent())
    assert len(counts) == 40
    assert [body for body, n in counts.items() if n > 1] == []


def scheduler_without_sms_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_"))}
    return env | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-only-secret",  # required, and shared by all nodes, on PostgreSQL
        "NAVIGATOR_INSTANCE_DIR": str(tmp_path),
        "SCHEDULER_LEADER_POLL_SECONDS": "0.5",
        "SMS_DISABLED": "1",
    }


def test_without_twilio_settings_or_sms_disabled_the_scheduler_refuses_to_start(
    database_url: str, tmp_path: Path
) -> None:
    """Lost Twilio settings must not leave follow-ups queued with nobody told (H20, H43):
    running without texts is an explicit choice (review of issue 18)."""
    env = scheduler_without_sms_env(database_url, tmp_path)
    del env["SMS_DISABLED"]
    result = subprocess.run(  # noqa: S603
        [str(NAVIGATOR), "scheduler"], env=env, capture_output=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert b"SMS_DISABLED=1" in result.stderr


def test_the_scheduler_refuses_to_start_with_half_the_twilio_settings(
    database_url: str, tmp_path: Path
) -> None:
    """Given but wrong is an error; absent is not (next test)."""
    env = scheduler_without_sms_env(database_url, tmp_path) | {
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32
    }
    result = subprocess.run(  # noqa: S603
        [str(NAVIGATOR), "scheduler"], env=env, capture_output=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert b"TWILIO_AUTH_TOKEN" in result.stderr
    assert b"TWILIO_FROM" in result.stderr


def test_without_twilio_settings_the_scheduler_runs_the_bars_job_only(
    database_url: str, tmp_path: Path
) -> None:
    """BaRS responses must go out where SMS is not set up (issue 18 §3): the scheduler
    starts, says texts are not sent, and becomes active; a second one stands by (on SQLite
    too, through the file lock beside the database)."""
    env = scheduler_without_sms_env(database_url, tmp_path)
    first = start_with_log(env)
    try:
        wait_for(lambda: first.state() == "active", timeout=60)
        second = start_with_log(env)
        try:
            wait_for(lambda: second.state() == "standby", timeout=60)
            assert first.state() == "active"
        finally:
            assert second.terminate() == 0, second.log()
    finally:
        assert first.terminate() == 0, first.log()
    assert "SMS_DISABLED and no TWILIO_* settings" in first.log()
    assert "follow-up texts are not sent" in first.log()
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            jobs = set(conn.scalars(text(f"SELECT id FROM {JOBS_TABLE}")))  # noqa: S608
    finally:
        engine.dispose()
    assert jobs == {"bars-dispatch"}
