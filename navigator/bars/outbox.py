"""The outbox of BaRS `servicerequest-response` messages to the senders of referrals (issue 16
§1 "Referral status goes back to the sender"): writing a message with the status change,
claiming, sending, retrying, the sweep of messages stuck in `sending`, and the delivery state
the console shows. Nothing here commits: `navigator.bars.worker` commits between the steps.

States: scheduled → sending → sent | failed, or back to scheduled for a retry.

The guarantee:
- Never lost: `referral_status_changed` is called by `referrals.service.change_status`, so the
  message row is written in the same transaction as the referral's new status. It stays
  `scheduled` until a receiver has it or `BARS_MAX_ATTEMPTS` attempts failed (`failed`, shown
  on the referral's page through `navigator.bars.shown.deliveries`), or the receiver refused
  it for good (a 4xx other than 408/409 duplicate/425/429).
- Never twice: each message's `X-Request-Id` (`request_id`) is fixed when the row is written,
  so every retry, including one after an ambiguous failure (a timeout after the receiver took
  the message, a worker that died mid-send, found by the sweep after
  `BARS_SENDING_LEASE_SECONDS`), carries the same one. A BaRS receiver answers a repeated
  X-Request-Id with 409 `duplicate`, which counts as delivered, so it never processes a message
  twice. Only the worker that moved a row from `scheduled` to `sending` (a conditional UPDATE
  after `FOR UPDATE SKIP LOCKED` on PostgreSQL, committed before the HTTP call) sends it, and
  each outcome is recorded only if that claim is still the current one (`attempts` is the
  fencing token), so two workers never send one message at once.
- In order: a referral's messages are sent one at a time, oldest first (a completion never
  overtakes its acceptance); a later one waits while an earlier one is scheduled or sending.
- The endpoint is checked against `BARS_SENDER_ENDPOINTS` again before every send: a sender
  de-registered since the referral arrived gets nothing (`failed`, "endpoint not registered").
`last_error` holds HTTP statuses, issue codes and exception type names only, never content.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, aliased

from navigator.bars.client import BarsClient, BarsTransportError, Delivery
from navigator.bars.endpoints import allowed_endpoint
from navigator.bars.models import (
    FAILED,
    SCHEDULED,
    SENDING,
    SENT,
    BarsOutboxMessage,
    BarsReferral,
    BarsRequest,
)
from navigator.bars.response_message import ENCOUNTER_STATUS, ResponseFacts, build_response
from navigator.bars.terms import NHS_NUMBER_SYSTEM
from navigator.core.db import utcnow
from navigator.core.retries import doubling_backoff

log = logging.getLogger(__name__)

# The referral statuses that go back to the sender (issue 16: accept, reject, complete).
RESPONDED = tuple(ENCOUNTER_STATUS)
# HTTP answers worth another attempt: timeout, too early (the receiver is still processing this
# X-Request-Id), too many requests, and every server error.
RETRYABLE = {408, 425, 429}
# What `send_claimed` reports besides a state: not ours to send (no longer our claim).
SKIPPED = "skipped"
BATCH_SIZE = 20


class ReferralLike(Protocol):
    """What the outbox reads of a referral (referrals sit above bars in the layers)."""

    id: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class OutboxSettings:
    """The `BARS_*` settings for sending (times in seconds)."""

    max_attempts: int
    retry_base: float
    retry_max: float
    lease: float
    timeout: float
    sender_endpoints: tuple[str, ...]
    batch_size: int = BATCH_SIZE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutboxSettings:
        return cls(
            max_attempts=int(config["BARS_MAX_ATTEMPTS"]),
            retry_base=float(config["BARS_RETRY_BASE_SECONDS"]),
            retry_max=float(config["BARS_RETRY_MAX_SECONDS"]),
            lease=float(config["BARS_SENDING_LEASE_SECONDS"]),
            timeout=float(config["BARS_HTTP_TIMEOUT_SECONDS"]),
            sender_endpoints=tuple(config["BARS_SENDER_ENDPOINTS"]),
        )

    def problems(self) -> list[str]:
        """What stops sending safely (the worker skips BaRS dispatch while any is present)."""
        out = []
        if self.lease <= 2 * self.timeout:
            out.append(
                "BARS_SENDING_LEASE_SECONDS must be more than twice BARS_HTTP_TIMEOUT_SECONDS"
            )
        if self.max_attempts < 1:
            out.append("BARS_MAX_ATTEMPTS must be at least 1")
        return out

    def backoff(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """The wait before the next attempt: doubling from `retry_base` with each attempt made,
        at most `retry_max`; a receiver's Retry-After is honoured as a minimum (itself capped
        at `retry_max`, so a receiver cannot park a message for days)."""
        wait = doubling_backoff(attempts, self.retry_base, self.retry_max)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=min(self.retry_max, retry_after)))
        return wait


# --- writing a message with the status change ---------------------------------------------------


def _nhs_number(session: Session, referral_id: str) -> str | None:
    """The NHS number the sender's own first request carried for this referral, if any."""
    body = session.scalar(
        select(BarsRequest.bundle)
        .where(BarsRequest.referral_id == referral_id, BarsRequest.bundle.is_not(None))
        .order_by(BarsRequest.id)
        .limit(1)
    )
    try:
        bundle = json.loads(body) if body else None
    except ValueError:  # kept as received; an XML body carries no number we read here
        return None
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            for identifier in resource.get("identifier") or []:
                if isinstance(identifier, dict) and identifier.get("system") == NHS_NUMBER_SYSTEM:
                    value = identifier.get("value")
                    return str(value) if value else None
    return None


