"""Delayed transfers of care: episodes, reason/responsibility history, and delayed days.

Delayed days follow the national DTOC SitRep (../shared/domain/dtoc-and-cisp.md, "Delayed
transfer of care"): date D is a delayed day when the patient is still delayed at the midnight
that *ends* D (24:00 on D, Europe/London); the day belongs to D's month and to the reason and
responsibility in force at that instant. `delayed_midnights` states the rule exactly.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.clock import to_local, to_utc
from navigator.core.db import load_or_404
from navigator.core.errors import Problem, field_error
from navigator.core.places import Gazetteer
from navigator.directory.index import DirectoryIndex
from navigator.patients.audit import audit_record
from navigator.patients.service import resolve_patient
from navigator.patients.shown import shown_place, visible_date_of_birth
from navigator.transitions.models import DtocDay, DtocEpisode, DtocInterval
from navigator.transitions.need_to_know import may_own_episode
from navigator.transitions.times import check_event_times

REASONS = ("A", "B", "C", "Di", "Dii", "E", "F", "G", "H", "I", "O")
RESPONSIBLE = ("nhs", "social_care", "both")
CARE_TYPES = ("acute", "non_acute")
ADULT_YEARS = 18
READY_FIELDS = ("clinically_ready_at", "mdt_ready_at", "safe_to_transfer_at")
# Times of things that happened: never in the future, never before 2000 (`times`).
UPDATE_TIME_FIELDS = (*READY_FIELDS, "effective_at", "receiving_accepted_at", "transferred_at")


def ready_at(episode: DtocEpisode) -> datetime | None:
    """Ready for transfer = the latest of the three decisions, once all three are made."""
    times = (episode.clinically_ready_at, episode.mdt_ready_at, episode.safe_to_transfer_at)
    return max(times) if all(t is not None for t in times) else None  # type: ignore[type-var]


def delayed_midnights(start: datetime | None, end: datetime) -> Iterator[tuple[date, datetime]]:
    """The delayed days of a delay from `start` (ready for transfer) to `end` (transfer or now).

    Yields `(D, M)` in date order: `D` is the Europe/London date counted as a delayed day and
    `M` the aware UTC instant of the midnight that ends it (00:00 London time on D + 1 day).

    The rule, from the national DTOC SitRep (its period runs from 00:01 on the 1st to 24:00 on
    the last day; ../shared/domain/dtoc-and-cisp.md, "Delayed transfer of care"): D counts when
    the patient is still delayed at the midnight that ends D. A patient is delayed from the
    instant all three readiness decisions hold until the instant of transfer, the half-open
    interval [start, end), so exactly:

        D is a delayed day  <=>  start <= M(D) < end,  M(D) = 00:00 Europe/London on D + 1.

    So ready at 10:00 on 31 Jan and transferred at 10:00 on 1 Feb is one day, 31 Jan (January);
    ready exactly at a midnight counts the day that midnight ends; transferred exactly at a
    midnight does not. `end` is exclusive, so an open delay (end = now) counts only midnights
    already past. London midnights always exist and are never repeated (the clocks change at
    01:00 UTC), so every date has exactly one M(D), 23, 24 or 25 hours after the previous one.
    Nothing is yielded when `start` is None (not yet ready) or `end <= start`.
    """
    if start is None:
        return
    local = to_local(start)
    # The first midnight at or after `start`, as the London date it begins.
    midnight = local.date() if local.time() == time(0) else local.date() + timedelta(days=1)
    while (instant := to_utc(datetime.combine(midnight, time(0)))) < end:
        yield midnight - timedelta(days=1), instant
        midnight += timedelta(days=1)


def _in_force(intervals: Sequence[DtocInterval], instant: datetime) -> DtocInterval:
    """The reason/responsibility interval in force at `instant` (intervals as `_ordered` gives).

    A change applies from its `effective_at` inclusive, so a change made effective exactly at a
    midnight already governs the day that midnight ends.
    """
    current = intervals[0]
    for interval in intervals[1:]:
        if interval.effective_at is not None and interval.effective_at <= instant:
            current = interval
    return current


def attributed_days(
    start: datetime | None, end: datetime, intervals: Sequence[DtocInterval]
) -> Iterator[tuple[date, DtocInterval]]:
    """Each delayed day (see `delayed_midnights`) with the interval in force at its midnight.

    `intervals` must be non-empty and in `_ordered` order; every episode has its initial one.
    """
    for day, instant in delayed_midnights(start, end):
        yield day, _in_force(intervals, instant)


def delay_summary(
    episode: DtocEpisode, intervals: Sequence[DtocInterval], now: datetime
) -> dict[str, Any]:
    """Delayed days for the API: total and splits, each split summing to the total.

    Returns `{"delayed_days": int, "delayed_days_by_month": {"YYYY-MM": int},
    "delayed_days_by_reason": {code: int}, "delayed_days_by_responsible": {org: int}}`, keys
    sorted, only non-zero entries. An open episode counts up to `now`.
    """
    by_month: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    by_responsible: Counter[str] = Counter()
    total = 0
    for day, interval in attributed_days(
        episode.ready_at, episode.transferred_at or now, intervals
    ):
        total += 1
        by_month[day.strftime("%Y-%m")] += 1
        by_reason[interval.reason] += 1
        by_responsible[interval.responsible] += 1
    return {
        "delayed_days": total,
        "delayed_days_by_month": dict(sorted(by_month.items())),
        "delayed_days_by_reason": dict(sorted(by_reason.items())),
        "delayed_days_by_responsible": dict(sorted(by_responsible.items())),
    }


def materialise_days(session: Session, episode: DtocEpisode, now: datetime) -> None:
    """Rewrite the episode's `dtoc_days` rows (up to now while it is open).

    One row per delayed day D, from the same `attributed_days` as `delay_summary`, so the CISP
    aggregates over these rows always agree with the episode's own figures.
    """
    session.execute(delete(DtocDay).where(DtocDay.episode_id == episode.id))
    intervals = _ordered(_intervals(session, episode.id))
    rows = [
        {
            "episode_id": episode.id,
            "day": day,
            "local_month": day.strftime("%Y-%m"),
            "place": episode.place,
            "care_type": episode.care_type,
            "reason": interval.reason,
            "responsible": interval.responsible,
        }
        for day, interval in attributed_days(
            episode.ready_at, episode.transferred_at or now, intervals
        )
    ]
    if rows:
        session.execute(insert(DtocDay), rows)


def refresh_open_episodes(session: Session, now: datetime) -> None:
    """Bring open episodes' delayed days up to now (closed episodes are already final)."""
    for episode in session.scalars(select(DtocEpisode).where(DtocEpisode.transferred_at.is_(None))):
        materialise_days(session, episode, now)


