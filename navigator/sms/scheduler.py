"""`navigator scheduler`: the one process that sends texts. Never started by web workers.

APScheduler 3 runs two interval jobs, kept in a persistent SQLAlchemy job store on the
app's database (table `apscheduler_jobs`) with fixed ids and `replace_existing`, so a restart
resumes them rather than adding copies; `coalesce` and `max_instances=1` stop a backlog
running twice at once. The messages themselves live in the outbox table, so stopping or
killing this process loses nothing: the sweeper picks up whatever was mid-send.
"""

from __future__ import annotations

import logging
import signal
from datetime import timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from navigator.core.db import utcnow
from navigator.core.extensions import db
from navigator.sms.reference import FOLLOW_UP_PLAN
from navigator.sms.sender import SmsSettings, dispatch_due, sweep_stuck, twilio_client

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"  # APScheduler's own table, outside navigator's migrations
_app: Flask | None = None


def _run(job: str) -> None:
    assert _app is not None, "the scheduler sets the app before starting jobs"
    with _app.app_context():
        settings = SmsSettings.from_config(_app.config)
        client = twilio_client(settings)
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
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    jobs: list[tuple[str, str, float]] = [
        (
            "sms-dispatch",
            "navigator.sms.scheduler:dispatch_job",
            config["SMS_DISPATCH_INTERVAL_SECONDS"],
        ),
        ("sms-sweep", "navigator.sms.scheduler:sweep_job", config["SMS_SWEEP_INTERVAL_SECONDS"]),
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


def run_scheduler(app: Flask) -> None:
    settings = SmsSettings.from_config(app.config)
    if problems := settings.problems():
        raise SystemExit("navigator scheduler: " + "; ".join(problems))
    scheduler = build_scheduler(app)

    def stop(signum: int, _frame: Any) -> None:
        log.info("scheduler: signal %s, finishing the running jobs", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler: sending texts (Twilio at %s)", settings.api_base or "api.twilio.com")
    scheduler.start()
    log.info("scheduler: stopped")
