"""The scheduler job that sends BaRS `servicerequest-response` messages (issue 16).

`navigator scheduler` (built in `navigator.sms.worker.build_scheduler`, which names this job
by its string reference `navigator.bars.worker:dispatch_job`, every
`BARS_DISPATCH_INTERVAL_SECONDS`, in whichever scheduler process holds the leader lock: one
active of any number, `navigator.core.leader`; the job runs whether or not SMS is configured)
runs `dispatch_job` in a worker thread that already holds the
app's context (the scheduler's thread pool enters it when each thread starts), so this module
needs no import of the scheduler. Each run first re-queues messages stuck in `sending`, then
claims and sends what is due; `dispatch_due` and `sweep_stuck` own the unit of work and commit
after each step, as `navigator.bars.outbox` describes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from navigator.bars.client import BarsClient
from navigator.bars.models import FAILED, SCHEDULED, SENT
from navigator.bars.outbox import OutboxSettings, claim_due, requeue_stuck, send_claimed
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    """What one `dispatch_due` did, in messages."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def sweep_stuck(session: Session, settings: OutboxSettings) -> int:
    """Re-queue (or fail, when out of attempts) every message stuck in `sending` past the
    lease; commits; returns how many changed."""
    with transaction(session):
        return requeue_stuck(session, settings, now=utcnow())


def dispatch_due(session: Session, client: BarsClient, settings: OutboxSettings) -> DispatchReport:
    """Claim and send every message due now, batch by batch. Each claimed batch is committed
    before any of it is sent (another worker then skips those rows), and each message's
    outcome is committed before the next is sent (a crash leaves at most unsent messages in
    `sending`, for the sweep)."""
    report = DispatchReport()
    while True:
        with transaction(session):
            ids = claim_due(session, now=utcnow(), limit=settings.batch_size)
        if not ids:
            break
        report.claimed += len(ids)
        for message_id in ids:
            with transaction(session):
                outcome = send_claimed(session, client, settings, message_id)
            if outcome == SENT:
                report.sent += 1
            elif outcome == SCHEDULED:
                report.retrying += 1
            elif outcome == FAILED:
                report.failed += 1
        if len(ids) < settings.batch_size:
            break
    return report


def run_once(session: Session, client: BarsClient, settings: OutboxSettings) -> DispatchReport:
    """One run of the job: the sweep, then the dispatch."""
    if swept := sweep_stuck(session, settings):
        log.info("bars sweep: %s messages stuck in sending dealt with", swept)
    return dispatch_due(session, client, settings)


def dispatch_job() -> None:
    """The scheduler's job (needs the app context its thread holds). Does nothing, with a
    warning, while the BARS_* settings cannot send safely."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():  # a fresh context: the job's own scoped session
        settings = OutboxSettings.from_config(app.config)
        if problems := settings.problems():
            log.warning("bars dispatch skipped: %s", "; ".join(problems))
            return
        client = BarsClient(timeout=settings.timeout)
        session = db.session()
        try:
            report = run_once(session, client, settings)
            if report.claimed:
                log.info("bars dispatch: %s", report)
        finally:
            db.session.remove()
            client.http.close()