def _intervals(session: Session, episode_id: str) -> list[DtocInterval]:
    return list(
        session.scalars(
            select(DtocInterval)
            .where(DtocInterval.episode_id == episode_id)
            .order_by(DtocInterval.id)
        )
    )


def _ordered(intervals: list[DtocInterval]) -> list[DtocInterval]:
    """Initial interval first, then changes by effective time."""
    initial = [i for i in intervals if i.effective_at is None]
    changes = sorted(
        (i for i in intervals if i.effective_at is not None), key=lambda i: (i.effective_at, i.id)
    )
    return initial + changes


def _check_receiving(index: DirectoryIndex, service_id: str | None) -> None:
    if service_id is not None and service_id not in index.by_id:
        raise field_error("receiving_service_id", "No service with this id")


def open_episode(
    session: Session,
    body: Mapping[str, Any],
    *,
    caller: Caller,
    gazetteer: Gazetteer,
    index: DirectoryIndex,
    now: datetime,
) -> DtocEpisode:
    provider_ods = body["provider_ods"].strip().upper()
    if not may_own_episode(caller, provider_ods):
        raise field_error(
            "provider_ods", "A provider may record delays only for its own organisation's ODS code"
        )
    _check_receiving(index, body.get("receiving_service_id"))
    check_event_times(body, READY_FIELDS, now)
    patient = resolve_patient(session, body, caller=caller, gazetteer=gazetteer, index=index)
    field = "patient_id" if body.get("patient_id") else "patient.date_of_birth"
    # Need-to-know: adulthood is decided only from a date of birth this caller may see (the
    # one it sent, unless it has the full view), so the answer is the same whatever navigator
    # holds for the NHS number and cannot be used to find the held date (issue 12 §2).
    dob = visible_date_of_birth(session, caller, patient, index)
    if dob is None:
        raise field_error(
            field, "The date of birth is needed: DTOC is recorded for adults (18+) only"
        )
    episode = DtocEpisode(
        id=str(uuid.uuid4()),
        patient_id=patient.id,
        provider_ods=provider_ods,
        site=body.get("site"),
        care_type=body["care_type"],
        place=patient.place,  # the truth, for the CISP metrics; shown only via `shown_place`
        clinically_ready_at=body.get("clinically_ready_at"),
        mdt_ready_at=body.get("mdt_ready_at"),
        safe_to_transfer_at=body.get("safe_to_transfer_at"),
        receiving_service_id=body.get("receiving_service_id"),
        expected_transfer_date=body.get("expected_transfer_date"),
        created_at=now,
        created_by=caller.label,
    )
    episode.ready_at = ready_at(episode)
    on = to_local(episode.ready_at or now).date()
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    if age < ADULT_YEARS:
        raise field_error(field, "DTOC is recorded for adults only: the patient is under 18")
    session.add(episode)
    session.add(
        DtocInterval(
            episode_id=episode.id,
            effective_at=None,
            reason=body["reason"],
            responsible=body["responsible"],
            recorded_at=now,
            recorded_by=caller.label,
        )
    )
    audit_record(session, episode, actor=caller.label, action="create", entity="dtoc")
    session.flush()
    materialise_days(session, episode, now)
    return episode


