"""Capacity (RAG) as the service reports it, with DoS-style auto-reset and staleness.

Capacity is read live from the database on every search and routing decision (never from
the in-memory index), so a service that turns red stops being offered at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from navigator.core.clock_words import spoken_time
from navigator.directory.models import ServiceCapacity
from navigator.directory.store import chunks, record_change

STATUSES = ("green", "amber", "red")

# Both reads run on every search and routing call: built once, run on the session's connection.
_CAPACITY = cast(Table, ServiceCapacity.__table__)
_RED = select(_CAPACITY.c.service_id, _CAPACITY.c.reset_at).where(
    _CAPACITY.c.status == bindparam("status")
)
_BY_SERVICE = select(_CAPACITY).where(_CAPACITY.c.service_id.in_(bindparam("ids", expanding=True)))
MIN_RESET_MINUTES, MAX_RESET_MINUTES = 15, 24 * 60


@dataclass(frozen=True)
class Capacity:
    status: str
    note: str | None
    updated_at: datetime | None
    updated_by: str | None
    reset_at: datetime | None
    stale: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "note": self.note,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "reset_at": self.reset_at.isoformat() if self.reset_at else None,
            "stale": self.stale,
        }


def effective(row: Any, now: datetime, stale_hours: int) -> Capacity:
    """What the capacity is at `now`: never-reported counts as green but stale."""
    if row is None:
        return Capacity("green", None, None, None, None, stale=True)
    stale = now - row.updated_at > timedelta(hours=stale_hours)
    if row.status != "green" and row.reset_at is not None and row.reset_at <= now:
        # Said without colour codes, and as what it is: a time-out, not a report (second-look
        # review of issue 17: "reset to green" read as "taking patients again").
        reported = "full" if row.status == "red" else "busy"
        note = (
            f"Reported {reported} until {spoken_time(row.reset_at, now=now)}, then "
            "automatically reset to taking patients: nothing reported since, so check when "
            "you call."
        )
        return Capacity("green", note, row.updated_at, row.updated_by, None, stale)
    return Capacity(row.status, row.note, row.updated_at, row.updated_by, row.reset_at, stale)


def red_service_ids(session: Session, now: datetime) -> set[str]:
    """Services whose red status is still in force (usually a handful of rows)."""
    rows = session.connection().execute(_RED, {"status": "red"})
    return {sid for sid, reset_at in rows if reset_at is None or reset_at > now}


def capacities(
    session: Session, ids: Iterable[str], now: datetime, stale_hours: int
) -> dict[str, Capacity]:
    wanted = list(ids)
    rows: dict[str, Any] = {}
    connection = session.connection()
    for batch in chunks(wanted):
        rows.update(
            {row.service_id: row for row in connection.execute(_BY_SERVICE, {"ids": batch})}
        )
    return {sid: effective(rows.get(sid), now, stale_hours) for sid in wanted}


def set_capacity(
    session: Session,
    service_id: str,
    *,
    status: str,
    note: str | None,
    reset_after_minutes: int | None,
    changed_by: str,
    now: datetime,
    default_reset_minutes: int,
) -> ServiceCapacity:
    """Record a new capacity status; amber and red always carry a reset time."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    reset_at = None
    if status != "green":
        minutes = reset_after_minutes or default_reset_minutes
        if not MIN_RESET_MINUTES <= minutes <= MAX_RESET_MINUTES:
            raise ValueError("reset_after_minutes must be between 15 and 1440")
        reset_at = now + timedelta(minutes=minutes)
    row = session.get(ServiceCapacity, service_id)
    old = {"status": row.status, "note": row.note} if row else None
    if row is None:
        row = ServiceCapacity(service_id=service_id)
        session.add(row)
    row.status, row.note, row.updated_at, row.updated_by, row.reset_at = (
        status,
        note,
        now,
        changed_by,
        reset_at,
    )
    record_change(
        session,
        service_id,
        "capacity",
        old,
        {"status": status, "note": note, "reset_at": reset_at.isoformat() if reset_at else None},
        changed_by=changed_by,
    )
    session.flush()
    return row


def update_capacity(
    session: Session,
    service_id: str,
    body: Mapping[str, Any],
    *,
    changed_by: str,
    now: datetime,
    default_reset_minutes: int,
) -> ServiceCapacity:
    """Record a capacity update as loaded by `CapacityUpdateSchema` (`status`, `note`,
    `reset_after_minutes`): one path for the API and the console. `default_reset_minutes`
    is the app's `CAPACITY_DEFAULT_RESET_MINUTES`. Flushes; the caller commits."""
    return set_capacity(
        session,
        service_id,
        status=body["status"],
        note=body["note"],
        reset_after_minutes=body["reset_after_minutes"],
        changed_by=changed_by,
        now=now,
        default_reset_minutes=default_reset_minutes,
    )
