"""The clock every domain shares: Europe/London wall time, local months, bank holidays,
`HH:MM` times of day, daily windows that may run past midnight, and ages in days.

Instants are stored and passed as aware UTC datetimes; London time appears only where a person
reads or writes it (opening hours, months in the dashboard, SitRep days). Sources: the
`holidays` package for England and Wales bank holidays; the DoS convention of 365.25 days a
year, rounded up, for ages (`shared/domain/dos-and-111.md`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal
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


def years_from_days(days: int) -> int:
    """An age in days as whole years: the inverse of `age_in_days`, rounding down (365.25
    days a year), i.e. the largest whole `y` with `age_in_days(y) <= days` (6574 days = 17).

    For whole years `y >= 0`: `years_from_days(age_in_days(y)) == y` (the first day of that
    year of age) and `years_from_days(age_in_days(y + 1) - 1) == y` (its last day), so an age
    range exported in years (ORUK `minimum_age`/`maximum_age`) and read back the way
    `oruk_import` reads it (`age_in_days(min)`, `age_in_days(max + 1) - 1`) is the same range.
    For any `days >= 0` that round trip only widens the range, never narrows it:
    `age_in_days(years_from_days(days)) <= days <= age_in_days(years_from_days(days) + 1) - 1`.
    """
    return math.floor(days / DAYS_PER_YEAR)


def min_age_days_from_years(years: float) -> int:
    """An ORUK/HSDS `minimum_age` (decimal years, >= 0) as the first day of age admitted:
    `age_in_days(years)` (1.5 -> 548, 18 -> 6575)."""
    return age_in_days(years)


def max_age_days_from_years(years: float) -> int:
    """An ORUK/HSDS `maximum_age` (decimal years, >= 0) as the last day of age admitted,
    inclusive. A whole number keeps the DoS's whole-year reading, up to the day before the next
    birthday (17 -> 6574 days: every 17-year-old); a fraction is an exact age, admitted through
    the day it is reached (1.5 -> 548 days, 18 months), never "1.5 plus a year" (issue 15).
    So every value written to two decimal places reads back from its days unchanged."""
    if float(years).is_integer():
        return age_in_days(years + 1) - 1
    return age_in_days(years)


def _shortest_years(days: int, to_days: Callable[[float], int], whole: bool) -> float | int:
    """The number of years with the fewest decimal places that `to_days` reads as `days`:
    a whole number if `whole` allows one, else a fraction of 1 to 3 places (a thousandth of a
    year is 0.37 days, so 3 places always reach any day)."""
    nearest = days / DAYS_PER_YEAR
    if whole:
        for candidate in (math.floor(nearest) - 1, math.floor(nearest), math.ceil(nearest)):
            if candidate >= 0 and to_days(candidate) == days:
                return int(candidate)
    for places in (1, 2, 3):
        step = 10.0**-places
        guess = round(nearest, places)
        for shift in (0, -1, 1, -2, 2):
            value = round(guess + shift * step, places)
            if value > 0 and not value.is_integer() and to_days(value) == days:
                return value
    # Only a last day of 0 (a service for the first day of life) has no such number; the
    # nearest, 0.001, admits one day more.
    return 0.001


def years_for_min_age_days(days: int) -> float | int:
    """The ORUK `minimum_age` that `min_age_days_from_years` reads back as `days` exactly,
    written as briefly as possible (548 -> 1.5, 6575 -> 18)."""
    return _shortest_years(days, min_age_days_from_years, whole=True)


def years_for_max_age_days(days: int) -> float | int:
    """The ORUK `maximum_age` that `max_age_days_from_years` reads back as `days` exactly,
    written as briefly as possible (548 -> 1.5, 6574 -> 17), so export, import and export
    write the same number."""
    return _shortest_years(days, max_age_days_from_years, whole=True)


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
    return daily_period(start, end, equal="whole_day")


def daily_period(start: int, end: int, *, equal: Literal["whole_day", "empty"]) -> Period:
    """A daily window from `start` to `end` (minutes from local midnight, 0–1440) as a
    Period: an end before the start runs past midnight (1320, 480 -> (1320, 1920)). An end
    equal to the start is ambiguous, so the caller says what it means: `"whole_day"` (a rule
    set's time window or an opening session "00:00"-"00:00") or `"empty"` (follow-up quiet
    hours "22:00"-"22:00": no quiet hours)."""
    if end < start or (end == start and equal == "whole_day"):
        end += DAY_MINUTES
    return (start, end)


def in_period(
    minute: int, span: Period, *, started_today: bool = True, started_yesterday: bool = True
) -> bool:
    """Whether `minute` of a local day (0–1439) falls in a daily window `span`: in the one
    that starts that day (when `started_today`) or in the part past midnight of the one that
    started the day before (when `started_yesterday`). The flags let a window that runs only
    on some weekdays say which days it started on."""
    start, end = span
    return (started_today and start <= minute < end) or (
        started_yesterday and minute < end - DAY_MINUTES
    )


def to_local(at: datetime) -> datetime:
    """An aware instant as a naive Europe/London wall-clock time."""
    return at.astimezone(LONDON).replace(tzinfo=None)


def local_month(at: datetime) -> str:
    """The Europe/London month of an instant, "YYYY-MM"."""
    return to_local(at).strftime("%Y-%m")


def to_utc(local: datetime) -> datetime:
    return local.replace(tzinfo=LONDON).astimezone(UTC)
