"""The outbox state machine: which messages are due, claiming them, and every status change
(scheduled → sending → sent → delivered | undelivered | failed, or back to scheduled for a
retry), through any `SmsClient`. Nothing here commits: each function works in the caller's
transaction, and `navigator.sms.worker` commits between the steps (see its `dispatch_due`).

The guarantee, and its limit:
- A message row is written with its navigation (persist first). It is sent only by whoever
  moved it from `scheduled` to `sending` (a conditional UPDATE, after `FOR UPDATE SKIP LOCKED`
  on PostgreSQL), and the caller commits that change before the provider is called.
- The provider hands navigator's message id back with every delivery receipt, so a message it
  accepted is recognised even when our process died before storing its id.
- A message retried after an ambiguous error (`SmsUnavailable`: a timeout, a lost connection,
  a 5xx) or found stuck in `sending` after the lease is first looked for at the provider
  (messages to that number since it was first claimed, matched on the exact body, which
  carries the navigation's reference). Only if the provider has no such message is it sent
  again.
So a message is lost only if it fails `SMS_MAX_ATTEMPTS` times (then it is `failed` and a
call-back task is opened), and a duplicate needs the provider to have accepted a message but
not yet list it when we look, at least one lease (`SMS_SENDING_LEASE_SECONDS`) later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from navigator.core.db import utcnow
from navigator.core.retries import doubling_backoff
from navigator.sms.clients import SmsClient, SmsClientError, SmsRejected
from navigator.sms.due import out_of_quiet_hours
from navigator.sms.models import (
    DELIVERED,
    FAILED,
    FINAL_STATUSES,
    SCHEDULED,
    SENDING,
    SENT,
    UNDELIVERED,
    SmsMessage,
)
from navigator.sms.plan import QuietHours
from navigator.sms.worklist import task_for_message

log = logging.getLogger(__name__)

# Forward-only: a status may replace only those of lower rank; final statuses never change.
RANK = {SCHEDULED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, UNDELIVERED: 3, FAILED: 3}
# What `send_claimed` reports besides a status: already at the provider, or not ours to send.
FOUND, SKIPPED = "found", "skipped"
# How far before a message's first claim its copy at the provider is looked for: the
# provider's clock and ours may differ.
CLOCK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class OutboxSettings:
    """The `SMS_*` settings for retrying and claiming (times in seconds)."""

    max_attempts: int
    retry_base: float
    retry_max: float
    lease: float
    batch_size: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutboxSettings:
        return cls(
            max_attempts=int(config["SMS_MAX_ATTEMPTS"]),
            retry_base=float(config["SMS_RETRY_BASE_SECONDS"]),
            retry_max=float(config["SMS_RETRY_MAX_SECONDS"]),
            lease=float(config["SMS_SENDING_LEASE_SECONDS"]),
            batch_size=int(config["SMS_BATCH_SIZE"]),
        )

    def problems(self, *, call_timeout: float) -> list[str]:
        """What stops sending through a client whose calls wait up to `call_timeout` seconds
        (the worker refuses to start with any)."""
        out = []
        if self.lease <= 2 * call_timeout:
            out.append("SMS_SENDING_LEASE_SECONDS must be more than twice SMS_HTTP_TIMEOUT_SECONDS")
        if self.max_attempts < 1:
            out.append("SMS_MAX_ATTEMPTS must be at least 1")
        return out

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt: doubling from `retry_base`, at most `retry_max`."""
        return doubling_backoff(attempts, self.retry_base, self.retry_max)


# --- status changes (all conditional, so concurrent writers cannot move a message back) ----


def advance(
    session: Session,
    message_id: str,
    status: str,
    *,
    now: datetime,
    sid: str | None = None,
    error: str | None = None,
) -> bool:
    """Move a message forward to `status` if it is not already there or beyond; store the
    provider's id (`sid`) when we learn it; open a `not_delivered` call-back task when it
    becomes `undelivered` or `failed`. Returns whether the status changed."""
    lower = [s for s, rank in RANK.items() if rank < RANK[status]]
    values: dict[str, Any] = {"status": status, "updated_at": now, "claimed_at": None}
    if sid:
        values["twilio_sid"] = func.coalesce(SmsMessage.twilio_sid, sid)
    if sid or status in (SENT, DELIVERED, UNDELIVERED):  # the provider has it
        values["sent_at"] = func.coalesce(SmsMessage.sent_at, now)
    if status in FINAL_STATUSES:
        values["finished_at"] = now
        values["last_error"] = error
    changed = session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.status.in_(lower))
        .values(values)
    )
    if getattr(changed, "rowcount", 0) == 1:
        if status in (UNDELIVERED, FAILED):
            message = session.get(SmsMessage, message_id, populate_existing=True)
            assert message is not None
            task_for_message(session, message, reason="not_delivered", now=now)
        return True
    if sid:  # already beyond (a receipt overtook the API response): just keep the SID
        session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id, SmsMessage.twilio_sid.is_(None))
            .values(twilio_sid=sid)
        )
    return False


def apply_receipt(
    session: Session,
    *,
    message_id: str | None,
    sid: str | None,
    status: str,
    error: str | None,
    now: datetime,
) -> bool:
    """A delivery receipt, already in navigator's statuses (`clients.twilio.delivery_status`),
    for the message with our `message_id`, else the provider's `sid`. Unknown messages are
    ignored; late or duplicate receipts change nothing. Returns whether the status changed."""
    if message_id is None and sid:
        message_id = session.scalar(select(SmsMessage.id).where(SmsMessage.twilio_sid == sid))
    if message_id is None or session.get(SmsMessage, message_id) is None:
        return False
    return advance(session, message_id, status, now=now, sid=sid, error=error)


