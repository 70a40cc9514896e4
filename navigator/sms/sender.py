"""Sending the outbox through Twilio: claim under a row lock, send, record; retry with backoff;
sweep messages stuck in `sending`; apply delivery receipts without ever moving backwards.

The guarantee, and its limit:
- A message row is written with its navigation (persist first). It is sent only by whoever
  moved it from `scheduled` to `sending` (a conditional UPDATE, after `FOR UPDATE SKIP LOCKED`
  on PostgreSQL), and that change is committed before Twilio is called.
- Every status callback URL carries navigator's message id, so a message Twilio accepted is
  recognised even when our process died before storing the SID.
- A message retried after an ambiguous error (a timeout, a lost connection, a 5xx) or found
  stuck in `sending` after the lease is first looked for at Twilio (messages to that number
  since it was first claimed, matched on the exact body, which carries the navigation's
  reference). Only if Twilio has no such message is it sent again.
So a message is lost only if it fails `SMS_MAX_ATTEMPTS` times (then it is `failed` and a
call-back task is opened), and a duplicate needs Twilio to have accepted a message but not
yet list it when we look, at least one lease (`SMS_SENDING_LEASE_SECONDS`) later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from navigator.core.db import utcnow
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
from navigator.sms.scheduling import in_quiet_hours, out_of_quiet_hours
from navigator.sms.worklist import task_for_message

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"

# Forward-only: a status may replace only those of lower rank; final statuses never change.
RANK = {SCHEDULED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, UNDELIVERED: 3, FAILED: 3}
# Twilio's message statuses, as navigator's.
FROM_TWILIO = {
    "accepted": SENT,
    "scheduled": SENT,
    "queued": SENT,
    "sending": SENT,
    "sent": SENT,
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": UNDELIVERED,
    "failed": FAILED,
}


@dataclass(frozen=True)
class SmsSettings:
    account_sid: str | None
    auth_token: str | None
    from_number: str | None
    messaging_service_sid: str | None
    api_base: str | None
    public_base_url: str
    http_timeout: float
    max_attempts: int
    retry_base: float
    retry_max: float
    lease: float
    batch_size: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmsSettings:
        return cls(
            account_sid=config.get("TWILIO_ACCOUNT_SID"),
            auth_token=config.get("TWILIO_AUTH_TOKEN"),
            from_number=config.get("TWILIO_FROM"),
            messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID"),
            api_base=config.get("TWILIO_API_BASE"),
            public_base_url=config["PUBLIC_BASE_URL"].rstrip("/"),
            http_timeout=float(config["SMS_HTTP_TIMEOUT_SECONDS"]),
            max_attempts=int(config["SMS_MAX_ATTEMPTS"]),
            retry_base=float(config["SMS_RETRY_BASE_SECONDS"]),
            retry_max=float(config["SMS_RETRY_MAX_SECONDS"]),
            lease=float(config["SMS_SENDING_LEASE_SECONDS"]),
            batch_size=int(config["SMS_BATCH_SIZE"]),
        )

    def problems(self) -> list[str]:
        """What stops sending (the scheduler refuses to start with any)."""
        out = []
        if not (self.account_sid and self.auth_token):
            out.append("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
        if not (self.from_number or self.messaging_service_sid):
            out.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required")
        if self.lease <= 2 * self.http_timeout:
            out.append("SMS_SENDING_LEASE_SECONDS must be more than twice SMS_HTTP_TIMEOUT_SECONDS")
        if self.max_attempts < 1:
            out.append("SMS_MAX_ATTEMPTS must be at least 1")
        return out

    def status_callback(self, message_id: str) -> str:
        return f"{self.public_base_url}{STATUS_PATH}?{urlencode({'message_id': message_id})}"

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1)))


class RoutedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client with an explicit timeout, sending to `api_base` instead of
    api.twilio.com when one is configured (the local fake in development and tests)."""

    def __init__(self, *, timeout: float, api_base: str | None = None) -> None:
        super().__init__(timeout=timeout, logger=logging.getLogger("navigator.sms.twilio_http"))
        self.logger.setLevel(logging.WARNING)  # request logs would carry numbers and bodies
        self.api_base = api_base.rstrip("/") if api_base else None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.api_base and url.startswith(TWILIO_API):
            url = self.api_base + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client(settings: SmsSettings) -> Client:
    http = RoutedHttpClient(timeout=settings.http_timeout, api_base=settings.api_base)
    return Client(settings.account_sid, settings.auth_token, http_client=http)


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    found_at_twilio: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


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
    """Move a message forward to `status` if it is not already there or beyond; store the SID
    when we learn it. Returns whether the status changed. Does not commit."""
    lower = [s for s, rank in RANK.items() if rank < RANK[status]]
    values: dict[str, Any] = {"status": status, "updated_at": now, "claimed_at": None}
    if sid:
        values["twilio_sid"] = func.coalesce(SmsMessage.twilio_sid, sid)
    if sid or status in (SENT, DELIVERED, UNDELIVERED):  # Twilio has it
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


