"""Navigations (one routed call each) and the gaps they found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow


class Navigation(Base):
    __tablename__ = "navigations"
    __table_args__ = (
        Index("ix_navigations_created_at", "created_at"),
        Index("ix_navigations_local_month_place", "local_month", "place"),
        # A client's Idempotency-Key names one navigation, whatever the retries (issue 18 §4).
        UniqueConstraint(
            "client_id", "idempotency_key", name="uq_navigations_client_id_idempotency_key"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    called_at: Mapped[datetime] = mapped_column(UTCDateTime())
    local_month: Mapped[str] = mapped_column(String(7))  # Europe/London month of called_at
    caller_role: Mapped[str] = mapped_column(String(20))
    need: Mapped[str | None] = mapped_column(String(60))
    red_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_days: Mapped[int | None] = mapped_column()
    sex: Mapped[str | None] = mapped_column(String(10))
    postcode: Mapped[str] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(String(40))
    gp_practice_ods: Mapped[str | None] = mapped_column(String(20))
    disposition: Mapped[str | None] = mapped_column(String(10))
    # NHS Pathways symptom group and discriminator codes (e.g. SG1011, SD4052) when the call
    # came with them, as a BaRS referral from 111 does (issue 16).
    symptom_group: Mapped[str | None] = mapped_column(String(20))
    symptom_discriminator: Mapped[str | None] = mapped_column(String(20))
    lives_in_care_home: Mapped[bool] = mapped_column(default=False)
    care_home_service_id: Mapped[str | None] = mapped_column(String(100))
    case_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    # Set when the client sent an Idempotency-Key: whose key (`Caller.client_ref`), the key,
    # and the fingerprint of the body it came with (`core.idempotency.request_hash`).
    client_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    nhs_number: Mapped[str | None] = mapped_column(String(10), index=True)
    urgency: Mapped[str] = mapped_column(String(20))
    rules_version: Mapped[str] = mapped_column(String(40))
    rule_id: Mapped[str] = mapped_column(String(100))
    rule_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    recommended_service_id: Mapped[str | None] = mapped_column(String(100))
    recommended_service_type: Mapped[str | None] = mapped_column(String(60))
    fallback: Mapped[str | None] = mapped_column(String(20))
    # The full response as first returned, so GET gives back exactly what was recommended.
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Calls taken in the console: who rang, the patient, and what the navigator decided.
    caller_name: Mapped[str | None] = mapped_column(String(200))
    caller_phone: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    decision: Mapped[str | None] = mapped_column(String(20))  # accepted | overridden
    chosen_service_id: Mapped[str | None] = mapped_column(String(100))
    override_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NavigationGap(Base):
    """A service that failed exactly one criterion for a navigation (for commissioners)."""

    __tablename__ = "navigation_gaps"
    __table_args__ = (Index("ix_navigation_gaps_recorded_at", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    navigation_id: Mapped[str] = mapped_column(ForeignKey("navigations.id"), index=True)
    service_id: Mapped[str] = mapped_column(String(100))
    criterion: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