# --- claiming and sending ---------------------------------------------------------------------


def claim_due(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Move up to `limit` messages due by `now` to `sending`; returns their ids. Only the
    claimer may send them, and only once the caller has committed the claim."""
    candidates = session.scalars(
        select(SmsMessage.id)
        .where(SmsMessage.status == SCHEDULED, SmsMessage.next_attempt_at <= now)
        .order_by(SmsMessage.next_attempt_at, SmsMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite relies on the UPDATE below
    ).all()
    claimed = []
    for message_id in candidates:
        result = session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id, SmsMessage.status == SCHEDULED)
            .values(
                status=SENDING,
                attempts=SmsMessage.attempts + 1,
                claimed_at=now,
                first_claimed_at=func.coalesce(SmsMessage.first_claimed_at, now),
                updated_at=now,
            )
        )
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(message_id)
    return claimed


def find_sent(client: SmsClient, message: SmsMessage) -> str | None:
    """The provider's id for a message it already has for this row (same number, same body,
    created since the row was first claimed), else None. Raises SmsClientError if the
    provider cannot be asked."""
    since = (message.first_claimed_at or message.created_at) - CLOCK_MARGIN
    return client.find_sent(message.to_number, message.body, since=since)


def _not_quiet(message: SmsMessage, at: datetime, quiet: QuietHours) -> datetime:
    """When a retry may go: out of quiet hours, except for an automatic reply (`reply_id`),
    which answers a text the home has just sent and may carry 999 advice."""
    return at if message.reply_id is not None else out_of_quiet_hours(at, quiet)


def _retry_or_fail(
    session: Session,
    message: SmsMessage,
    settings: OutboxSettings,
    quiet: QuietHours,
    *,
    error: str,
    permanent: bool,
    now: datetime,
) -> str:
    if permanent or message.attempts >= settings.max_attempts:
        advance(session, message.id, FAILED, now=now, error=error)
        return FAILED
    session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message.id, SmsMessage.status == SENDING)
        .values(
            status=SCHEDULED,
            claimed_at=None,
            next_attempt_at=_not_quiet(message, now + settings.backoff(message.attempts), quiet),
            last_error=error[:200],
            updated_at=now,
        )
    )
    return SCHEDULED


def send_claimed(
    session: Session,
    client: SmsClient,
    settings: OutboxSettings,
    quiet: QuietHours,
    message_id: str,
) -> str:
    """Send one message whose claim the caller has committed, and record the outcome:
    SENT, FOUND (already at the provider), SCHEDULED (to retry), FAILED, or SKIPPED (no
    longer `sending`, so not ours). A retry is first looked for at the provider."""
    message = session.get(SmsMessage, message_id, populate_existing=True)
    if message is None or message.status != SENDING:
        return SKIPPED
    outcome = SENT
    try:
        sid = find_sent(client, message) if message.attempts > 1 else None
        if sid:
            outcome = FOUND
        else:
            sid = client.send_sms(message.to_number, message.body, reference=message.id)
        advance(session, message.id, SENT, now=utcnow(), sid=sid)
    except SmsClientError as exc:
        outcome = _retry_or_fail(
            session,
            message,
            settings,
            quiet,
            error=str(exc),
            permanent=isinstance(exc, SmsRejected),
            now=utcnow(),
        )
    log.info("sms message %s: %s (attempt %s)", message_id, outcome, message.attempts)
    return outcome


# --- messages whose sender died ---------------------------------------------------------------


def stuck_messages(session: Session, settings: OutboxSettings, *, now: datetime) -> list[str]:
    """The ids of messages in `sending` past the lease: their sender died (or is so slow that
    it will have given up: the lease is over twice the client's timeout)."""
    cutoff = now - timedelta(seconds=settings.lease)
    return list(
        session.scalars(
            select(SmsMessage.id).where(
                SmsMessage.status == SENDING, SmsMessage.claimed_at < cutoff
            )
        )
    )


def resolve_stuck(
    session: Session,
    client: SmsClient,
    settings: OutboxSettings,
    quiet: QuietHours,
    message_id: str,
    *,
    now: datetime,
) -> bool:
    """A stuck message: look for it at the provider and mark it sent if found, else put it
    back in the queue (or fail it when out of attempts). False, changing nothing, when the
    provider cannot be asked (the message stays in `sending` for the next sweep)."""
    message = session.get(SmsMessage, message_id, populate_existing=True)
    if message is None:
        return False
    try:
        sid = find_sent(client, message)
    except SmsClientError:
        log.warning(
            "sms sweep: %s unavailable; message %s stays in sending", client.name, message_id
        )
        return False
    if sid:
        advance(session, message.id, SENT, now=now, sid=sid)
    elif message.attempts >= settings.max_attempts:
        advance(session, message.id, FAILED, now=now, error="stuck in sending")
    else:
        session.execute(
            update(SmsMessage)
            .where(
                SmsMessage.id == message.id,
                SmsMessage.status == SENDING,
                SmsMessage.claimed_at < now - timedelta(seconds=settings.lease),
            )
            .values(
                status=SCHEDULED,
                claimed_at=None,
                next_attempt_at=_not_quiet(message, now, quiet),
                last_error="re-queued after the sending lease expired",
                updated_at=now,
            )
        )
    return True


def message_counts(session: Session) -> dict[str, int]:
    """How many messages are in each status, e.g. {"delivered": 3, "scheduled": 1}."""
    rows = session.execute(select(SmsMessage.status, func.count()).group_by(SmsMessage.status))
    return {status: count for status, count in rows}
