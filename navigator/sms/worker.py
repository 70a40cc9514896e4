"""`navigator scheduler`: the one process that sends texts. Never started by web workers.

APScheduler 3 runs two interval jobs, kept in a persistent SQLAlchemy job store on the
app's database (table `apscheduler_jobs`) with fixed ids and `replace_existing`, so a restart
resumes them rather than adding copies; `coalesce` and `max_instances=1` stop a backlog
running twice at once. The messages themselves live in the outbox table, so stopping or
killing this process loses nothing: the sweeper picks up whatever was mid-send.

The jobs drive the outbox (`navigator.sms.outbox`, which never commits) and own its unit of
work: `dispatch_due` and `sweep_stuck` commit after each step, as said there.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.orm import Session

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
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

_app: Flask | None = None


@dataclass
class DispatchReport:
    """What one `dispatch_due` did, in messages."""

    claimed: int = 0
    sent: int = 0
    found_at_twilio: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def dispatch_due(
    session: Session,
    client: SmsClient,
    settings: OutboxSettings,
    quiet: QuietHours,
    *,
    now: datetime | None = None,
) -> DispatchReport:
    """Claim and send every message due by `now` (default: the current time), batch by batch
    of `settings.batch_size`; nothing during quiet hours. Commits each claimed batch before
    sending any of it, then each message once its outcome is recorded."""
    now = now or utcnow()
    report = DispatchReport()
    if in_quiet_hours(now, quiet):
        return report
    while True:
        # The claim is committed before the provider is called: another worker's claim then
        # skips these rows (or its conditional UPDATE changes nothing), so no two send one.
        with transaction(session):
            ids = claim_due(session, now=now, limit=settings.batch_size)
        if not ids:
            break
        report.claimed += len(ids)
        for message_id in ids:
            # One message per transaction, so an outcome is durable before the next send and
            # a crash leaves at most the messages not yet sent in `sending`, for the sweeper.
            with transaction(session):
                outcome = send_claimed(session, client, settings, quiet, message_id)
            if outcome == SENT:
                report.sent += 1
            elif outcome == FOUND:
                report.found_at_twilio += 1
            elif outcome == SCHEDULED:
                report.retrying += 1
            elif outcome == FAILED:
                report.failed += 1
        if len(ids) < settings.batch_size:
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
    assert _app is not None, "the scheduler sets the app before starting jobs"
    with _app.app_context():
        settings = OutboxSettings.from_config(_app.config)
        client = TwilioSmsClient.from_config(_app.config)
        session = db.session()
        quiet = FOLLOW_UP_PLAN.get().quiet_hours
        try:
            if job == "dispatch":
                report = dispatch_due(session, client, settings, quiet)
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


def build_scheduler(app: Flask) -> BlockingScheduler:
    global _app
    _app = app
    config = app.config
    scheduler = BlockingScheduler(
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
        (
            "sms-dispatch",
            "navigator.sms.worker:dispatch_job",
            config["SMS_DISPATCH_INTERVAL_SECONDS"],
        ),
        ("sms-sweep", "navigator.sms.worker:sweep_job", config["SMS_SWEEP_INTERVAL_SECONDS"]),
        # BaRS servicerequest-response messages to referral senders (issue 16).
        (
            "bars-dispatch",
            "navigator.bars.worker:dispatch_job",
            config["BARS_DISPATCH_INTERVAL_SECONDS"],
        ),
    ]
    for job_id, func, seconds in jobs:
        options: dict[str, Any] = {"seconds": float(seconds)}
        scheduler.add_job(
            func,
            "interval",
            id=job_id,
            replace_existing=True,
            next_run_time=utcnow() + timedelta(seconds=0.1),  # sweep at once after a restart
            **options,
        )
    return scheduler


def startup_problems(app: Flask) -> list[str]:
    """What stops the worker sending (missing Twilio settings, a lease too short)."""
    twilio = TwilioSettings.from_config(app.config)
    outbox = OutboxSettings.from_config(app.config)
    return twilio.problems() + outbox.problems(call_timeout=twilio.http_timeout)


def run_scheduler(app: Flask) -> None:
    """Run the worker in the foreground until SIGTERM or SIGINT; SystemExit naming each
    problem if the settings cannot send."""
    if problems := startup_problems(app):
        raise SystemExit("navigator scheduler: " + "; ".join(problems))
    scheduler = build_scheduler(app)

    def stop(signum: int, _frame: Any) -> None:
        log.info("scheduler: signal %s, finishing the running jobs", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    api_base = app.config.get("TWILIO_API_BASE")
    log.info("scheduler: sending texts (Twilio at %s)", api_base or "api.twilio.com")
    scheduler.start()
    log.info("scheduler: stopped")
