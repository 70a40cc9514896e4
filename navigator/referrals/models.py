from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        # BaRS-style idempotency: a client's key names one referral, whatever the retries.
        UniqueConstraint(
            "client_id", "idempotency_key", name="uq_referrals_client_id_idempotency_key"
        ),
        Index("ix_referrals_status_due_by", "status", "due_by"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    navigation_id: Mapped[str | None] = mapped_column(ForeignKey("navigations.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(20))
    consent: Mapped[bool] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="sent")
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    local_month: Mapped[str] = mapped_column(String(7))  # Europe/London month of created_at
    place: Mapped[str | None] = mapped_column(String(40))  # the patient's place when referred
    created_by: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    due_by: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutes_to_accept: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralEvent(Base):
    """Each change of a referral's status: who, when, from, to, why."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
