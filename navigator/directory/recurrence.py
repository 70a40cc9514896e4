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

What a rule may cost. dateutil walks a rule one period (week or month) at a time from where it
starts, and stops only on a date that fits: past `until`, or past the end of the window asked
about. Two things could make that walk long, and both are bounded:

- *A start long ago.* A rule with a `count` is walked from its `dtstart` (the count runs from
  there), so `dtstart` must lie from 1970-01-01 to 2200-12-31 (`EARLIEST`, `LATEST`) and
  `count` be at most 1,000 (`MAX_COUNT`). A rule without a count is walked, for a year asked
  about, from the start of its last period (every `interval`-th week or month counted from
  `dtstart`'s) that begins on or before 1 January of that year (`Rule.period_start`), not from
  `dtstart`. The dates are the same: with no count, the periods a rule uses and the dates in
  each are fixed by `dtstart`'s week or month and the `byday`/`bymonthday` fields, which are
  passed explicitly (dateutil would otherwise take `dtstart`'s weekday or day of the month),
  and a walk that starts on the first day of one of those periods sees the whole period.
- *A long run of periods with no date that fits.* Every week has every weekday, so a WEEKLY
  rule fits every week it uses. A MONTHLY rule fits a month according to the month's length
  and the weekday of its 1st, and the Gregorian calendar repeats every 400 years
  (146,097 days, a whole number of weeks). With `interval` 1, 2, 3, 4, 6 or 12
  (`MONTHLY_INTERVALS`: the same months every year) the longest run of months a rule that fits
  at all can go without a date is 40 years (`LONGEST_GAP_MONTHS`, 480;
  `tests/directory/test_opening_recurring.py` recomputes it over the whole cycle). Other
  monthly intervals drift through the year and allow runs of centuries (`interval: 7`,
  840 years), so they are refused.

So a year asked about costs a rule without `count` at most about 520 months (the year, an
interval, and 40 years with no date) or 54 weeks: a few milliseconds. A rule with `count` costs
at most 1,000 weeks (WEEKLY: each week it uses takes at least one of its count), or the months
from 1970 to the year asked and 40 years more (MONTHLY): under 10 ms for the year 2199 when
measured. Without these bounds a rule from the year 1 took two seconds a year asked about, for
each worker, and forty of them timed out every search. `parse_rule` refuses a rule that
never occurs without walking to the year 9999: it first looks for a date in the last 42 years of
dateutil's range, in months in the same phase (which, by the 40-year bound, hold a date if the
rule has one at all), then for the first date from the rule's start, which the same bound
keeps short.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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
# The years a `dtstart` may name. 1970-01-01 (the Unix epoch, which feeds write for "no start")
# is before any schedule a directory holds today; after 2200 is a placeholder, not a schedule.
# With `count` they bound the walk from `dtstart` (see the module docstring).
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)
# A course of sessions, not "for ever": 1,000 weekly sessions last 19 years. A WEEKLY rule uses
# at least one of its count each week, so this bounds its walk too.
MAX_COUNT = 1_000
MAX_WEEKLY_INTERVAL = 52  # once a year; a rarer weekly rule is not a service's hours
MONTHLY_INTERVALS = (1, 2, 3, 4, 6, 12)  # the same months every year (see the module docstring)
# The longest run of months, over the 400-year Gregorian cycle, in which a MONTHLY rule with
# one of MONTHLY_INTERVALS finds no date although it finds one somewhere (a test recomputes it).
LONGEST_GAP_MONTHS = 480
# `parse_rule` looks for a rule's dates in months from this year on to dateutil's last (9999):
# 42 years > LONGEST_GAP_MONTHS plus one interval, and few enough to walk in milliseconds.
_PROBE_YEAR = 9999 - 42


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
        return self._walk(first, self.until, self.count)

    def period_start(self, day: date) -> date:
        """Where a walk through this rule's dates on or after `day` may start without changing
        them, for a rule without `count`: the first day of the rule's last period (every
        `interval`-th week, Monday first, or month, counted from `dtstart`'s) that begins on or
        before `day`; `dtstart` itself when that is later or there is no such period; `day`
        when there is no `dtstart` (interval 1: every period is the rule's)."""
        assert self.count is None  # a count runs from dtstart: its walk cannot skip ahead
        if self.dtstart is None or self.dtstart >= day:
            return self.dtstart or day
        if self.freq == "WEEKLY":
            monday = self.dtstart - timedelta(days=self.dtstart.weekday())
            weeks = (day - monday).days // 7
            start = monday + timedelta(weeks=weeks - weeks % self.interval)
        else:
            months = (day.year - self.dtstart.year) * 12 + day.month - self.dtstart.month
            year, month = divmod(
                self.dtstart.year * 12 + self.dtstart.month - 1 + months - months % self.interval,
                12,
            )
            start = date(year, month + 1, 1)
        return max(start, self.dtstart)

    def _walk(self, first: date, until: date | None, count: int | None) -> rr.rrule:
        """dateutil's rrule with this rule's periods and days, walked from `first`. The days
        dateutil would take from `dtstart` when `byday` and `bymonthday` are absent (its
        weekday, with WEEKLY; its day of the month, with MONTHLY) are given explicitly, so a
        walk that starts later keeps them."""
        byday = None
        if self.byday:
            byday = []
            for token in self.byday.split(","):
                match = BYDAY.match(token)
                assert match is not None  # parse_rule normalised it
                weekday = rr.weekdays[RULE_DAYS.index(match.group(2))]
                byday.append(weekday(int(match.group(1))) if match.group(1) else weekday)
        bymonthday = tuple(int(d) for d in self.bymonthday.split(",")) if self.bymonthday else None
        if self.dtstart is not None and byday is None and bymonthday is None:
            if self.freq == "WEEKLY":
                byday = [rr.weekdays[self.dtstart.weekday()]]
            else:
                bymonthday = (self.dtstart.day,)
        return rr.rrule(
            FREQUENCIES[self.freq],
            dtstart=datetime.combine(first, time()),
            interval=self.interval,
            byweekday=byday,
            bymonthday=bymonthday,
            until=datetime.combine(until, time()) if until else None,
            count=count,
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
    `dtstart`; `until` before `dtstart`; `dtstart` outside 1970-01-01..2200-12-31, `count`
    over 1,000, `interval` over 52 (WEEKLY) or not 1, 2, 3, 4, 6, 12 (MONTHLY), the bounds
    that keep a rule cheap to expand (module docstring); a rule with no occurrence at all."""
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
    _check_bounds(freq, interval, count, dtstart)
    rule = Rule(freq, interval, byday, bymonthday, dtstart, until, count)
    try:
        _check_occurs(rule, "byday" if byday else "bymonthday")
    except RuleError:
        raise
    except ValueError as exc:  # dateutil's own refusal
        raise RuleError("freq", f"Not a rule dateutil accepts: {exc}") from exc
    return rule


def _check_bounds(freq: str, interval: int, count: int | None, dtstart: date | None) -> None:
    """The bounds that keep every accepted rule cheap to expand (see the module docstring)."""
    if dtstart is not None and not EARLIEST <= dtstart <= LATEST:
        raise RuleError("dtstart", f"Give a date from {EARLIEST} to {LATEST}")
    if count is not None and count > MAX_COUNT:
        raise RuleError("count", f"Give at most {MAX_COUNT:,} (a course of sessions, not for ever)")
    if freq == "WEEKLY" and interval > MAX_WEEKLY_INTERVAL:
        raise RuleError("interval", f"With WEEKLY give at most {MAX_WEEKLY_INTERVAL} (weeks)")
    if freq == "MONTHLY" and interval not in MONTHLY_INTERVALS:
        raise RuleError(
            "interval",
            "With MONTHLY give 1, 2, 3, 4, 6 or 12, so the rule keeps to the same months each year",
        )


def _check_occurs(rule: Rule, field: str) -> None:
    """RuleError (naming `field`) if the rule has no date at all, or none from its start (its
    `dtstart`, or 2000-01-01) to its `until`: such a rule is a mistake (5MO with bymonthday 1),
    not a schedule. Found without walking far (see the module docstring). A WEEKLY rule fits
    every week it uses, so its first date, or its `until`, comes within two of them. A MONTHLY
    rule is first looked for in months from `_PROBE_YEAR` on, the same months of the year as
    its own (its interval divides 12); only if it fits one of them does the walk from its start
    run, and then it meets a date within LONGEST_GAP_MONTHS."""
    if rule.freq == "MONTHLY":
        start = rule.dtstart or _CHECK_FROM
        probe = rule._walk(date(_PROBE_YEAR, start.month, 1), None, None)
        if next(iter(probe), None) is None:
            raise RuleError(field, "This rule never occurs")
    if next(iter(rule.rrule(_CHECK_FROM)), None) is None:
        raise RuleError("until", "No date fits from dtstart (or 2000-01-01 without one) to until")


@lru_cache(maxsize=4096)  # (a directory's few rules) x (years asked about)
def occurrences(rule: Rule, year: int) -> frozenset[date]:
    """The local days in `year` on which `rule` occurs (dateutil's expansion). A rule with a
    `count` is walked from its `dtstart`; one without, from `Rule.period_start` of 1 January,
    so the walk is about a year long however long ago the rule began."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if (rule.until is not None and rule.until < first) or (
        rule.dtstart is not None and rule.dtstart > last
    ):
        return frozenset()
    if rule.count is None:
        expansion = rule._walk(rule.period_start(first), rule.until, None)
    else:
        expansion = rule.rrule()
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
