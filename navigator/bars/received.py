"""Received BaRS messages: claiming an `X-Request-Id`, releasing or completing the claim, and
what navigator keeps of each referral's sender (`BarsReferral`). Issue 16; the design is in
`navigator/bars/models.py`.

A claim is the `BarsRequest` row, inserted (state `processing`) in a short transaction of its
own that the view commits before the message is processed. Its `claimed_at` is the claim's
token: releasing and completing the claim are conditional on it, so an attempt whose claim was
taken over after `BARS_PROCESSING_LEASE_SECONDS` can neither delete nor complete the new
owner's row, and its own work rolls back (one referral, whatever the retries).

Flushes, never commits: the callers own the units of work.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, column, delete, insert, select, table, update
from sqlalchemy.orm import Session

from navigator.bars.models import PROCESSED, PROCESSING, BarsReferral, BarsRequest
from navigator.core.db import insert_unless_exists
from navigator.core.errors import Problem

REQUESTS = cast(Table, BarsRequest.__table__)
_INSERT_REFERRAL = insert(cast(Table, BarsReferral.__table__))
# The referrals table's owner column (navigator.referrals sits above navigator.bars).
REFERRALS = table("referrals", column("id"), column("client_id"))

DUPLICATE = "This message has been recognised as having already been successfully processed."
TOO_EARLY = "A message with this X-Request-Id is still being processed: retry later."


def claim_request(
    session: Session,
    *,
    request_id: str,
    correlation_id: str,
    client_id: str,
    now: datetime,
    lease_seconds: float,
) -> datetime:
    """Claim `request_id` (a lower-case UUID) for this attempt; returns the claim's token (its
    `claimed_at`, `now`). Raises Problem 409 `duplicate` (REC_CONFLICT) when the id was
    processed, 425 (REC_TOO_EARLY) while another attempt holds it (claimed less than
    `lease_seconds` ago). An older claim is taken over: the first attempt died.

    Safe under concurrent retries: the insert is `ON CONFLICT DO NOTHING` on the unique
    `request_id` (PostgreSQL waits for a concurrent claim to commit; SQLite has one writer),
    and a take-over is an UPDATE conditional on the claim it replaces, so one attempt wins."""
    values = {
        "request_id": request_id,
        "correlation_id": correlation_id,
        "client_id": client_id[:64],
        "state": PROCESSING,
        "claimed_at": now,
    }
    if insert_unless_exists(session, BarsRequest, values, on=["request_id"]):
        return now
    held = session.execute(
        select(REQUESTS.c.state, REQUESTS.c.claimed_at).where(REQUESTS.c.request_id == request_id)
    ).first()
    if held is None:  # released between our insert and this read: a retry is judged afresh
        raise Problem(425, TOO_EARLY, headers={"Retry-After": "1"})
    state, claimed_at = held
    if state == PROCESSED:
        raise Problem(409, DUPLICATE, code="duplicate")
    if claimed_at > now - timedelta(seconds=lease_seconds):
        # When to come back: the claim's lease runs out then (and is taken over if the first
        # attempt died), so a sender need not poll (issue 18 fault test: a node killed
        # mid-message left its claim, and senders retried blind until the lease ended).
        left = (claimed_at + timedelta(seconds=lease_seconds) - now).total_seconds()
        raise Problem(425, TOO_EARLY, headers={"Retry-After": str(max(1, math.ceil(left)))})
    taken = session.execute(
        update(REQUESTS)
        .where(
            REQUESTS.c.request_id == request_id,
            REQUESTS.c.state == PROCESSING,
            REQUESTS.c.claimed_at == claimed_at,
        )
        .values(claimed_at=now, correlation_id=correlation_id, client_id=client_id[:64])
        .returning(REQUESTS.c.id)
    ).first()
    if taken is None:  # another retry took it over first
        raise Problem(425, TOO_EARLY)
    return now


def release_request(session: Session, request_id: str, claimed_at: datetime) -> None:
    """Forget this attempt's claim (the message was refused, or failed), so a retry with the
    same X-Request-Id is judged afresh. Leaves a claim another attempt has taken over."""
    session.execute(
        delete(REQUESTS).where(
            REQUESTS.c.request_id == request_id,
            REQUESTS.c.state == PROCESSING,
            REQUESTS.c.claimed_at == claimed_at,
        )
    )


def mark_processed(
    session: Session,
    request_id: str,
    claimed_at: datetime,
    *,
    now: datetime,
    event: str,
    reason: str,
    referral_id: str,
    bundle: str,
) -> None:
    """Complete this attempt's claim in the message's own transaction, keeping the Bundle as
    received. Raises Problem 425 when the claim was taken over meanwhile (the caller's
    transaction then rolls back: the other attempt's result stands)."""
    done = session.execute(
        update(REQUESTS)
        .where(
            REQUESTS.c.request_id == request_id,
            REQUESTS.c.state == PROCESSING,
            REQUESTS.c.claimed_at == claimed_at,
        )
        .values(
            state=PROCESSED,
            processed_at=now,
            event=event[:60],
            reason=reason[:20],
            referral_id=referral_id,
            bundle=bundle,
        )
        .returning(REQUESTS.c.id)
    ).first()
    if done is None:
        raise Problem(425, TOO_EARLY)


def find_bars_referral(
    session: Session, client_id: str, service_request_id: str, *, for_update: bool = False
) -> BarsReferral | None:
    """The referral navigator made for this client's ServiceRequest id (the newest, should a
    sender reuse one), or None. Scoped to the client (the API key's client reference, the
    referral's `client_id`), as the referral's idempotency key (client_id, `bars:<SR id>`) is:
    another client's ServiceRequest of the same id is never found, so neither a duplicate
    check nor a cancellation tells one integrator that another's id exists (review of issue
    16)."""
    query = (
        select(BarsReferral)
        .join(REFERRALS, REFERRALS.c.id == BarsReferral.referral_id)
        .where(
            BarsReferral.service_request_id == service_request_id,
            REFERRALS.c.client_id == client_id,
        )
        .order_by(BarsReferral.created_at.desc())
        .limit(1)
    )
    return session.scalar(query.with_for_update(of=BarsReferral) if for_update else query)


def record_bars_referral(
    session: Session,
    *,
    referral_id: str,
    correlation_id: str,
    service_request_id: str,
    sender_endpoint: str,
    sender_name: str | None,
    request_message_id: str,
    sender_phone: str | None = None,
    target_identifier: str,
    flags: Sequence[Mapping[str, Any]],
    patient_instruction: str | None,
    sender_updated_at: datetime,
    now: datetime,
) -> None:
    """Keep what navigator needs of the referral's sender: where its status responses go
    (`sender_endpoint`, already checked against `BARS_SENDER_ENDPOINTS`) and under which
    correlation id, `sender_phone` (`MessageHeader.source.contact`, at most 40 characters:
    the number the console gives when a status response cannot be delivered), the
    NHSD-Target-Identifier as `system|value`, and the Flags and safety-netting the console
    shows."""
    # A Core insert on the session's connection (same transaction): nobody reads the row
    # back in this unit of work, so no ORM object and no flush of its own (~0.3 ms).
    session.connection().execute(
        _INSERT_REFERRAL,
        {
            "referral_id": referral_id,
            "correlation_id": correlation_id,
            "service_request_id": service_request_id,
            "sender_endpoint": sender_endpoint,
            "sender_name": sender_name,
            "sender_phone": sender_phone[:40] if sender_phone else None,
            "request_message_id": request_message_id,
            "target_identifier": target_identifier[:200],
            "flags": [dict(f) for f in flags],
            "patient_instruction": patient_instruction,
            "sender_updated_at": sender_updated_at,
            "created_at": now,
        },
    )


def latest_bundle(session: Session, referral_id: str) -> str | None:
    """The latest message received for this referral, as received (JSON text), or None when
    it was not made through BaRS."""
    return session.scalar(
        select(BarsRequest.bundle)
        .where(BarsRequest.referral_id == referral_id, BarsRequest.state == PROCESSED)
        .order_by(BarsRequest.processed_at.desc(), BarsRequest.id.desc())
        .limit(1)
    )
