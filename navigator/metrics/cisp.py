"""The CISP measures: SQL aggregates by (place, local month), then the named measures.

Each query groups the events by place and Europe/London month (stored on every row when it
is written), so the database does the counting and Python only combines a few hundred
aggregate rows into the dashboard's fields. BLMK is the sum of its four places; patients
outside BLMK count only in the `out_of_area` row.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Integer, and_, case, func, or_, select
from sqlalchemy.orm import Session

from navigator.core.vocabulary import URGENCIES
from navigator.metrics.population import BLMK_PLACES, Population
from navigator.navigation.models import Navigation
from navigator.referrals.models import Referral
from navigator.referrals.service import overdue_clause
from navigator.transitions.dtoc import REASONS, refresh_open_episodes
from navigator.transitions.models import DtocDay, TransitionEvent

OUT_OF_AREA = "out_of_area"
ROW_PLACES = (*BLMK_PLACES, "blmk", OUT_OF_AREA)
EMERGENCY_TYPES = ("ambulance_999", "emergency_department")
COUNTS = (
    "ae_attendances",
    "nel_admissions",
    "discharges",
    "readmissions_30d",
    "care_home_call_outs",
    "care_home_conveyances",
    "dtoc_delayed_days",
    "dtoc_delayed_days_nhs",
    "dtoc_delayed_days_social_care",
    "dtoc_delayed_days_both",
    "dtoc_delayed_days_acute",
    "dtoc_delayed_days_non_acute",
    "navigations",
    "navigations_away_from_ed",
    "referrals_sent",
    "referrals_accepted",
    "referrals_rejected",
    "referrals_overdue",
)
TYPE_COUNTS = {
    "ae_attendance": "ae_attendances",
    "nel_admission": "nel_admissions",
    "discharge": "discharges",
    "care_home_call_out": "care_home_call_outs",
    "care_home_conveyance": "care_home_conveyances",
}


def months_between(start: str, end: str) -> list[str]:
    year, month = map(int, start.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def rounded(value: float | None) -> float | None:
    """Rates to 2 decimal places, halves away from zero (as a spreadsheet would)."""
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _ratio(numerator: float, denominator: float | None, scale: float) -> float | None:
    return rounded(numerator / denominator * scale) if denominator else None


Key = tuple[str, str]  # (place, month)


def _place(value: str | None) -> str:
    return value if value in BLMK_PLACES else OUT_OF_AREA


class _Tally:
    def __init__(self) -> None:
        self.counts: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.reasons: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.urgencies: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.medians: dict[Key, float | None] = {}

    def add(
        self, place: str | None, month: str, name: str, value: int, bucket: str = "counts"
    ) -> None:
        """Add to the place's row and, for a BLMK place, to the BLMK row too."""
        target = getattr(self, bucket)
        row_place = _place(place)
        target[(row_place, month)][name] += int(value or 0)
        if row_place != OUT_OF_AREA:
            target[("blmk", month)][name] += int(value or 0)


def _transitions(session: Session, tally: _Tally, months: tuple[str, str]) -> None:
    t = TransitionEvent
    readmitted = case(
        (and_(t.readmission_30d.is_(True), t.readmission_excluded.is_(False)), 1), else_=0
    )
    query = (
        select(t.place, t.local_month, t.type, func.count(), func.sum(readmitted))
        .where(t.local_month.between(*months))
        .group_by(t.place, t.local_month, t.type)
    )
    for place, month, kind, count, readmissions in session.execute(query):
        if kind in TYPE_COUNTS:
            tally.add(place, month, TYPE_COUNTS[kind], count)
        if kind == "nel_admission":
            tally.add(place, month, "readmissions_30d", readmissions)


def _dtoc(session: Session, tally: _Tally, months: tuple[str, str]) -> None:
    """DTOC delayed days and their splits from the stored `dtoc_days` rows.

    Each row is one delayed day D as the national SitRep counts it (the patient still delayed
    at the midnight ending D, Europe/London), already carrying D's month and the reason and
    responsibility in force at that midnight (`navigator.transitions.dtoc.delayed_midnights`).
    So the measures here are plain counts and always agree with each episode's own figures.
    """
    d = DtocDay
    query = (
        select(d.place, d.local_month, d.reason, d.responsible, d.care_type, func.count())
        .where(d.local_month.between(*months))
        .group_by(d.place, d.local_month, d.reason, d.responsible, d.care_type)
    )
    for place, month, reason, responsible, care_type, days in session.execute(query):
        tally.add(place, month, "dtoc_delayed_days", days)
        tally.add(place, month, f"dtoc_delayed_days_{responsible}", days)
        tally.add(place, month, f"dtoc_delayed_days_{care_type}", days)
        tally.add(place, month, reason, days, bucket="reasons")


def _navigations(session: Session, tally: _Tally, months: tuple[str, str]) -> None:
    n = Navigation
    away = case((n.recommended_service_type.in_(EMERGENCY_TYPES), 0), else_=1)
    query = (
        select(n.place, n.local_month, n.urgency, func.count(), func.sum(away))
        .where(n.local_month.between(*months))
        .group_by(n.place, n.local_month, n.urgency)
    )
    for place, month, urgency, count, away_count in session.execute(query):
        tally.add(place, month, "navigations", count)
        tally.add(place, month, "navigations_away_from_ed", away_count)
        tally.add(place, month, urgency, count, bucket="urgencies")


