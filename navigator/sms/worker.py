"""`navigator scheduler`: the process that sends texts and BaRS responses. Never started by
web workers. Run two or more (on different machines) for fail-over: exactly one is active.

**Leader election** (`navigator.core.leader`). Each process first stands by; every
`SCHEDULER_LEADER_POLL_SECONDS` it tries the leader lock (a PostgreSQL advisory lock on a
direct connection of its own, or a file lock beside an SQLite database). The winner builds
and starts a fresh APScheduler; the others keep trying, so when the active process dies
(`kill -9` closes its connection and PostgreSQL releases the lock) a standby is active within
about one poll. The active process checks its lock every poll; if it is gone (PostgreSQL
restarted, the network failed) it shuts its APScheduler down at once without waiting (a
running dispatch stops claiming before its next batch; what it has claimed it finishes) and
goes back to trying for the lock, so it recovers without a restart once the database is back.
Only the active process touches the job store: APScheduler's FAQ says a job store cannot be
shared by two running schedulers.

**Jobs.** APScheduler 3 (BackgroundScheduler) runs interval jobs kept in a persistent
SQLAlchemy job store on the app's database (table `apscheduler_jobs`) with fixed ids and
`replace_existing`, so each election resumes them rather than adding copies; `coalesce` and
`max_instances=1` stop a backlog running twice at once. The messages live in the outbox
tables, so killing the process loses nothing: the sweeper picks up whatever was mid-send.
`sms-dispatch` and `sms-sweep` run only when SMS is configured (`sms_configured`); without
any `TWILIO_*` setting the scheduler still sends BaRS responses (`bars-dispatch`) and says
that texts are not sent. Settings that are present but wrong (half of Twilio's, a lease too
short for the timeout) stop it at start (`startup_problems`).

**Exactly once** is the outbox's doing, not the lock's: a message is sent only by whoever
committed its claim (`navigator.sms.outbox`), so even two active schedulers (for at most one
poll, while a deposed one has not yet noticed) never send the same text twice.

**Throughput.** The dispatch job claims a batch (committed) and sends it through a
`SendPool` of `SMS_SEND_CONCURRENCY` threads, each with its own session and client, one
transaction per message as before: the provider's latency overlaps, the claim does not change.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor as FuturesPool
from concurrent.futures import wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.orm import Session

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.core.leader import LeaderElection, leader_lock
from navigator.core.migrations import JOBS_TABLE  # APScheduler's, outside the migrations
from navigator.sms.clients import SmsClient
from navigator.sms.clients.twilio import TwilioSettings, TwilioSmsClient
from navigator.sms.due import in_quiet_hours
from navigator.sms.models import FAILED, SCHEDULED, SENT
from navigator.sms.outbox import (
    FOUND,
    OutboxSettings,
    claim_due,
    resolve_stuck,
    send_claimed,
    stuck_messages,
)
from navigator.sms.plan import QuietHours
from navigator.sms.reference import FOLLOW_UP_PLAN

log = logging.getLogger(__name__)

LOCK_NAME = "navigator scheduler"
# The settings whose presence means "send texts through Twilio".
TWILIO_KEYS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_BASE",
)

_app: Flask | None = None
# Set while this process is the active scheduler; a running dispatch stops claiming once it
# is cleared. Set by default, so jobs run outside `run_scheduler` (tests) are not held back.
_active = threading.Event()
_active.set()


@dataclass
class DispatchReport:
    """What one `dispatch_due` did, in messages."""

    claimed: int = 0
    sent: int = 0
    found_at_twilio: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class SendPool:
    """Sends claimed messages `size` at a time: each thread pushes its own app context per
    message (so its own session, from the engine's pool) and keeps its own client (Twilio's
    client holds a `requests.Session`, which is not shared between threads). One transaction
    per message, as `send_claimed` expects. Use as a context manager; `close` waits for
    every send."""

    def __init__(self, app: Flask, size: int, new_client: Callable[[], SmsClient]) -> None:
        if size < 1:
            raise ValueError("a send pool needs at least one thread")
        self.app = app
        self.size = size
        self._new_client = new_client
        self._local = threading.local()
        self._executor = FuturesPool(size, thread_name_prefix="sms-send")

    def _client(self) -> SmsClient:
        client: SmsClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
        return client

    def _send_one(self, settings: OutboxSettings, quiet: QuietHours, message_id: str) -> str:
        with self.app.app_context():
            session = db.session()
            try:
                with transaction(session):
                    return send_claimed(session, self._client(), settings, quiet, message_id)
            finally:
                db.session.remove()

    def send(
        self, settings: OutboxSettings, quiet: QuietHours, message_ids: Sequence[str]
    ) -> list[str]:
        """Each message's outcome (`send_claimed`'s), in the order given. Every send has
        finished (or failed) before this returns or raises the first error."""
        futures = [self._executor.submit(self._send_one, settings, quiet, m) for m in message_ids]
        wait(futures)
        return [future.result() for future in futures]

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def __enter__(self) -> SendPool:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def _always() -> bool:
    return True


def dispatch_due(
    session: Session,
    client: SmsClient,
    settings: OutboxSettings,
    quiet: QuietHours,
    *,
    now: datetime | None = None,
    pool: SendPool | None = None,
    active: Callable[[], bool] = _always,
) -> DispatchReport:
    """Claim and send every message due by `now` (default: the current time), batch by batch
    of `settings.batch_size`; nothing during quiet hours. Commits each claimed batch before
    sending any of it, then each message once its outcome is recorded: one by one through
    `session` and `client`, or through `pool` (its own sessions and clients) when given.
    Stops before claiming another batch once `active()` is false (this process is no longer
    the active scheduler)."""
    given = now
    # Through a pool, claim one message per send thread: every claimed message starts at
    # once, so none waits behind others long enough to outlive its sending lease (which is
    # checked against two client timeouts, one message's worst case: H43).
    limit = settings.batch_size if pool is None else min(settings.batch_size, pool.size)
    now = now or utcnow()
    report = DispatchReport()
    if in_quiet_hours(now, quiet):
        return report
    while active():
        # Each batch's claim is stamped with the time it is made, not when this run began: a
        # backlog takes minutes, and a batch claimed "as of" the run's start would look past
        # its lease to the sweeper while still being sent, and be queued again (a duplicate).
        claimed_at = given or utcnow()
        # The claim is committed before the provider is called: another worker's claim then
        # skips these rows (or its conditional UPDATE changes nothing), so no two send one.
        with transaction(session):
            ids = claim_due(session, now=claimed_at, limit=limit)
        if not ids:
            break
        report.claimed += len(ids)
        if pool is not None:
            outcomes = pool.send(settings, quiet, ids)
        else:
            outcomes = []
            for message_id in ids:
                # One message per transaction, so an outcome is durable before the next send
                # and a crash leaves at most the messages not yet sent in `sending`.
                with transaction(session):
                    outcomes.append(send_claimed(session, client, settings, quiet, message_id))
        for outcome in outcomes:
            if outcome == SENT:
                report.sent += 1
            elif outcome == FOUND:
                report.found_at_twilio += 1
            elif outcome == SCHEDULED:
                report.retrying += 1
            elif outcome == FAILED:
                report.failed += 1
        if len(ids) < limit:
            break
    return report


def sweep_stuck(
    session: Session,
    client: SmsClient,
    settings: OutboxSettings,
    quiet: QuietHours,
    *,
    now: datetime | None = None,
) -> int:
    """Resolve every message stuck in `sending` past the lease (`outbox.resolve_stuck`);
    returns how many were dealt with. Commits after the listing and after each message, so
    no transaction stays open while the provider is asked."""
    now = now or utcnow()
    with transaction(session):
        stuck = stuck_messages(session, settings, now=now)
    dealt = 0
    for message_id in stuck:
        with transaction(session):
            if resolve_stuck(session, client, settings, quiet, message_id, now=now):
                dealt += 1
    return dealt


def _run(job: str) -> None:
    app = _app
    assert app is not None, "the scheduler sets the app before starting jobs"
    with app.app_context():
        settings = OutboxSettings.from_config(app.config)
        client = TwilioSmsClient.from_config(app.config)
        session = db.session()
        quiet = FOLLOW_UP_PLAN.get().quiet_hours
        try:
            if job == "dispatch":
                size = int(app.config["SMS_SEND_CONCURRENCY"])
                with SendPool(app, size, lambda: TwilioSmsClient.from_config(app.config)) as pool:
                    report = dispatch_due(
                        session, client, settings, quiet, pool=pool, active=_active.is_set
                    )
                if report.claimed:
                    log.info("sms dispatch: %s", report)
            else:
                if swept := sweep_stuck(session, client, settings, quiet):
                    log.info("sms sweep: %s messages stuck in sending dealt with", swept)
        finally:
            db.session.remove()


def dispatch_job() -> None:
    _run("dispatch")


def sweep_job() -> None:
    _run("sweep")


def _enter_app_context(app: Flask) -> None:
    """A scheduler thread's initializer: the app's context for the thread's whole life."""
    app.app_context().push()


