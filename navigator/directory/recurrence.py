"""Recurring opening entries: RFC 5545 rules as HSDS schedules give them, expanded by dateutil.

A recurring entry (`opening.recurring`) is a schedule that is not plain weekly: `MONTHLY` with
`byday: 1SA` or `bymonthday: "1,-1"`, fortnightly `WEEKLY` with `interval: 2`, `until`/`count`,
`valid_from`/`valid_to`. `parse_rule` checks and normalises its rule (a `Rule`, or `RuleError`
naming the field); `python-dateutil`'s `rrule` expands it, never a hand-written expansion. An
entry (`Recurring`) occurs on a London day when its rrule produces that date and the day lies
within [valid_from, valid_to]. The dates a rule produces are computed once per (rule, year) and
kept as a frozenset (`occurrences`), so asking about a day is a set lookup. How its sessions
join a day's timetable, in real time across clock changes, is `navigator.directory.opening`'s
part; `navigator.directory.opening_summary` puts an entry into words.

Why a missing `dtstart` may default to 1 January of the year asked about: the format requires
`dtstart` whenever `interval` > 1 or `count` is given, so a rule without one has interval 1 and
no count. For such a rule the set of dates within a year does not depend on where the expansion
starts, provided it starts no later than that year and on the first day of a week or month of
the rule: with `WEEKLY` every week is in the recurrence, and the weekdays named in `byday` are
in it whichever week they fall in; with `MONTHLY` every month is in it, and each month's dates
(`1SA`, `-1FR`, `bymonthday: -1`) are worked out from that whole month, which a start on
1 January never cuts short. dateutil does not count `dtstart` itself as an occurrence unless it
fits the rule, so the default adds no date either. When `dtstart` is given it is always used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Literal

from dateutil import rrule as rr

from navigator.core.clock import Period

FREQUENCIES: dict[str, Literal[1, 2]] = {"WEEKLY": rr.WEEKLY, "MONTHLY": rr.MONTHLY}
RULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # RFC 5545 weekday codes, Monday first
BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")  # a `byday` token: 1SA, -1FR, MO
# Where a rule without `dtstart` is checked for having any occurrence at all (the first of a
# month, so a month is never cut short; see the module docstring).
_CHECK_FROM = date(2000, 1, 1)


class RuleError(ValueError):
    """A recurring entry's rule that cannot be used, with the field at fault (`field`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Rule:
    """An RFC 5545 recurrence as the HSDS schedule fields give it, validated and normalised by
    `parse_rule`: `freq` WEEKLY | MONTHLY; `interval` >= 1; `byday` e.g. "MO,WE" or "1SA,-1FR"
    (weekday order, no "+"); `bymonthday` e.g. "1,15,-1" (positive days first); dates are local
    (Europe/London) days, `until` inclusive."""

    freq: str
    interval: int = 1
    byday: str | None = None
    bymonthday: str | None = None
    dtstart: date | None = None
    until: date | None = None
    count: int | None = None

    def rrule(self, start: date | None = None) -> rr.rrule:
        """dateutil's rrule for this rule, from `dtstart` (or `start` when there is none; see
        the module docstring for why 1 January of the year asked about gives the same dates).
        Occurrences are naive midnights of the local days."""
        first = self.dtstart or start
        if first is None:
            raise ValueError("a rule without dtstart needs a start")
        byday = None
        if self.byday:
            byday = []
            for token in self.byday.split(","):
                match = BYDAY.match(token)
                assert match is not None  # parse_rule normalised it
                weekday = rr.weekdays[RULE_DAYS.index(match.group(2))]
                byday.append(weekday(int(match.group(1))) if match.group(1) else weekday)
        bymonthday = tuple(int(d) for d in self.bymonthday.split(",")) if self.bymonthday else None
        return rr.rrule(
            FREQUENCIES[self.freq],
            dtstart=datetime.combine(first, time()),
            interval=self.interval,
            byweekday=byday,
            bymonthday=bymonthday,
            until=datetime.combine(self.until, time()) if self.until else None,
            count=self.count,
            wkst=rr.MO,  # RFC 5545's default; dateutil's follows `calendar.firstweekday()`
            cache=False,
        )


def _rule_date(fields: Mapping[str, Any], name: str) -> date | None:
    value = fields.get(name)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(name, "Not a date (YYYY-MM-DD)") from None


