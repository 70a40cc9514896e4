from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow


class TransitionEvent(Base):
    """One transition of care for a patient, recorded once per client-supplied event_id."""

    __tablename__ = "transition_events"
    __table_args__ = (
        UniqueConstraint("client_id", "event_id", name="uq_transition_events_client_id_event_id"),
        Index("ix_transition_events_patient_id_occurred_at", "patient_id", "occurred_at"),
        Index("ix_transition_events_type_occurred_at", "type", "occurred_at"),
        # Covers the CISP aggregate (an index-only scan): month, type, place and the flags.
        Index(
            "ix_transition_events_month_type_place_flags",
            "local_month",
            "type",
            "place",
            "readmission_30d",
            "readmission_excluded",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The Europe/London month of occurred_at ("YYYY-MM"): CISP months are local months, and
    # storing it keeps the metrics a plain GROUP BY on SQLite and PostgreSQL alike.
    local_month: Mapped[str] = mapped_column(String(7))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    place: Mapped[str | None] = mapped_column(String(40))  # None: outside BLMK
    # The `place` the recording client named itself (None: it named none, or recorded before
    # migration 0011). `place` may come from the held record, which a client without the full
    # view must not be shown (issue 12 §2); this is what it may be shown instead.
    sent_place: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(20))
    specialty: Mapped[str | None] = mapped_column(String(60))
    pathway: Mapped[int | None] = mapped_column()
    destination: Mapped[str | None] = mapped_column(String(100))
    from_organisation: Mapped[str | None] = mapped_column(String(20))
    to_organisation: Mapped[str | None] = mapped_column(String(20))
    readmission_30d: Mapped[bool] = mapped_column(default=False)
    # Cancer and obstetric admissions are left out of the CISP readmission measure.
    readmission_excluded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class DtocEpisode(Base):
    """A delayed transfer of care: from ready-for-transfer until the patient leaves the bed."""

    __tablename__ = "dtoc_episodes"
    __table_args__ = (Index("ix_dtoc_episodes_transferred_at", "transferred_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    provider_ods: Mapped[str] = mapped_column(String(20))
    site: Mapped[str | None] = mapped_column(String(200))
    care_type: Mapped[str] = mapped_column(String(20))  # acute | non_acute
    place: Mapped[str | None] = mapped_column(String(40))
    clinically_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mdt_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    safe_to_transfer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # latest of the three
    receiving_service_id: Mapped[str | None] = mapped_column(ForeignKey("services.id"))
    receiving_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expected_transfer_date: Mapped[date | None] = mapped_column(Date)
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    destination: Mapped[str | None] = mapped_column(String(100))
    pathway: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class DtocInterval(Base):
    """Reason and responsible organisation in force from `effective_at` (None: from the start)."""

    __tablename__ = "dtoc_intervals"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("dtoc_episodes.id"), index=True)
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(4))
    responsible: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200))


class DtocDay(Base):
    """One delayed day, with what was in force at it.

    `day` is the London date D whose ending midnight (00:00 on D + 1) the patient spent
    delayed, as the national SitRep counts it; `local_month` is D's month (migration 0009).

    Kept in step with each episode on every change, and up to now for open episodes when the
    metrics are computed, so DTOC measures are SQL aggregates like every other measure.
    """

    __tablename__ = "dtoc_days"
    __table_args__ = (Index("ix_dtoc_days_local_month_place", "local_month", "place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("dtoc_episodes.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    local_month: Mapped[str] = mapped_column(String(7))
    place: Mapped[str | None] = mapped_column(String(40))
    care_type: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(4))
    responsible: Mapped[str] = mapped_column(String(20))