def load_episode(
    session: Session,
    episode_id: str,
    *,
    for_update: bool = False,
    visible: Callable[[DtocEpisode], bool] | None = None,
) -> DtocEpisode:
    """The DTOC episode with this id (`db.load_or_404`): `for_update` locks it, so two
    updates at once run one after the other; `visible` is the caller's need-to-know rule.
    Raises Problem 404."""
    return load_or_404(
        session,
        DtocEpisode,
        episode_id,
        noun="DTOC episode",
        for_update=for_update,
        visible=visible,
    )


def update_episode(
    session: Session,
    episode: DtocEpisode,
    body: Mapping[str, Any],
    *,
    caller: Caller,
    index: DirectoryIndex,
    now: datetime,
) -> DtocEpisode:
    if episode.transferred_at is not None:
        raise Problem(
            409, "This episode is closed: the patient has been transferred.", code="episode_closed"
        )
    _check_receiving(index, body.get("receiving_service_id"))
    check_event_times(body, UPDATE_TIME_FIELDS, now)
    for key in (
        "clinically_ready_at",
        "mdt_ready_at",
        "safe_to_transfer_at",
        "receiving_service_id",
        "receiving_accepted_at",
        "expected_transfer_date",
        "site",
    ):
        if key in body:
            setattr(episode, key, body[key])
    episode.ready_at = ready_at(episode)
    if "reason" in body or "responsible" in body:
        if "effective_at" not in body:
            raise field_error(
                "effective_at", "Say from when the new reason or responsibility applies"
            )
        current = _in_force(_ordered(_intervals(session, episode.id)), body["effective_at"])
        session.add(
            DtocInterval(
                episode_id=episode.id,
                effective_at=body["effective_at"],
                reason=body.get("reason", current.reason),
                responsible=body.get("responsible", current.responsible),
                recorded_at=now,
                recorded_by=caller.label,
            )
        )
    if "transferred_at" in body:
        if episode.ready_at is not None and body["transferred_at"] < episode.ready_at:
            raise field_error(
                "transferred_at", "Cannot be before the patient was ready for transfer"
            )
        episode.transferred_at = body["transferred_at"]
        episode.destination = body.get("destination")
        episode.pathway = body.get("pathway")
    audit_record(session, episode, actor=caller.label, action="update", entity="dtoc")
    session.flush()
    materialise_days(session, episode, now)
    return episode


def episode_dict(
    session: Session,
    episode: DtocEpisode,
    now: datetime,
    *,
    caller: Caller | None = None,
    index: DirectoryIndex | None = None,
) -> dict[str, Any]:
    """`DtocSchema`. With `caller` and `index` (every API view), `place` is as that caller may
    be shown it (`shown_place`): a provider without the full view of the patient sees the
    place of the postcode it sent, or null, never the one derived from the held record.
    Without them (console pages, whose users see every patient) it is the stored place.
    """
    intervals = _ordered(_intervals(session, episode.id))

    def iso(value: datetime | date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": episode.id,
        "patient_id": episode.patient_id,
        "provider_ods": episode.provider_ods,
        "site": episode.site,
        "care_type": episode.care_type,
        "place": episode.place
        if caller is None or index is None
        else shown_place(session, caller, episode.patient_id, index, stored=episode.place),
        "clinically_ready_at": iso(episode.clinically_ready_at),
        "mdt_ready_at": iso(episode.mdt_ready_at),
        "safe_to_transfer_at": iso(episode.safe_to_transfer_at),
        "ready_at": iso(episode.ready_at),
        "receiving_service_id": episode.receiving_service_id,
        "receiving_accepted_at": iso(episode.receiving_accepted_at),
        "expected_transfer_date": iso(episode.expected_transfer_date),
        "transferred_at": iso(episode.transferred_at),
        "destination": episode.destination,
        "pathway": episode.pathway,
        "open": episode.transferred_at is None,
        "reason": _in_force(
            intervals, now if episode.transferred_at is None else episode.transferred_at
        ).reason,
        "responsible": _in_force(
            intervals, now if episode.transferred_at is None else episode.transferred_at
        ).responsible,
        "history": [
            {
                "effective_at": iso(i.effective_at),
                "reason": i.reason,
                "responsible": i.responsible,
                "recorded_by": i.recorded_by,
            }
            for i in intervals
        ],
    } | delay_summary(episode, intervals, now)