def _whole(fields: Mapping[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RuleError(name, "Give a whole number, 1 or more")
    return value


def _byday(text: str, freq: str) -> str:
    tokens: set[tuple[int, int]] = set()  # (weekday, ordinal or 0)
    for raw in text.upper().replace(" ", "").split(","):
        match = BYDAY.match(raw)
        if match is None:
            raise RuleError("byday", f"{raw!r} is not a day: MO..SU, with MONTHLY maybe 1SA, -1FR")
        ordinal = int(match.group(1)) if match.group(1) else 0
        if ordinal and freq != "MONTHLY":
            raise RuleError("byday", f"{raw!r}: an ordinal day (2MO, -1FR) needs freq MONTHLY")
        tokens.add((RULE_DAYS.index(match.group(2)), ordinal))
    return ",".join(f"{n or ''}{RULE_DAYS[day]}" for day, n in sorted(tokens))


def _bymonthday(text: str) -> str:
    days: set[int] = set()
    for raw in text.replace(" ", "").split(","):
        try:
            day = int(raw)
        except ValueError:
            raise RuleError("bymonthday", f"{raw!r} is not a day of the month") from None
        if not 1 <= abs(day) <= 31:
            raise RuleError("bymonthday", f"{day} is not a day of the month (1..31, -1 = last)")
        days.add(day)
    return ",".join(str(d) for d in sorted(days, key=lambda d: (d < 0, abs(d))))


def parse_rule(fields: Mapping[str, Any]) -> Rule:
    """A Rule from HSDS-style fields (`freq`, `interval`, `byday`, `bymonthday`, `dtstart`,
    `until`, `count`; dates as `date` or "YYYY-MM-DD"; other keys ignored), checked as the
    navigator format requires and as dateutil accepts it. Raises RuleError naming the field:
    an unknown freq; a bad or (with WEEKLY) ordinal `byday`; `bymonthday` with WEEKLY;
    `interval` > 1 or `count` without `dtstart`; both `until` and `count` (RFC 5545 forbids
    it); WEEKLY with neither `byday` nor `dtstart`; MONTHLY with none of `byday`, `bymonthday`,
    `dtstart`; `until` before `dtstart`; a rule with no occurrence at all."""
    freq = fields.get("freq")
    if freq not in FREQUENCIES:
        raise RuleError("freq", "Give WEEKLY or MONTHLY")
    interval = _whole(fields, "interval") or 1
    count = _whole(fields, "count")
    dtstart, until = _rule_date(fields, "dtstart"), _rule_date(fields, "until")
    byday_text, monthday_value = fields.get("byday"), fields.get("bymonthday")
    byday = _byday(byday_text, freq) if byday_text not in (None, "") else None
    bymonthday = None
    if monthday_value not in (None, ""):
        if isinstance(monthday_value, bool) or not isinstance(monthday_value, int | str):
            raise RuleError("bymonthday", 'Give days of the month as text, e.g. "1,15,-1"')
        if freq != "MONTHLY":
            raise RuleError("bymonthday", "bymonthday needs freq MONTHLY")
        bymonthday = _bymonthday(str(monthday_value))
    if dtstart is None and interval > 1:
        raise RuleError("dtstart", "Required when interval is more than 1 (it fixes the phase)")
    if dtstart is None and count is not None:
        raise RuleError("dtstart", "Required with count (the count starts there)")
    if count is not None and until is not None:
        raise RuleError("count", "Give until or count, not both (RFC 5545)")
    if freq == "WEEKLY" and byday is None and dtstart is None:
        raise RuleError("byday", "WEEKLY needs byday, or dtstart to take the weekday from")
    if freq == "MONTHLY" and byday is None and bymonthday is None and dtstart is None:
        raise RuleError("byday", "MONTHLY needs byday or bymonthday (or dtstart's day)")
    if dtstart is not None and until is not None and until < dtstart:
        raise RuleError("until", "until is before dtstart")
    rule = Rule(freq, interval, byday, bymonthday, dtstart, until, count)
    try:
        # A rule that can never happen (5MO with bymonthday 1) is a mistake, not a schedule,
        # and must not reach `occurrences`, where dateutil would search to the year 9999 for
        # each year asked about. Here it does so once: about two seconds for such a rule (it
        # checks `until` only against dates that fit, so no bound shortens the search); a
        # rule that occurs stops at its first date.
        first = next(iter(rule.rrule(_CHECK_FROM)), None)
    except ValueError as exc:  # dateutil's own refusal
        raise RuleError("freq", f"Not a rule dateutil accepts: {exc}") from exc
    if first is None:
        raise RuleError("byday" if byday else "bymonthday", "This rule never occurs")
    return rule


@lru_cache(maxsize=4096)  # (a directory's few rules) x (years asked about)
def occurrences(rule: Rule, year: int) -> frozenset[date]:
    """The local days in `year` on which `rule` occurs (dateutil's expansion)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if (rule.until is not None and rule.until < first) or (
        rule.dtstart is not None and rule.dtstart > last
    ):
        return frozenset()
    expansion = rule.rrule(first)
    return frozenset(
        at.date()
        for at in expansion.between(
            datetime.combine(first, time()), datetime.combine(last, time()), inc=True
        )
    )


@dataclass(frozen=True, slots=True)
class Recurring:
    """A recurring entry: its rule, its sessions, and the days it is valid (inclusive; None =
    unbounded)."""

    rule: Rule
    periods: tuple[Period, ...]
    valid_from: date | None = None
    valid_to: date | None = None

    def occurs_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_to is not None and day > self.valid_to:
            return False
        return day in occurrences(self.rule, day.year)
