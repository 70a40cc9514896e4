"""Opening times: which periods apply on a day, open-or-not, closing time, next opening.

Periods are minutes from local midnight of the day they start; an end past 1440 means the
period runs past midnight (an overnight session belongs to the day it starts). Whether a
service is open is decided on the Europe/London wall clock, which is what the published
hours mean; durations (closing within 30 minutes, opening within an urgency window) are
measured in real time by converting both ends to UTC, so clock changes are handled.

Precedence for a day: specified date > open all hours > bank holiday > weekly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 1440

Period = tuple[int, int]
ALL_DAY: tuple[Period, ...] = ((0, DAY_MINUTES),)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # England and Wales share bank holidays; the `holidays` package keeps them current.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


@lru_cache(maxsize=4096)  # a directory uses few distinct times; 100,000 services parse fast
def parse_hhmm(value: str) -> int:
    """'08:30' -> 510; '24:00' is allowed as the end of a day."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"{value!r} is not a time of day (HH:MM)")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > DAY_MINUTES:
        raise ValueError(f"{value!r} is not a time of day (HH:MM)")
    return total


def format_minutes(minutes: int) -> str:
    minutes %= DAY_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=4096)
def period(opens: str, closes: str) -> Period:
    start, end = parse_hhmm(opens), parse_hhmm(closes)
    if start == DAY_MINUTES:
        raise ValueError("a period cannot open at 24:00")
    if end <= start:  # runs past midnight ("22:00"-"08:00"; "00:00"-"00:00" is the whole day)
        end += DAY_MINUTES
    return (start, end)


def to_local(at: datetime) -> datetime:
    """An aware instant as a naive Europe/London wall-clock time."""
    return at.astimezone(LONDON).replace(tzinfo=None)


def local_month(at: datetime) -> str:
    """The Europe/London month of an instant, "YYYY-MM"."""
    return to_local(at).strftime("%Y-%m")


def to_utc(local: datetime) -> datetime:
    return local.replace(tzinfo=LONDON).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    open_all_hours: bool
    weekly: tuple[tuple[Period, ...], ...]  # Monday first
    bank_holidays: tuple[Period, ...]
    dates: Mapping[date, tuple[Period, ...]]  # () means closed all that day

    def periods_on(self, day: date) -> tuple[Period, ...]:
        special = self.dates.get(day)
        if special is not None:
            return special
        if self.open_all_hours:
            return ALL_DAY
        if is_bank_holiday(day):
            return self.bank_holidays
        return self.weekly[day.weekday()]

    @property
    def always_open(self) -> bool:
        return self.open_all_hours and not self.dates

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        return self.is_open_local(to_local(at))

    def is_open_local(self, local: datetime) -> bool:
        """`is_open` for a naive Europe/London time (convert once, check many services)."""
        if self.always_open:
            return True
        minute = local.hour * 60 + local.minute + local.second / 60
        day = local.date()
        if any(start <= minute < end for start, end in self.periods_on(day)):
            return True
        yesterday = self.periods_on(day - timedelta(days=1))
        return any(end > DAY_MINUTES and minute < end - DAY_MINUTES for _, end in yesterday)

    def _stretches(self, first_day: date, days: int) -> list[Period]:
        """Merged open stretches in minutes from `first_day` 00:00 local, over `days` days."""
        raw = sorted(
            (offset * DAY_MINUTES + start, offset * DAY_MINUTES + end)
            for offset in range(days)
            for start, end in self.periods_on(first_day + timedelta(days=offset))
        )
        merged: list[Period] = []
        for start, end in raw:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def closes_at(self, at: datetime, horizon_days: int = 2) -> datetime | None:
        """When the stretch open at `at` ends (UTC); None if open beyond the horizon or closed."""
        if self.always_open:
            return None
        local = to_local(at)
        first_day = local.date() - timedelta(days=1)
        now = DAY_MINUTES + local.hour * 60 + local.minute + local.second / 60
        for start, end in self._stretches(first_day, horizon_days + 2):
            if start <= now < end:
                if end >= (horizon_days + 2) * DAY_MINUTES:
                    return None
                return to_utc(
                    datetime.combine(first_day, datetime.min.time()) + timedelta(minutes=end)
                )
        return None

    def next_open(self, at: datetime, horizon_days: int = 8) -> datetime | None:
        """The next time (UTC) after `at` that the service opens, within the horizon."""
        local = to_local(at)
        first_day = local.date()
        now = local.hour * 60 + local.minute + local.second / 60
        for start, _ in self._stretches(first_day, horizon_days):
            if start > now:
                return to_utc(
                    datetime.combine(first_day, datetime.min.time()) + timedelta(minutes=start)
                )
        return None


def _periods(pairs: Iterable[Sequence[str]]) -> tuple[Period, ...]:
    return tuple(sorted(period(opens, closes) for opens, closes in pairs))


def schedule_from_opening(opening: Mapping[str, Any]) -> Schedule:
    """Build a Schedule from a directory record's `opening` block."""
    weekly = opening.get("weekly") or {}
    dates: dict[date, tuple[Period, ...]] = {}
    for entry in opening.get("specified_dates") or []:
        day = (
            entry["date"] if isinstance(entry["date"], date) else date.fromisoformat(entry["date"])
        )
        dates[day] = () if entry.get("closed") else _periods(entry.get("sessions") or [])
    return Schedule(
        open_all_hours=bool(opening.get("open_all_hours")),
        weekly=tuple(_periods(weekly.get(day) or []) for day in WEEKDAYS),
        bank_holidays=_periods(opening.get("bank_holidays") or []),
        dates=dates,
    )


def _describe_periods(periods: tuple[Period, ...]) -> str:
    return ", ".join(f"{format_minutes(s)}–{format_minutes(e)}" for s, e in periods)


def describe(schedule: Schedule) -> str:
    """A one-line summary a navigator can read out, e.g. 'Mon–Fri 08:00–18:30; Sat closed'."""
    if schedule.open_all_hours:
        return "Open 24 hours, every day"
    groups: list[tuple[int, int, tuple[Period, ...]]] = []
    for index, periods in enumerate(schedule.weekly):
        if groups and groups[-1][2] == periods:
            groups[-1] = (groups[-1][0], index, periods)
        else:
            groups.append((index, index, periods))
    parts = []
    for first, last, periods in groups:
        days = WEEKDAYS[first][:3].title()
        if last != first:
            days += "–" + WEEKDAYS[last][:3].title()
        parts.append(f"{days} {_describe_periods(periods) if periods else 'closed'}")
    bank = _describe_periods(schedule.bank_holidays) if schedule.bank_holidays else "closed"
    parts.append(f"bank holidays {bank}")
    return "; ".join(parts)
