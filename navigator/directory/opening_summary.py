"""Opening times in words: one line a navigator can read out for a service's timetable.

`describe` summarises a `Schedule` (`navigator.directory.opening`): weekdays with the same
sessions grouped ("Mon–Fri 08:00–18:30"), then each recurring entry (`describe_recurring`,
e.g. "first Saturday of the month 10:00–12:00"; the rules are
`navigator.directory.recurrence`'s), then bank holidays; a timetable with none of these says
so ("No opening hours given") rather than "closed". Times are Europe/London wall-clock
`HH:MM`, ranges with an en dash as NHS.UK writes them, midnight to midnight "all day".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from navigator.core.clock import WEEKDAYS, Period, format_minutes
from navigator.directory.opening import ALL_DAY, Schedule
from navigator.directory.recurrence import BYDAY, RULE_DAYS, Recurring


def _describe_periods(periods: tuple[Period, ...]) -> str:
    """'08:00–12:30, 13:30–18:00'; a session from midnight to midnight ("00:00"-"00:00" or
    "00:00"-"24:00", `ALL_DAY`) is 'all day': as times it would read "00:00–00:00"."""
    return ", ".join(
        "all day" if (s, e) in ALL_DAY else f"{format_minutes(s)}–{format_minutes(e)}"
        for s, e in periods
    )


_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}


def _ordinal_day(n: int) -> str:
    """1 -> '1st', 22 -> '22nd', -1 -> 'last day', -2 -> '2nd-to-last day'."""
    if n < 0:
        return "last day" if n == -1 else f"{_ordinal_day(-n)}-to-last day"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _long_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _every(interval: int, unit: str) -> str:
    return {1: f"every {unit}", 2: f"every other {unit}"}.get(interval, f"every {interval} {unit}s")


def describe_recurring(entry: Recurring) -> str:
    """Plain English for a recurring entry and its sessions, e.g. 'first Saturday of the month
    10:00–12:00', 'Tuesday every other week from 6 Jan 2026 09:00–12:00'."""
    rule = entry.rule
    days: list[str] = []
    for token in rule.byday.split(",") if rule.byday else []:
        match = BYDAY.match(token)
        assert match is not None
        name = WEEKDAYS[RULE_DAYS.index(match.group(2))].title()
        n = int(match.group(1)) if match.group(1) else 0
        if n > 0:
            days.append(f"{_ORDINALS[n]} {name}")
        elif n < 0:
            days.append(f"last {name}" if n == -1 else f"{_ORDINALS[-n]}-to-last {name}")
        else:  # every such weekday of the month (WEEKLY says "every" once, below)
            days.append(name if rule.freq == "WEEKLY" else f"every {name}")
    if rule.freq == "WEEKLY":
        if not days:
            assert rule.dtstart is not None  # parse_rule requires byday or dtstart
            days = [WEEKDAYS[rule.dtstart.weekday()].title()]
        text = (
            f"every {_and(days)}"
            if rule.interval == 1
            else f"{_and(days)} {_every(rule.interval, 'week')}"
        )
    else:
        monthdays = (
            [_ordinal_day(int(d)) for d in rule.bymonthday.split(",")] if rule.bymonthday else []
        )
        if not days and not monthdays:
            assert rule.dtstart is not None  # parse_rule requires one of the three
            monthdays = [_ordinal_day(rule.dtstart.day)]
        if days and monthdays:  # RFC 5545: both must hold (a Friday that is the 13th)
            what = f"{_and(days)} falling on the {_and(monthdays)}"
        else:
            what = _and(days) if days else f"the {_and(monthdays)}"
        text = (
            f"{what} of the month"
            if rule.interval == 1
            else f"{what} of the month, {_every(rule.interval, 'month')}"
        )
    if rule.dtstart is not None:
        text += f" from {_long_date(rule.dtstart)}"
    if rule.count is not None:
        text += f", {rule.count} times"
    if rule.until is not None:
        text += f" until {_long_date(rule.until)}"
    if entry.valid_from is not None or entry.valid_to is not None:
        bounds = []
        if entry.valid_from is not None:
            bounds.append(f"from {_long_date(entry.valid_from)}")
        if entry.valid_to is not None:
            bounds.append(f"to {_long_date(entry.valid_to)}")
        text += f" ({' '.join(bounds)})"
    return f"{text} {_describe_periods(entry.periods)}"


NO_HOURS = "No opening hours given"
DATES_ONLY = "No regular opening hours; open only on given dates"


def describe(schedule: Schedule) -> str:
    """A one-line summary a navigator can read out, e.g. 'Mon–Fri 08:00–18:30; Sat closed;
    first Saturday of the month 10:00–12:00; bank holidays closed'. Recurring entries are
    always named; a timetable with no weekly sessions but recurring ones leaves out
    'Mon–Sun closed', which would read as never open. A timetable with no weekly, bank
    holiday or recurring sessions (a feed that gave no hours) is `NO_HOURS`, or `DATES_ONLY`
    when some given dates have sessions: "Mon–Sun closed" would claim what no one said."""
    if schedule.open_all_hours:
        return "Open 24 hours, every day"
    if not any(schedule.weekly) and not schedule.bank_holidays and not schedule.recurring:
        return DATES_ONLY if any(schedule.dates.values()) else NO_HOURS
    groups: list[tuple[int, int, tuple[Period, ...]]] = []
    for index, periods in enumerate(schedule.weekly):
        if groups and groups[-1][2] == periods:
            groups[-1] = (groups[-1][0], index, periods)
        else:
            groups.append((index, index, periods))
    parts = []
    for first, last, periods in groups:
        if not periods and len(groups) == 1 and schedule.recurring:
            continue
        days = WEEKDAYS[first][:3].title()
        if last != first:
            days += "–" + WEEKDAYS[last][:3].title()
        parts.append(f"{days} {_describe_periods(periods) if periods else 'closed'}")
    also = "also " if parts else ""  # weekly sessions shown: these come on top of them
    parts.extend(also + describe_recurring(entry) for entry in schedule.recurring)
    bank = _describe_periods(schedule.bank_holidays) if schedule.bank_holidays else "closed"
    parts.append(f"bank holidays {bank}")
    return "; ".join(parts)
