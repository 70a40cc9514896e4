"""The scheduler survives its own death (issue 18, sections 3 and 4), with real processes:
two `navigator scheduler` processes on a real PostgreSQL database, the real fake Twilio (in
this process, each send held 0.1 s so sends are in flight) and the real `twilio` client.

Protects:
- exactly one of two schedulers is active, the other stands by;
- `kill -9` of the active one mid-send: the standby is active within 30 s (issue 18 §3), and
  every queued text reaches the fake Twilio exactly once (counted by navigator's message id,
  which each accepted message carries in its status callback URL);
- PostgreSQL restarted under the active scheduler (§4): it stands down when its lock
  connection is lost, comes back without a restart, and every text still goes exactly once.

Short by default (about a minute together); `NAVIGATOR_FAULTS_LONG=1` queues more messages and
kills the active scheduler several times. Skipped unless NAVIGATOR_TEST_DATABASE_URL is
PostgreSQL; each test uses a database of its own (or a server of its own), never the shared
test database.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from navigator.core.settings import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN
from navigator.sms.fake_twilio import FakeTwilio
from navigator.sms.plan import DEFAULT_PATH
from tests.cluster.scheduler_support import (
    PROJECT_ROOT,
    Scheduler,
    accepted_by_fake,
    fresh_database,
    queue_messages,
    scheduler_env,
    start_scheduler,
    statuses,
    wait_for,
)

LONG = os.environ.get("NAVIGATOR_FAULTS_LONG") == "1"
MESSAGES = 1000 if LONG else 200
KILLS = 3 if LONG else 1
FAIL_OVER_SECONDS = 30  # issue 18 §3
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def server_url() -> str:
    url = os.environ.get("NAVIGATOR_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs NAVIGATOR_TEST_DATABASE_URL pointing at PostgreSQL")
    return url


@pytest.fixture
def follow_ups(tmp_path: Path) -> str:
    """The shipped follow-ups with quiet hours off, so the test sends at night too."""
    data = yaml.safe_load(DEFAULT_PATH.read_text())
    data["quiet_hours"] = {"start": "00:00", "end": "00:00"}
    path = tmp_path / "follow_ups.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    # Receipts go to a closed port (no web node here): the messages stay `sent`.
    fake = FakeTwilio(
        account_sid=DEV_TWILIO_ACCOUNT_SID,
        auth_token=DEV_TWILIO_AUTH_TOKEN,
        public_base_url="http://127.0.0.1:9",
    ).start()
    fake.callbacks_enabled = False
    fake.slow_seconds = 0.1  # each send in flight for 0.1 s, so a kill lands mid-send
    yield fake
    fake.stop()


def the_active(schedulers: list[Scheduler]) -> Scheduler:
    """The one active scheduler, once exactly one is active and every other stands by."""

    def settled() -> Scheduler | None:
        states = [s.state() for s in schedulers if s.process.poll() is None]
        if states.count("active") == 1 and states.count("standby") == len(states) - 1:
            return next(s for s in schedulers if s.state() == "active")
        return None

    found: Scheduler = wait_for(settled, 60, "exactly one active scheduler")
    return found


def assert_each_sent_once(fake: FakeTwilio, ids: list[str]) -> None:
    accepted = accepted_by_fake(fake)
    assert sorted(accepted) == sorted(ids), "every message reached Twilio, and nothing else"
    assert [i for i, n in accepted.items() if n > 1] == [], "sent twice"


def test_kill_9_of_the_active_scheduler_mid_send(
    server_url: str, fake: FakeTwilio, follow_ups: str, tmp_path: Path
) -> None:
    with fresh_database(server_url) as url:
        env = scheduler_env(url, fake, tmp_path, follow_ups)
        schedulers = [start_scheduler(env), start_scheduler(env)]
        try:
            active = the_active(schedulers)
            ids = queue_messages(url, MESSAGES)
            for kill in range(KILLS):
                already = len(fake.sent())
                # Mid-send: some of this round's messages accepted, not all.
                wait_for(lambda a=already: len(fake.sent()) >= a + 25, 60, "sends under way")
                active.kill()
                killed_at = time.monotonic()
                assert len(fake.sent()) < MESSAGES, "killed before the end"
                schedulers.remove(active)
                active = the_active(schedulers)
                taken_over = time.monotonic() - killed_at
                assert taken_over < FAIL_OVER_SECONDS, f"took over after {taken_over:.1f} s"
                if kill < KILLS - 1:  # a new standby, settled before the next kill
                    schedulers.append(start_scheduler(env))
                    assert the_active(schedulers) is active
            # The dead scheduler's claims are resolved after the lease (5 s): found at the
            # fake and marked sent, or re-queued and sent by the new active one.
            wait_for(lambda: statuses(url) == {"sent": MESSAGES}, 120, "every message sent")
            assert_each_sent_once(fake, ids)
            assert all(s.process.poll() is None for s in schedulers)
        finally:
            for scheduler in schedulers:
                scheduler.kill()
    for scheduler in schedulers:
        assert "Traceback" not in scheduler.log(), scheduler.log()


def pg_ctl(data_dir: Path, *args: str) -> None:
    command = [str(PG_BIN / "pg_ctl"), "-D", str(data_dir), *args]
    if os.getuid() == 0:  # as scripts/postgres: the server runs as `postgres`
        command = ["runuser", "-u", "postgres", "--", *command]
    # No pipes: the restarted server would inherit them and hold them open.
    subprocess.run(  # noqa: S603
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120
    )


@pytest.fixture
def own_server(server_url: str) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL server of this test's own (`scripts/postgres start`), which it may
    restart; stopped afterwards."""
    started = subprocess.run(  # noqa: S603
        [str(PROJECT_ROOT / "scripts" / "postgres"), "start"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines()
    )
    pg_dir = Path(exports["NAVIGATOR_PG_DIR"])
    try:
        yield exports["NAVIGATOR_PG_URL"], pg_dir
    finally:
        subprocess.run(  # noqa: S603
            [str(PROJECT_ROOT / "scripts" / "postgres"), "stop", str(pg_dir)],
            check=False,
            capture_output=True,
            timeout=120,
        )


def test_postgres_restarted_under_the_active_scheduler(
    own_server: tuple[str, Path], fake: FakeTwilio, follow_ups: str, tmp_path: Path
) -> None:
    url, pg_dir = own_server
    from navigator.core.migrations import upgrade

    upgrade(url)
    env = scheduler_env(url, fake, tmp_path, follow_ups)
    schedulers = [start_scheduler(env), start_scheduler(env)]
    try:
        the_active(schedulers)
        count = MESSAGES // 2
        ids = queue_messages(url, count)
        wait_for(lambda: len(fake.sent()) >= 20, 60, "sends under way")
        # Fast mode ends every connection; the log as scripts/postgres keeps it.
        pg_ctl(pg_dir / "data", "-l", str(pg_dir / "server.log"), "-m", "fast", "-w", "restart")
        # Both notice (the active one loses its lock connection), one is active again, and
        # neither process was restarted.
        wait_for(
            lambda: any("lost the PostgreSQL advisory lock" in s.log() for s in schedulers),
            60,
            "the active scheduler to notice",
        )
        the_active(schedulers)
        wait_for(lambda: statuses(url) == {"sent": count}, 120, "every message sent")
        assert_each_sent_once(fake, ids)
        assert all(s.process.poll() is None for s in schedulers), "recovered without a restart"
    finally:
        for scheduler in schedulers:
            scheduler.kill()
