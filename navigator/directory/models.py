"""Directory tables, modelled on HSDS 3.0 / Open Referral UK plus what the NHS DoS adds
(eligibility by age in days and caller role, capacity, professional-only contact details).

Short value lists (needs, caller roles, coverage) are JSON arrays: the directory is queried
through the in-memory index (`directory.index`), not by SQL joins on them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from navigator.core.db import Base, UTCDateTime, utcnow

JsonList = JSON().with_variant(JSONB(), "postgresql")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    ods_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    charity_number: Mapped[str | None] = mapped_column(String(20))
    sector: Mapped[str] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(500))


class Service(Base):
    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    public_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    service_type: Mapped[str] = mapped_column(String(60), index=True)
    sector: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30), default="active")
    needs: Mapped[list[str]] = mapped_column(JsonList, default=list)
    min_age_days: Mapped[int] = mapped_column(default=0)
    max_age_days: Mapped[int | None] = mapped_column()
    sex: Mapped[str] = mapped_column(String(10), default="any")
    caller_roles: Mapped[list[str]] = mapped_column(JsonList, default=list)
    restrict_gp_practices: Mapped[list[str]] = mapped_column(JsonList, default=list)
    restrict_places: Mapped[list[str]] = mapped_column(JsonList, default=list)
    coverage_places: Mapped[list[str]] = mapped_column(JsonList, default=list)
    coverage_districts: Mapped[list[str]] = mapped_column(JsonList, default=list)
    radius_km: Mapped[float | None] = mapped_column(Float)
    public_phone: Mapped[str | None] = mapped_column(String(40))
    professional_phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(500))
    referral_method: Mapped[str | None] = mapped_column(String(30))
    referral_info: Mapped[str | None] = mapped_column(Text)
    open_all_hours: Mapped[bool] = mapped_column(default=False)
    # Care homes: the number follow-up texts go to (E.164), the home's recorded consent, and
    # an opt-out (a STOP reply or the console) that wins over consent until cleared.
    sms_number: Mapped[str | None] = mapped_column(String(20), index=True)
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_consent_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assured_by: Mapped[str | None] = mapped_column(String(200))
    # Who gave a service its type, needs and eligibility when its source did not:
    # "mapping:<name>" (a taxonomy mapping file) or "person:<username>" (the console's
    # "To classify" queue); None when the source classified it itself, or nobody has yet.
    classified_by: Mapped[str | None] = mapped_column(String(200))
    # The source feed's own taxonomy terms ([{"taxonomy", "code", "name"}]), kept as given.
    source_terms: Mapped[list[dict[str, str]]] = mapped_column(
        JsonList, default=list, server_default=text("'[]'")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    locations: Mapped[list[ServiceLocation]] = relationship(
        order_by="ServiceLocation.position", cascade="all, delete-orphan"
    )
    sessions: Mapped[list[OpeningSession]] = relationship(cascade="all, delete-orphan")
    capacity: Mapped[ServiceCapacity | None] = relationship(cascade="all, delete-orphan")


class ServiceLocation(Base):
    __tablename__ = "service_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(10))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)


class OpeningSession(Base):
    """One opening period: weekly (weekday), bank holiday, or a specified date (maybe closed)."""

    __tablename__ = "opening_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # weekly | bank_holiday | date | recurring
    weekday: Mapped[int | None] = mapped_column()  # 0 = Monday
    on_date: Mapped[date | None] = mapped_column(Date)
    opens: Mapped[str | None] = mapped_column(String(5))
    closes: Mapped[str | None] = mapped_column(String(5))
    closed: Mapped[bool] = mapped_column(default=False)
    # kind "recurring": the RFC 5545 recurrence (HSDS schedule fields) as canonical JSON.
    rule: Mapped[str | None] = mapped_column(Text)


class ServiceCapacity(Base):
    """The service's own RAG status; amber/red return to green at `reset_at`."""

    __tablename__ = "service_capacity"
    __table_args__ = (Index("ix_service_capacity_status", "status"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ServiceChange(Base):
    """Who changed which field of a service, when, from what to what."""

    __tablename__ = "service_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(String(100), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)


class DirectoryState(Base):
    """The directory's version: one row (id 1), moved by every change to its static data.

    `revision` is an opaque token that differs after every change; `seq` counts changes and
    is the `seq` of the latest `directory_changes` row. Every web worker keeps an in-memory
    index of the directory at some `seq` and, when the row's is higher, applies the changes
    logged since (`directory.index`), so an edit on one node reaches all of them.
    """

    __tablename__ = "directory_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class DirectoryChange(Base):
    """One change to the directory's static data: the services it touched.

    `seq` is allocated under the `directory_state` row lock (`store.bump_revision`), so on
    PostgreSQL the seqs become visible in commit order and a reader that has seen seq N and
    then finds N+2 knows N+1 was pruned, never that it is still to commit. `service_ids` is
    a JSON list of service ids, or NULL for "everything" (a bulk load; rebuild the index).
    Old rows are pruned (`store.CHANGE_LOG_KEEP`): a worker further behind rebuilds whole.
    """

    __tablename__ = "directory_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The `directory_state.revision` this change left: a worker at (seq, revision) checks the
    # row of its own seq still says its revision, so a database restored or emptied under it
    # (seqs reused) is rebuilt from, never patched.
    revision: Mapped[str] = mapped_column(String(32))
    service_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