def sms_configured(config: Mapping[str, Any]) -> bool:
    """Whether any Twilio setting is given (`TWILIO_API_BASE` alone, to a local fake, fills
    in development credentials: `navigator.core.settings.twilio_settings`). With none, the
    scheduler sends no texts; with some but not all, `startup_problems` names what is
    missing."""
    return any(config.get(key) for key in TWILIO_KEYS)


def build_scheduler(app: Flask, *, sms: bool | None = None) -> BackgroundScheduler:
    """A new, not yet started APScheduler with the jobs: `sms-dispatch` and `sms-sweep` when
    `sms` (default: `sms_configured`), and always `bars-dispatch`. Build a fresh one at each
    election: a scheduler that was shut down is not restarted."""
    global _app
    _app = app
    config = app.config
    if sms is None:
        sms = sms_configured(config)
    scheduler = BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(
                url=config["SQLALCHEMY_DATABASE_URI"], tablename=JOBS_TABLE
            )
        },
        # Each worker thread enters the app's context when it starts, so jobs named by
        # reference from packages sms may not import (navigator.bars.worker) find the app
        # through `current_app` without this module knowing them.
        executors={
            "default": ThreadPoolExecutor(
                3, pool_kwargs={"initializer": _enter_app_context, "initargs": (app,)}
            )
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    # The job store keeps these references; `replace_existing` rewrites them at each start,
    # before any job runs, so a job stored by an older release (which named
    # `navigator.sms.scheduler`) is replaced rather than left to fail.
    jobs: list[tuple[str, str, float]] = [
        # BaRS servicerequest-response messages to referral senders (issue 16).
        (
            "bars-dispatch",
            "navigator.bars.worker:dispatch_job",
            config["BARS_DISPATCH_INTERVAL_SECONDS"],
        ),
    ]
    if sms:
        jobs += [
            (
                "sms-dispatch",
                "navigator.sms.worker:dispatch_job",
                config["SMS_DISPATCH_INTERVAL_SECONDS"],
            ),
            ("sms-sweep", "navigator.sms.worker:sweep_job", config["SMS_SWEEP_INTERVAL_SECONDS"]),
        ]
    for job_id, func, seconds in jobs:
        scheduler.add_job(
            func,
            "interval",
            id=job_id,
            replace_existing=True,
            seconds=float(seconds),
            next_run_time=utcnow() + timedelta(seconds=0.1),  # sweep at once after election
        )
    return scheduler


def start_scheduler(scheduler: BackgroundScheduler) -> None:
    """Start a scheduler from `build_scheduler` with only its own jobs: any other job in the
    persistent store (`sms-dispatch` stored while SMS was configured, say) is removed before
    anything runs (started paused, then resumed)."""
    wanted = {job.id for job in scheduler.get_jobs()}  # the pending jobs, before the store's
    scheduler.start(paused=True)
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            log.info("scheduler: removing stored job %s, not run by these settings", job.id)
            scheduler.remove_job(job.id)
    scheduler.resume()


def startup_problems(app: Flask) -> list[str]:
    """Settings that are given but cannot work (half of Twilio's, a lease too short, no send
    threads); absent Twilio settings are not a problem (texts are then not sent)."""
    config = app.config
    out = []
    if float(config["SCHEDULER_LEADER_POLL_SECONDS"]) <= 0:
        out.append("SCHEDULER_LEADER_POLL_SECONDS must be more than 0")
    if sms_configured(config):
        twilio = TwilioSettings.from_config(config)
        outbox = OutboxSettings.from_config(config)
        out += twilio.problems() + outbox.problems(call_timeout=twilio.http_timeout)
        if int(config["SMS_SEND_CONCURRENCY"]) < 1:
            out.append("SMS_SEND_CONCURRENCY must be at least 1")
    return out


def run_scheduler(app: Flask) -> None:
    """Run until SIGTERM or SIGINT: standby, or active while this process holds the leader
    lock. SystemExit naming each problem if the settings are wrong (`startup_problems`)."""
    if problems := startup_problems(app):
        raise SystemExit("navigator scheduler: " + "; ".join(problems))
    config = app.config
    sms = sms_configured(config)
    if sms:
        api_base = config.get("TWILIO_API_BASE")
        log.info("scheduler: texts go to Twilio at %s", api_base or "api.twilio.com")
    elif not config.get("SMS_DISABLED"):
        # Refused rather than run quietly: lost Twilio settings after a redeploy would
        # otherwise leave every follow-up text queued with nobody told (hazards H20, H43).
        raise SystemExit(
            "navigator scheduler: no TWILIO_* settings, so follow-up texts would never be "
            "sent. Configure Twilio, or set SMS_DISABLED=1 to run without texts (BaRS "
            "responses only)."
        )
    else:
        log.warning(
            "scheduler: SMS_DISABLED and no TWILIO_* settings, so follow-up texts are not "
            "sent (they stay queued in the outbox); BaRS responses are sent"
        )
    lock = leader_lock(config["SQLALCHEMY_DATABASE_URI"], LOCK_NAME)
    running: list[BackgroundScheduler] = []
    stopping = threading.Event()

    def elected() -> None:
        # A fresh event per term: a dispatch still running from a term that ended (deposed
        # with wait=False) keeps the old, cleared one and claims nothing more, even if this
        # process wins the lock straight back.
        global _active
        _active = threading.Event()
        _active.set()
        scheduler = build_scheduler(app, sms=sms)
        running.append(scheduler)
        start_scheduler(scheduler)

    def deposed() -> None:
        _active.clear()  # a running dispatch claims no further batch
        while running:
            scheduler = running.pop()
            if scheduler.running:
                # On SIGTERM, finish the running jobs; on a lost lock, start nothing more
                # and do not wait (a job blocked on a dead database would hold us up).
                scheduler.shutdown(wait=stopping.is_set())

    election = LeaderElection(
        lock,
        poll_seconds=float(config["SCHEDULER_LEADER_POLL_SECONDS"]),
        on_elected=elected,
        on_deposed=deposed,
        label="scheduler",
    )

    def stop(signum: int, _frame: Any) -> None:
        log.info("scheduler: signal %s, finishing the running jobs", signum)
        stopping.set()
        election.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    election.run()
    log.info("scheduler: stopped")
