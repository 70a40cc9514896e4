"""BaRS messaging tables (issue 16, migration 0014).

- `BarsRequest`: one row per `X-Request-Id` received on `$process-message`. The row is claimed
  (`state = processing`) in its own committed transaction before the message is processed, so
  a retry while the first attempt runs is answered 425 `REC_TOO_EARLY` and one after it is
  answered 409 `REC_CONFLICT` (`duplicate`); the unique `request_id` holds that under
  concurrent retries on both databases. The Bundle is kept exactly as received (`bundle`, the
  request body as text), so every version of a referral a sender sent is stored.
- `BarsReferral`: what navigator keeps of the sender of a referral it received: the
  correlation id and `MessageHeader.source.endpoint` its status responses go to, the sender's
  ServiceRequest id, and the Flags (safeguarding, reasonable adjustments) the console shows.
- `BarsOutboxMessage`: a `servicerequest-response` message to a sender, written in the same
  transaction as the referral's status change and sent by the scheduler with retries. Its
  `request_id` is fixed when it is written, so every retry carries the same `X-Request-Id`
  and the receiver recognises a repeat (409 `duplicate`), which counts as delivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow

# BarsRequest.state
PROCESSING, PROCESSED = "processing", "processed"
# BarsOutboxMessage.state
SCHEDULED, SENDING, SENT, FAILED = "scheduled", "sending", "sent", "failed"


class BarsRequest(Base):
    __tablename__ = "bars_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(String(36), unique=True)  # lower-case UUID
    correlation_id: Mapped[str] = mapped_column(String(36), index=True)
    client_id: Mapped[str] = mapped_column(String(64))  # the API key's client reference
    state: Mapped[str] = mapped_column(String(12), default=PROCESSING)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # MessageHeader.eventCoding.code and reason code, e.g. servicerequest-request / new
    event: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(String(20))
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    bundle: Mapped[str | None] = mapped_column(Text)  # the request body, as received


class BarsReferral(Base):
    __tablename__ = "bars_referrals"

    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), primary_key=True)
    correlation_id: Mapped[str] = mapped_column(String(36), index=True)
    service_request_id: Mapped[str] = mapped_column(String(200), index=True)  # sender's SR id
    sender_endpoint: Mapped[str] = mapped_column(String(500))  # MessageHeader.source.endpoint
    sender_name: Mapped[str | None] = mapped_column(String(200))
    # MessageHeader.source.contact (phone), so a navigator can ring the sender when a status
    # response cannot be delivered.
    sender_phone: Mapped[str | None] = mapped_column(String(40))
    # The referral request's MessageHeader id (what a response's `response.identifier` names).
    request_message_id: Mapped[str] = mapped_column(String(200))
    # The NHSD-Target-Identifier as decoded, `system|value` (navigator's service id system and
    # the service id): what the status responses' HealthcareService identifier carries.
    target_identifier: Mapped[str] = mapped_column(String(200))
    # [{"category": "safeguarding" | "reasonable_adjustment" | ..., "code", "display", "text"}]
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    patient_instruction: Mapped[str | None] = mapped_column(Text)
    # When the sender last changed the referral (its latest message's MessageHeader or Bundle
    # time): a cancellation older than navigator's own last change is a 409 `conflict`.
    sender_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BarsOutboxMessage(Base):
    __tablename__ = "bars_outbox"
    __table_args__ = (Index("ix_bars_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(36), unique=True)  # our X-Request-Id
    correlation_id: Mapped[str] = mapped_column(String(36))
    endpoint: Mapped[str] = mapped_column(String(500))
    referral_status: Mapped[str] = mapped_column(String(20))  # the status it reports
    bundle: Mapped[dict[str, Any]] = mapped_column(JSON)  # the message, as it will be sent
    state: Mapped[str] = mapped_column(String(12), default=SCHEDULED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None] = mapped_column()  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(500))  # never patient data
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
