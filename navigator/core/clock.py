"""The clock every domain shares: Europe/London wall time, local months, bank holidays,
`HH:MM` times of day and ages in days.

Instants are stored and passed as aware UTC datetimes; London time appears only where a person
reads or writes it (opening hours, months in the dashboard, SitRep days). Sources: the
`holidays` package for England and Wales bank holidays; the DoS convention of 365.25 days a
year, rounded up, for ages (`shared/domain/dos-and-111.md`).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 1440
DAYS_PER_YEAR = 365.25

Period = tuple[int, int]  # minutes from local midnight; an end past 1440 runs past midnight


def age_in_days(years: float) -> int:
    """DoS convention: one year is 365.25 days, rounded up (18 years = 6575 days)."""
    return math.ceil(years * DAYS_PER_YEAR)


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
    """A session from "HH:MM" strings as minutes; an end at or before the start runs past
    midnight ("22:00"-"08:00"; "00:00"-"00:00" is the whole day). ValueError if malformed."""
    start, end = parse_hhmm(opens), parse_hhmm(closes)
    if start == DAY_MINUTES:
        raise ValueError("a period cannot open at 24:00")
    if end <= start:
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