def _navigator_base() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + "/fhir"


def referral_status_changed(
    session: Session,
    referral: ReferralLike,
    *,
    reason: str | None = None,
    now: datetime,
) -> BarsOutboxMessage | None:
    """Queue the `servicerequest-response` for `referral`'s new status, in the caller's
    transaction, if the referral came by BaRS (a `BarsReferral` row) and the status is one
    that goes back (accepted, rejected with `reason`, completed). Returns the new row, or None
    when nothing is sent. Needs an app context (navigator's public base URL)."""
    if referral.status not in RESPONDED:
        return None
    sender = session.get(BarsReferral, referral.id)
    if sender is None:
        return None
    earlier = session.scalar(
        select(func.count())
        .select_from(BarsOutboxMessage)
        .where(BarsOutboxMessage.referral_id == referral.id)
    )
    message_id = str(uuid.uuid4())
    bundle = build_response(
        ResponseFacts(
            message_id=message_id,
            header_id=str(uuid.uuid4()),
            now=now,
            referral_id=referral.id,
            referral_status=referral.status,
            rejection_reason=reason if referral.status == "rejected" else None,
            first=not earlier,
            referral_created_at=referral.created_at,
            request_message_id=sender.request_message_id,
            service_request_id=sender.service_request_id,
            sender_endpoint=sender.sender_endpoint,
            sender_name=sender.sender_name,
            target_identifier=sender.target_identifier,
            navigator_base=_navigator_base(),
            nhs_number=_nhs_number(session, referral.id),
        )
    )
    message = BarsOutboxMessage(
        id=message_id,
        referral_id=referral.id,
        request_id=str(uuid.uuid4()),  # the X-Request-Id of every attempt
        correlation_id=sender.correlation_id,
        endpoint=sender.sender_endpoint,
        referral_status=referral.status,
        bundle=bundle,
        state=SCHEDULED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


# --- claiming and sending -------------------------------------------------------------------------


def claim_due(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Move up to `limit` messages due by `now` to `sending` (attempts + 1); returns their
    ids. A message waits while an earlier one of its referral is scheduled or sending. Only the
    claimer may send them, and only once the caller has committed the claim."""
    earlier = aliased(BarsOutboxMessage)
    waiting_behind = exists().where(
        earlier.referral_id == BarsOutboxMessage.referral_id,
        earlier.state.in_((SCHEDULED, SENDING)),
        earlier.created_at < BarsOutboxMessage.created_at,
    )
    candidates = session.scalars(
        select(BarsOutboxMessage.id)
        .where(
            BarsOutboxMessage.state == SCHEDULED,
            BarsOutboxMessage.next_attempt_at <= now,
            ~waiting_behind,
        )
        .order_by(BarsOutboxMessage.next_attempt_at, BarsOutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=BarsOutboxMessage)  # PostgreSQL; SQLite: below
    ).all()
    claimed = []
    for message_id in candidates:
        result = session.execute(
            update(BarsOutboxMessage)
            .where(BarsOutboxMessage.id == message_id, BarsOutboxMessage.state == SCHEDULED)
            .values(state=SENDING, attempts=BarsOutboxMessage.attempts + 1, claimed_at=now)
        )
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(message_id)
    return claimed


def _record(
    session: Session, message: BarsOutboxMessage, attempts: int, values: dict[str, Any]
) -> bool:
    """Apply `values` if the message is still in `sending` under the claim that made attempt
    number `attempts` (a claim taken over by the sweep and another worker is not ours)."""
    result = session.execute(
        update(BarsOutboxMessage)
        .where(
            BarsOutboxMessage.id == message.id,
            BarsOutboxMessage.state == SENDING,
            BarsOutboxMessage.attempts == attempts,
        )
        .values(values)
    )
    return getattr(result, "rowcount", 0) == 1


def _outcome(delivery: Delivery) -> tuple[str, str | None]:
    """(SENT | SCHEDULED | FAILED, error) for a receiver's answer; SCHEDULED means retry."""
    status = delivery.status
    if 200 <= status < 300:
        return SENT, None
    if status == 409 and "duplicate" in delivery.issue_codes:
        return SENT, None  # the receiver already has this X-Request-Id: delivered before
    codes = f" ({', '.join(delivery.issue_codes)})" if delivery.issue_codes else ""
    error = f"HTTP {status}{codes}"
    if status in RETRYABLE or status >= 500:
        return SCHEDULED, error
    return FAILED, error  # 3xx (never followed) and every other 4xx: permanent


def send_claimed(
    session: Session, client: BarsClient, settings: OutboxSettings, message_id: str
) -> str:
    """Send one message whose claim the caller has committed and record the outcome: SENT,
    SCHEDULED (to retry), FAILED, or SKIPPED (no longer ours). Never raises for the receiver's
    behaviour; a database error propagates (the claim then expires and the sweep retries)."""
    message = session.get(BarsOutboxMessage, message_id, populate_existing=True)
    if message is None or message.state != SENDING:
        return SKIPPED
    attempts = message.attempts
    if not allowed_endpoint(message.endpoint, settings.sender_endpoints):
        error: str | None = "endpoint not registered in BARS_SENDER_ENDPOINTS"
        outcome, retry_after, status = FAILED, None, None
    else:
        try:
            delivery = client.post_message(
                message.endpoint,
                message.bundle,
                request_id=message.request_id,
                correlation_id=message.correlation_id,
            )
        except BarsTransportError as exc:
            outcome, error, retry_after, status = SCHEDULED, str(exc), None, None
        else:
            outcome, error = _outcome(delivery)
            retry_after, status = delivery.retry_after, delivery.status
    now = utcnow()
    if outcome == SCHEDULED and attempts >= settings.max_attempts:
        outcome = FAILED
        error = f"{error}; gave up after {attempts} attempts"
    values: dict[str, Any] = {"state": outcome, "claimed_at": None, "response_status": status}
    if outcome == SENT:
        values |= {"sent_at": now, "last_error": None}
    elif outcome == SCHEDULED:
        values |= {
            "next_attempt_at": now + settings.backoff(attempts, retry_after),
            "last_error": (error or "")[:500],
        }
    else:
        values["last_error"] = (error or "")[:500]
    if not _record(session, message, attempts, values):
        outcome = SKIPPED
    log.info("bars response %s: %s (attempt %s, HTTP %s)", message_id, outcome, attempts, status)
    return outcome


# --- messages whose sender died ----------------------------------------------------------------


def requeue_stuck(session: Session, settings: OutboxSettings, *, now: datetime) -> int:
    """Messages in `sending` past the lease (their worker died, or gave up long ago: the lease
    is over twice the HTTP timeout) go back to `scheduled`, due now, to be sent again with the
    same X-Request-Id; those out of attempts become `failed`. Returns how many changed."""
    cutoff = now - timedelta(seconds=settings.lease)
    stuck = (
        BarsOutboxMessage.state == SENDING,
        BarsOutboxMessage.claimed_at < cutoff,
    )
    failed = session.execute(
        update(BarsOutboxMessage)
        .where(*stuck, BarsOutboxMessage.attempts >= settings.max_attempts)
        .values(
            state=FAILED,
            claimed_at=None,
            last_error="stuck in sending after the last attempt; delivery unknown",
        )
    )
    requeued = session.execute(
        update(BarsOutboxMessage)
        .where(*stuck)
        .values(
            state=SCHEDULED,
            claimed_at=None,
            next_attempt_at=now,
            last_error="re-queued after the sending lease expired",
        )
    )
    return int(getattr(failed, "rowcount", 0) or 0) + int(getattr(requeued, "rowcount", 0) or 0)