def apply_status_callback(
    session: Session,
    *,
    message_id: str | None,
    sid: str | None,
    twilio_status: str,
    error_code: str | None,
    now: datetime,
) -> bool:
    """A delivery receipt. Unknown messages and statuses are ignored; late or duplicate
    receipts change nothing. Does not commit."""
    status = FROM_TWILIO.get(twilio_status)
    if status is None:
        return False
    if message_id is None and sid:
        message_id = session.scalar(select(SmsMessage.id).where(SmsMessage.twilio_sid == sid))
    if message_id is None or session.get(SmsMessage, message_id) is None:
        return False
    error = f"Twilio error {error_code}" if error_code else None
    return advance(session, message_id, status, now=now, sid=sid, error=error)


# --- claiming and sending ---------------------------------------------------------------------


def claim_due(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Move up to `limit` due messages to `sending` and commit: only the claimer sends them."""
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
    session.commit()
    return claimed


def find_at_twilio(client: Client, message: SmsMessage) -> str | None:
    """The SID of a message Twilio already has for this row (same number, same body, created
    since the row was first claimed), else None. Raises if Twilio cannot be asked."""
    since = (message.first_claimed_at or message.created_at) - timedelta(minutes=5)
    for found in client.messages.list(to=message.to_number, date_sent_after=since, limit=100):
        if found.body == message.body and str(found.direction or "").startswith("outbound"):
            return found.sid
    return None


def _sender(settings: SmsSettings) -> dict[str, str]:
    if settings.messaging_service_sid:
        return {"messaging_service_sid": settings.messaging_service_sid}
    assert settings.from_number
    return {"from_": settings.from_number}


def _retry_or_fail(
    session: Session,
    message: SmsMessage,
    settings: SmsSettings,
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
            next_attempt_at=out_of_quiet_hours(now + settings.backoff(message.attempts), quiet),
            last_error=error[:200],
            updated_at=now,
        )
    )
    return SCHEDULED


def send_claimed(
    session: Session, client: Client, settings: SmsSettings, quiet: QuietHours, message_id: str
) -> str:
    """Send one message this process claimed; returns what happened. Commits."""
    message = session.get(SmsMessage, message_id, populate_existing=True)
    if message is None or message.status != SENDING:
        return "skipped"
    outcome = SENT
    try:
        sid = find_at_twilio(client, message) if message.attempts > 1 else None
        if sid:
            outcome = "found"
        else:
            sid = client.messages.create(
                to=message.to_number,
                body=message.body,
                status_callback=settings.status_callback(message.id),
                **_sender(settings),
            ).sid
        advance(session, message.id, SENT, now=utcnow(), sid=sid)
    except TwilioRestException as exc:
        # 4xx (bad number, unsubscribed, ...) will not get better; 429 and 5xx may.
        permanent = exc.status < 500 and exc.status != 429
        error = f"Twilio {exc.status} error {exc.code}"
        outcome = _retry_or_fail(
            session, message, settings, quiet, error=error, permanent=permanent, now=utcnow()
        )
    except (requests.RequestException, TwilioException) as exc:  # timeouts, lost connections
        error = f"{type(exc).__name__} talking to Twilio"
        outcome = _retry_or_fail(
            session, message, settings, quiet, error=error, permanent=False, now=utcnow()
        )
    session.commit()
    log.info("sms message %s: %s (attempt %s)", message_id, outcome, message.attempts)
    return outcome


def dispatch_due(
    session: Session,
    client: Client,
    settings: SmsSettings,
    quiet: QuietHours,
    *,
    now: datetime | None = None,
) -> DispatchReport:
    """Claim and send every due message, batch by batch (nothing during quiet hours)."""
    now = now or utcnow()
    report = DispatchReport()
    if in_quiet_hours(now, quiet):
        return report
    while ids := claim_due(session, now=now, limit=settings.batch_size):
        report.claimed += len(ids)
        for message_id in ids:
            outcome = send_claimed(session, client, settings, quiet, message_id)
            if outcome == SENT:
                report.sent += 1
            elif outcome == "found":
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
    client: Client,
    settings: SmsSettings,
    quiet: QuietHours,
    *,
    now: datetime | None = None,
) -> int:
    """Messages in `sending` past the lease (their sender died): look for them at Twilio and
    mark them sent if found, else put them back in the queue (or fail them when out of
    attempts). Returns how many were dealt with. Commits."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=settings.lease)
    stuck = session.scalars(
        select(SmsMessage).where(SmsMessage.status == SENDING, SmsMessage.claimed_at < cutoff)
    ).all()
    session.commit()
    dealt = 0
    for message in stuck:
        try:
            sid = find_at_twilio(client, message)
        except (TwilioException, requests.RequestException):
            log.warning("sms sweep: Twilio unavailable; message %s stays in sending", message.id)
            continue
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
                    SmsMessage.claimed_at < cutoff,
                )
                .values(
                    status=SCHEDULED,
                    claimed_at=None,
                    next_attempt_at=out_of_quiet_hours(now, quiet),
                    last_error="re-queued after the sending lease expired",
                    updated_at=now,
                )
            )
        session.commit()
        dealt += 1
    return dealt


def message_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(SmsMessage.status, func.count()).group_by(SmsMessage.status))
    return {status: count for status, count in rows}
