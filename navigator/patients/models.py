"""The minimal patient record and the append-only audit log of access to patient data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow


class Patient(Base):
    """One person, so navigations, referrals, transitions and DTOC episodes link together.

    Matched on NHS number only: without one, a new record is made rather than merging on
    name or date of birth, which would risk joining two people's records.
    """

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10), default="unknown")
    postcode: Mapped[str | None] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(String(40))
    gp_practice_ods: Mapped[str | None] = mapped_column(String(20))
    care_home_service_id: Mapped[str | None] = mapped_column(ForeignKey("services.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEvent(Base):
    """Who read or changed patient-identifiable data, when, how. Rows are never updated."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient_id_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    # read | create | update | link (a client matched to a record it may not see)
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(30))  # patient | navigation | referral | ...
    entity_id: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(36))
    route: Mapped[str] = mapped_column(String(200))


class PatientSource(Base):
    """What one client (an API client or the console) itself sent about a patient.

    Need-to-know: an integrator may see only the demographics it supplied, never what another
    client or the console holds, even when it sends an NHS number navigator already knows.
    `client_ref` is `Caller.client_ref`; `fields` holds the demographic fields as sent
    (ISO dates as text), the latest value of each.
    """

    __tablename__ = "patient_sources"
    __table_args__ = (UniqueConstraint("patient_id", "client_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    client_ref: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
