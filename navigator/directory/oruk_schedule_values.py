"""The values inside HSDS schedules, read one field at a time: times of day, dates, whole
numbers, RFC 5545 `byday`/`bymonthday` lists and a schedule's opening hours.

Each `read_*` gives the value in navigator's terms (`HH:MM` London wall time, "YYYY-MM-DD",
...) or None after a warning in `notes` naming the field at `path`, so the caller leaves that
schedule out. Sources as for `navigator.directory.oruk_schedules`, which turns whole schedules
into navigator's opening timetable with these.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from navigator.core.clock import WEEKDAYS, period
from navigator.directory.oruk_terms import DAYS
from navigator.directory.oruk_values import Notes, quote

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$", re.I)
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_DAY_NAMES = {name: code for name, code in zip(WEEKDAYS, DAYS, strict=True)}
WHOLE_DAY = ("00:00", "24:00")  # HSDS's 00:00-23:59 is read as this
Session = tuple[str, str]  # (opens, closes), HH:MM


def read_time(value: Any, path: str, notes: Notes) -> str | None:
    """An HSDS time (`09:00`, `09:00:00`, `09:00:00Z`, `09:00+01:00`) as navigator's `HH:MM`
    London wall time; None (with a warning) when it is not a time."""
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        notes.warn(path, f"{quote(value)} is not a time of day; schedule left out")
        return None
    hours, minutes, seconds, zone = match.groups()
    if int(hours) > 24 or int(minutes) > 59 or (int(hours) == 24 and int(minutes) > 0):
        notes.warn(path, f"{quote(value)} is not a time of day; schedule left out")
        return None
    if seconds and int(seconds):
        notes.warn(path, f"{quote(value)}: seconds left out")
    if zone:
        notes.warn(
            path,
            f"{quote(value)} has a fixed UTC offset, not London wall time; "
            "read as London time (an hour out for part of the year)",
        )
    return f"{int(hours):02d}:{minutes}"


def read_date(value: Any, path: str, notes: Notes) -> str | None:
    """An HSDS date (or the date part of a date-time) as "YYYY-MM-DD"; None (with a warning)
    when it is not one."""
    if value is None:
        notes.warn(path, "missing: a date (YYYY-MM-DD) is needed; schedule left out")
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            pass
    # Every value that is not a date reaches this warning (a number, an object, ""): the
    # callers drop the schedule on None and rely on it having been said (issue 15 review).
    notes.warn(path, f"{quote(value)} is not a date (YYYY-MM-DD); schedule left out")
    return None


def read_positive_int(value: Any, path: str, notes: Notes) -> int | None:
    """A whole number from 1 (`2`, `2.0`, `"2"`); None (with a warning) otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if number < 1 or not number.is_integer() or isinstance(value, bool):
        notes.warn(path, f"{quote(value)} is not a whole number from 1; schedule left out")
        return None
    return int(number)


def read_byday(value: Any, path: str, notes: Notes) -> list[tuple[int | None, str]] | None:
    """`byday` (`MO,TU`, `1SA`, `-1FR`; also day names, as old HSDS-UK `weekday` has them)
    as (ordinal or None, day code) pairs; None with a warning when unreadable."""
    parts = []
    for token in str(value).split(","):
        token = token.strip()
        code = _DAY_NAMES.get(token.lower(), token.upper())
        match = _BYDAY.match(code)
        if not match or (match[1] and not 1 <= abs(int(match[1])) <= 5):
            notes.warn(path, f"{quote(value)} is not a list of RFC 5545 days; schedule left out")
            return None
        parts.append((int(match[1]) if match[1] else None, match[2]))
    return parts


def read_bymonthday(value: Any, path: str, notes: Notes) -> list[int] | None:
    """`bymonthday` (`1,15,-1`) as days of the month, -31..31 without 0; None (with a warning)
    when unreadable."""
    try:
        days = [int(str(part).strip()) for part in str(value).split(",")]
    except ValueError:
        days = [0]
    if not days or any(d == 0 or not -31 <= d <= 31 for d in days):
        notes.warn(path, f"{quote(value)} is not a list of days of the month; schedule left out")
        return None
    return days


def read_session(s: dict[str, Any], path: str, notes: Notes) -> tuple[bool, Session | None]:
    """(readable, hours): hours None when the schedule gives neither end. `00:00` to `23:59`,
    `00:00` or `24:00` is the whole day; other equal ends (`09:00`-`09:00`) are ambiguous and
    not readable; a close before the open (`17:00`-`09:00`) is overnight, warned (HSDS has no
    overnight sessions, so it may be swapped fields)."""
    opens_raw, closes_raw = s.get("opens_at"), s.get("closes_at")
    if opens_raw is None and closes_raw is None:
        return True, None
    if opens_raw is None or closes_raw is None:
        missing = "opens_at" if opens_raw is None else "closes_at"
        notes.warn(f"{path}.{missing}", "missing (only one end of the hours); schedule left out")
        return False, None
    opens = read_time(opens_raw, f"{path}.opens_at", notes)
    closes = read_time(closes_raw, f"{path}.closes_at", notes)
    if opens is None or closes is None:
        return False, None
    if opens == "00:00" and closes in ("23:59", "00:00", "24:00"):
        return True, WHOLE_DAY  # HSDS's way of writing all day
    try:
        period(opens, closes)
    except ValueError as exc:
        notes.warn(f"{path}.opens_at", f"{exc}; schedule left out")
        return False, None
    if opens == closes:
        # navigator would read equal ends as the whole day; only 00:00-00:00 says that
        notes.warn(
            f"{path}.closes_at",
            f"same as opens_at ({opens}): all day or not at all is not clear; schedule left out",
        )
        return False, None
    if closes < opens and closes not in ("00:00", "24:00"):
        notes.warn(
            f"{path}.closes_at",
            f"{closes} is before opens_at {opens}: read as overnight, {opens} to {closes} "
            "the next morning",
        )
    return True, (opens, closes)