def _referrals(session: Session, tally: _Tally, months: tuple[str, str], now: datetime) -> None:
    r = Referral
    overdue = or_(  # overdue now, or answered after it was due
        overdue_clause(now),
        r.acknowledged_at > r.due_by,
    )
    query = (
        select(
            r.place,
            r.local_month,
            func.count(),
            func.sum(case((r.accepted_at.is_not(None), 1), else_=0)),
            func.sum(case((r.status == "rejected", 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .where(r.local_month.between(*months))
        .group_by(r.place, r.local_month)
    )
    for place, month, sent, accepted, rejected, late in session.execute(query):
        tally.add(place, month, "referrals_sent", sent)
        tally.add(place, month, "referrals_accepted", accepted)
        tally.add(place, month, "referrals_rejected", rejected)
        tally.add(place, month, "referrals_overdue", late)
    # Medians in SQL on both databases: the middle one or two rows of each ordered group.
    for grouping in ("place", "blmk"):
        partition = [r.local_month] if grouping == "blmk" else [r.place, r.local_month]
        ranked = select(
            r.place.label("place"),
            r.local_month.label("month"),
            r.minutes_to_accept.label("minutes"),
            func.row_number()
            .over(partition_by=partition, order_by=r.minutes_to_accept)
            .label("rn"),
            func.count().over(partition_by=partition).label("cnt"),
        ).where(r.local_month.between(*months), r.minutes_to_accept.is_not(None))
        if grouping == "blmk":
            ranked = ranked.where(r.place.in_(BLMK_PLACES))
        sub = ranked.subquery()
        middle = sub.c.rn.in_([(sub.c.cnt + 1) // 2, (sub.c.cnt + 2) // 2])
        group = [sub.c.month] if grouping == "blmk" else [sub.c.place, sub.c.month]
        query = (
            select(*group, func.avg(sub.c.minutes.cast(Integer) * 1.0))
            .where(middle)
            .group_by(*group)
        )
        for row in session.execute(query):
            if grouping == "blmk":
                tally.medians[("blmk", row[0])] = float(row[1])
            else:
                tally.medians[(_place(row[0]), row[1])] = float(row[2])


def _row(place: str, month: str, tally: _Tally, population: Population) -> dict[str, Any]:
    key = (place, month)
    c = tally.counts[key]
    people = population.all_ages.get(place)
    adults = population.aged_18_plus.get(place)
    year, number = map(int, month.split("-"))
    days_in_month = calendar.monthrange(year, number)[1]
    row: dict[str, Any] = {"place": place, "month": month}
    row["ae_attendances"] = c["ae_attendances"]
    row["ae_rate_per_1000"] = _ratio(c["ae_attendances"], people, 1000)
    row["nel_admissions"] = c["nel_admissions"]
    row["nel_rate_per_1000"] = _ratio(c["nel_admissions"], people, 1000)
    row["nel_rate_per_100k"] = _ratio(c["nel_admissions"], people, 100_000)
    row["discharges"] = c["discharges"]
    row["readmissions_30d"] = c["readmissions_30d"]
    row["readmission_pct"] = _ratio(c["readmissions_30d"], c["discharges"], 100)
    row["dtoc_delayed_days"] = c["dtoc_delayed_days"]
    row["dtoc_beds"] = rounded(c["dtoc_delayed_days"] / days_in_month)
    row["dtoc_rate_per_100k_18plus"] = _ratio(c["dtoc_delayed_days"], adults, 100_000)
    for split in ("nhs", "social_care", "both", "acute", "non_acute"):
        row[f"dtoc_delayed_days_{split}"] = c[f"dtoc_delayed_days_{split}"]
    row["dtoc_delayed_days_by_reason"] = {code: tally.reasons[key][code] for code in REASONS}
    row["care_home_call_outs"] = c["care_home_call_outs"]
    row["care_home_conveyances"] = c["care_home_conveyances"]
    row["conveyance_rate"] = _ratio(c["care_home_conveyances"], c["care_home_call_outs"], 1)
    row["navigations"] = c["navigations"]
    row["navigations_by_urgency"] = {u: tally.urgencies[key][u] for u in URGENCIES}
    row["pct_away_from_ed"] = _ratio(c["navigations_away_from_ed"], c["navigations"], 100)
    for name in ("referrals_sent", "referrals_accepted", "referrals_rejected", "referrals_overdue"):
        row[name] = c[name]
    median = tally.medians.get(key)
    row["median_minutes_to_accept"] = rounded(median) if median is not None else None
    return row


def _summary(place: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"place": place, "months": len(rows)}
    for name in ("care_home_call_outs", "care_home_conveyances"):
        values = [r[name] for r in rows]
        summary[f"{name}_monthly_average"] = rounded(sum(values) / len(values)) if values else None
        summary[f"{name}_min"] = min(values) if values else None
        summary[f"{name}_max"] = max(values) if values else None
    for name in COUNTS:
        if rows and name in rows[0]:
            summary[f"{name}_total"] = sum(r[name] for r in rows)
    return summary


def cisp(
    session: Session,
    *,
    start: str,
    end: str,
    place: str | None,
    population: Population,
    now: datetime,
) -> dict[str, Any]:
    refresh_open_episodes(session, now)  # open delays count up to now
    months = months_between(start, end)
    tally = _Tally()
    bounds = (start, end)
    _transitions(session, tally, bounds)
    _dtoc(session, tally, bounds)
    _navigations(session, tally, bounds)
    _referrals(session, tally, bounds, now)
    places = [place] if place else list(ROW_PLACES)
    rows = [_row(p, m, tally, population) for p in places for m in months]
    summary = [_summary(p, [r for r in rows if r["place"] == p]) for p in places]
    return {
        "from": start,
        "to": end,
        "population_source": f"{population.source} ({population.year})",
        "rows": rows,
        "summary": summary,
    }


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """One column per measure; nested splits become `name_key` columns (for CSV)."""
    flat: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            flat.update({f"{name}_{key}": v for key, v in value.items()})
        else:
            flat[name] = value
    return flat
