"""A directory service's opening times as FHIR R4 `HealthcareService` elements
(`healthcare_service.healthcare_service` places them): the weekly sessions as
`availableTime` (London wall-clock; open all hours is every day `allDay`), closures as
`notAvailable` (temporarily closed or defunct; closed specified dates and closed bank holidays,
from today for `NOT_AVAILABLE_DAYS` days), and the whole timetable in words as
`availabilityExceptions`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from navigator.core.clock import DAY_MINUTES, LONDON, Period, format_minutes, is_bank_holiday
from navigator.directory.index import Entry
from navigator.directory.opening import Schedule

NOT_AVAILABLE_DAYS = 366
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _time(minute: int) -> str:
    # FHIR `time` has no 24:00: the end of the day is its last second.
    return "23:59:59" if minute >= DAY_MINUTES else f"{format_minutes(minute)}:00"


def available_time(schedule: Schedule) -> list[dict[str, Any]]:
    """The weekly sessions as `availableTime`, days with the same session grouped. A session
    running past midnight is split at midnight (its tail on the next day), as FHIR times are
    within a day; a whole day is `allDay`. Open all hours is every day `allDay`."""
    if schedule.open_all_hours:
        return [{"daysOfWeek": list(DAY_CODES), "allDay": True}]
    by_window: dict[tuple[int, int], set[int]] = {}
    for day, periods in enumerate(schedule.weekly):
        for window, on in _split(periods, day):
            by_window.setdefault(window, set()).add(on)
    out = []
    for (start, end), days in sorted(by_window.items(), key=lambda i: (min(i[1]), i[0])):
        item: dict[str, Any] = {"daysOfWeek": [DAY_CODES[d] for d in sorted(days)]}
        if (start, end) == (0, DAY_MINUTES):
            item["allDay"] = True
        else:
            item["availableStartTime"] = _time(start)
            item["availableEndTime"] = _time(end)
        out.append(item)
    return out


def _split(periods: tuple[Period, ...], day: int) -> list[tuple[tuple[int, int], int]]:
    """((start, end) within one day, weekday) for each session, split at midnight."""
    out = []
    for start, end in periods:
        out.append(((start, min(end, DAY_MINUTES)), day))
        if end > DAY_MINUTES:
            out.append(((0, end - DAY_MINUTES), (day + 1) % 7))
    return out


@lru_cache(maxsize=8)
def upcoming_bank_holidays(today: date, days: int = NOT_AVAILABLE_DAYS) -> tuple[date, ...]:
    """England's bank holidays from `today` for `days` days."""
    return tuple(
        day for offset in range(days) if is_bank_holiday(day := today + timedelta(days=offset))
    )


def _day_period(day: date) -> dict[str, str]:
    start = datetime.combine(day, datetime.min.time(), LONDON)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), LONDON)
    return {"start": start.isoformat(), "end": end.isoformat()}


def not_available(entry: Entry, opening: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """`notAvailable`: the service's status when closed, its closed bank holidays (from
    `today` for `NOT_AVAILABLE_DAYS` days) and its closed specified dates from `today`."""
    out: list[dict[str, Any]] = []
    if entry.record["status"] == "temporarily_closed":
        out.append({"description": "Temporarily closed"})
    elif entry.record["status"] == "defunct":
        out.append({"description": "Closed permanently"})
    schedule = entry.schedule
    closed = {
        date.fromisoformat(d["date"])
        for d in opening["specified_dates"]
        if d["closed"] and date.fromisoformat(d["date"]) >= today
    }
    if not schedule.open_all_hours and any(schedule.weekly):
        for day in upcoming_bank_holidays(today):
            usually_open = bool(schedule.weekly[day.weekday()])
            if usually_open and day not in schedule.dates and not schedule.periods_on(day):
                out.append({"description": "Closed: bank holiday", "during": _day_period(day)})
    for day in sorted(closed):
        out.append({"description": f"Closed on {day.day} {day:%b %Y}", "during": _day_period(day)})
    return out


def availability_exceptions(summary: str, opening: dict[str, Any], today: date) -> str:
    """The timetable in words, and any specified dates from today with their own hours."""
    special = [
        f"{d.day} {d:%b %Y} " + ", ".join(f"{s[0]}–{s[1]}" for s in entry["sessions"])
        for entry in opening["specified_dates"]
        if not entry["closed"] and (d := date.fromisoformat(entry["date"])) >= today
    ]
    text = f"Opening times (Europe/London): {summary}"
    if special:
        text += "; on given dates: " + "; ".join(special)
    return text
