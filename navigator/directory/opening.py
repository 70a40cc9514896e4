"""Opening times: which periods apply on a day, open-or-not, closing time, next opening.

Periods are minutes from local midnight of the day they start; an end past 1440 means the
period runs past midnight (an overnight session belongs to the day it starts). Published hours
are Europe/London wall-clock times.

Precedence for a day: specified date > open all hours > bank holiday > (the weekday's weekly
sessions plus the sessions of every recurring entry that occurs that day).

**Recurring entries** (`opening.recurring`, HSDS/RFC 5545 schedules that are not plain weekly:
`MONTHLY` with `byday: 1SA` or `bymonthday: "1,-1"`, fortnightly `WEEKLY` with `interval: 2`,
`until`/`count`, `valid_from`/`valid_to`) are expanded by `python-dateutil`'s `rrule`, never by
hand. An entry occurs on a London day when its rrule produces that date and the day lies within
[valid_from, valid_to]. Its sessions then join that day's weekly sessions and go through exactly
the same real-time and clock-change rules below. The dates an entry produces are computed once
per (rule, year) and kept as a frozenset, so asking about a day is a set lookup.

Why a missing `dtstart` may default to 1 January of the year asked about: the format requires
`dtstart` whenever `interval` > 1 or `count` is given, so a rule without one has interval 1 and
no count. For such a rule the set of dates within a year does not depend on where the expansion
starts, provided it starts no later than that year and on the first day of a week or month of
the rule: with `WEEKLY` every week is in the recurrence, and the weekdays named in `byday` are
in it whichever week they fall in; with `MONTHLY` every month is in it, and each month's dates
(`1SA`, `-1FR`, `bymonthday: -1`) are worked out from that whole month, which a start on
1 January never cuts short. dateutil does not count `dtstart` itself as an occurrence unless it
fits the rule, so the default adds no date either. When `dtstart` is given it is always used.

**Real-time intervals.** Each session is turned once into a real-time interval
[opens, closes) in UTC minutes, and `Schedule.is_open`, `Schedule.closes_at` and
`Schedule.next_open` all read the same merged list of those intervals, so they agree by
construction: open at t exactly when t lies in an interval; `closes_at` is the end of that
interval (so never in the past, and one closing per session per night); `next_open` is the start
of the next interval, at which the service is open.

**The clock-change rule.** A session opens at the first instant at which the London clock reads
its start time or later (on its day), and closes at the first instant from its opening at which
the clock reads its end time or later. So:

- in spring, a session whose end falls in the skipped hour (01:00-02:00) closes when the clocks
  jump (01:00 UTC), because the clock goes from 00:59 GMT straight to 02:00 BST, past its end: a
  Saturday session 22:00-01:30 on 30 March 2024 closes at 01:00Z, not 01:30Z. A start in the
  skipped hour opens at the jump; a session wholly inside the skipped hour does not happen;
- in autumn, a time in the repeated hour (01:00-02:00) means its *first* occurrence: a Saturday
  session 22:00-01:30 on 26 October 2024 closes at 01:30 BST (00:30Z) and stays closed through
  the repeated hour, while a session 23:00-03:00 runs on through both 01:30s to 03:00 GMT.

Why the first occurrence: a session is one continuous stretch of staffed time from its start,
and its staff leave when the clock first reads the closing time. Reading it as the second
occurrence would show the service open for an hour nobody promised; the safe error for a patient
(hazard H3) is to think a service closed, not open. Durations (closing within 30 minutes,
opening within an urgency window) are therefore real time, as the intervals are.

Sessions that overlap or meet merge into one stretch, so a service open 00:00-24:00 every day
never "closes at midnight".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

from dateutil import rrule as rr

from navigator.core.clock import (
    DAY_MINUTES,
    LONDON,
    WEEKDAYS,
    Period,
    format_minutes,
    is_bank_holiday,
    period,
    to_local,
)

WEEK_MINUTES = 7 * DAY_MINUTES

ALL_DAY: tuple[Period, ...] = ((0, DAY_MINUTES),)
Interval = tuple[int, int]  # [opens, closes) in whole minutes since 1970-01-01T00:00Z

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()


def _offset_minutes(utc_minute: int) -> int:
    """London's offset from UTC, in minutes, at a UTC instant."""
    offset = (_EPOCH + timedelta(minutes=utc_minute)).astimezone(LONDON).utcoffset()
    return int(offset.total_seconds()) // 60 if offset is not None else 0


@lru_cache(maxsize=4096)
def _day_clock(day: date) -> tuple[int, int, int, int | None]:
    """(base, offset before, offset after, change) for a London day, all in minutes.

    `base` is the day's midnight as if London kept UTC, so wall minute m is the UTC minute
    `base + m - offset`. `change` is the wall minute, read on the old offset, at which the clocks
    change that day (60 in spring: 01:00 GMT becomes 02:00 BST; 120 in autumn: 02:00 BST becomes
    01:00 GMT), or None on the other 363 days. London changes at 01:00 UTC, so 00:00 UTC is on
    the day's old offset and the next 00:00 UTC on its new one.
    """
    base = (day.toordinal() - _EPOCH_ORDINAL) * DAY_MINUTES
    before, after = _offset_minutes(base), _offset_minutes(base + DAY_MINUTES)
    if before == after:
        return base, before, after, None
    lo, hi = base, base + DAY_MINUTES  # bisect for the first UTC minute on the new offset
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_minutes(mid) == after:
            hi = mid
        else:
            lo = mid
    return base, before, after, hi + before - base


def _utc_minute(day: date, minute: int, not_before: int | None = None) -> int:
    """The UTC minute at which the London clock first reads `minute` (from `day`'s midnight;
    may run into later days) or later, and not before `not_before`.

    A time in the hour skipped in spring gives the instant the clocks jump; a time in the hour
    repeated in autumn gives its first occurrence, unless that is before `not_before`.
    """
    if minute >= DAY_MINUTES:
        day += timedelta(days=minute // DAY_MINUTES)
        minute %= DAY_MINUTES
    base, before, after, change = _day_clock(day)
    if change is None or minute < min(change, change + after - before):
        return base + minute - before
    if minute >= max(change, change + after - before):
        return base + minute - after
    if after > before:  # spring: in the skipped hour, so the clock reads later from the jump
        return base + change - before
    first = base + minute - before  # autumn: in the repeated hour
    return first if not_before is None or first >= not_before else base + minute - after


@lru_cache(maxsize=32768)  # (a directory's few period patterns) x (days asked about)
def _day_intervals(periods: tuple[Period, ...], day: date) -> tuple[Interval, ...]:
    """The real-time intervals of the sessions that start on `day` (empty ones dropped)."""
    intervals = []
    for start, end in periods:
        opens = _utc_minute(day, start)
        closes = _utc_minute(day, end, not_before=opens)
        if closes > opens:
            intervals.append((opens, closes))
    return tuple(intervals)


@lru_cache(maxsize=256)  # routing asks about one instant for hundreds of services
def _clock(at: datetime) -> tuple[float, date]:
    """An aware instant as (fractional) minutes since 1970-01-01T00:00Z, and its London date."""
    return at.timestamp() / 60, to_local(at).date()


def _instant(utc_minute: int) -> datetime:
    return _EPOCH + timedelta(minutes=utc_minute)


def weekly_window(start: int | None, end: int | None) -> tuple[int, int]:
    """A window of the day from optional start and end minutes (00:00 and 24:00 if missing):
    (start, end) with end in (start, start + 1440]. An end at or before the start runs past
    midnight into the next day, as sessions do ("22:00"-"02:00"; "09:00"-"09:00" is 24 hours).
    """
    lo = start if start is not None else 0
    hi = end if end is not None else DAY_MINUTES
    if not 0 <= lo < DAY_MINUTES:
        raise ValueError("a window starts between 00:00 and 23:59")
    return lo, hi if hi > lo else hi + DAY_MINUTES


@lru_cache(maxsize=1024)
def _weekly_stretches(weekly: tuple[tuple[Period, ...], ...]) -> tuple[Interval, ...]:
    """A weekly timetable's merged stretches in minutes from a Monday 00:00, over three weeks
    (so a window in the middle week sees Sunday night running into Monday)."""
    raw = sorted(
        (
            week * WEEK_MINUTES + day * DAY_MINUTES + start,
            week * WEEK_MINUTES + day * DAY_MINUTES + end,
        )
        for week in range(3)
        for day, periods in enumerate(weekly)
        for start, end in periods
    )
    return tuple(_merge(raw))


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted intervals merged where they overlap or meet."""
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


# --- recurring entries (RFC 5545 rules, expanded by dateutil) -------------------------------

FREQUENCIES: dict[str, Literal[1, 2]] = {"WEEKLY": rr.WEEKLY, "MONTHLY": rr.MONTHLY}
RULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # RFC 5545 weekday codes, Monday first
_BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
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
                match = _BYDAY.match(token)
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
        match = _BYDAY.match(raw)
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


@dataclass(frozen=True, slots=True)
class Schedule:
    open_all_hours: bool
    weekly: tuple[tuple[Period, ...], ...]  # Monday first
    bank_holidays: tuple[Period, ...]
    dates: Mapping[date, tuple[Period, ...]]  # () means closed all that day
    recurring: tuple[Recurring, ...] = ()  # added to the weekday's sessions where they occur
    # (first London day, days) -> (merged intervals, UTC minute of the midnight after them).
    # Services share Schedule objects, so this is filled once per pattern and day asked about.
    _memo: dict[tuple[date, int], tuple[tuple[Interval, ...], int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def periods_on(self, day: date) -> tuple[Period, ...]:
        special = self.dates.get(day)
        if special is not None:
            return special
        if self.open_all_hours:
            return ALL_DAY
        if is_bank_holiday(day):
            return self.bank_holidays
        weekly = self.weekly[day.weekday()]
        if not self.recurring:  # the common case stays one lookup
            return weekly
        extra = tuple(p for entry in self.recurring if entry.occurs_on(day) for p in entry.periods)
        return tuple(sorted(weekly + extra)) if extra else weekly

    @property
    def always_open(self) -> bool:
        return self.open_all_hours and not self.dates

    def is_open(self, at: datetime) -> bool:
        """Whether the service is open at an aware instant (see the module's clock-change rule)."""
        if self.always_open:
            return True
        now, today = _clock(at)
        # A session starts on its own day and ends before the next day is out, so only
        # yesterday's and today's sessions can hold `now`.
        stretches, _ = self._stretches(today - timedelta(days=1), 2)
        return any(opens <= now < closes for opens, closes in stretches)

    def intervals(self, first_day: date, days: int) -> list[Interval]:
        """Merged real-time stretches of the sessions that start on `first_day` (a London date)
        and the `days - 1` days after it: sorted, disjoint [opens, closes) pairs in whole
        minutes since 1970-01-01T00:00Z."""
        raw: list[Interval] = []
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            raw.extend(_day_intervals(self.periods_on(day), day))
        raw.sort()
        return _merge(raw)

    def _stretches(self, first_day: date, days: int) -> tuple[tuple[Interval, ...], int]:
        """`intervals`, memoised, with the UTC minute at which the first day not included
        begins."""
        key = (first_day, days)
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) >= 512:  # a long-running worker asks about ever later days
                self._memo.clear()
            limit = _utc_minute(first_day + timedelta(days=days), 0)
            hit = self._memo[key] = (tuple(self.intervals(first_day, days)), limit)
        return hit

    def closes_at(self, at: datetime, horizon_days: int = 2) -> datetime | None:
        """When the stretch open at `at` ends (aware, UTC), always later than `at`; None when
        closed at `at`, or when the stretch may run past the sessions starting within
        `horizon_days` days after `at`'s London date (a 24/7 service never closes)."""
        if self.always_open:
            return None
        now, today = _clock(at)
        stretches, limit = self._stretches(today - timedelta(days=1), horizon_days + 2)
        for opens, closes in stretches:
            if opens > now:
                break
            if now < closes:
                # A stretch reaching the first day not looked at may carry on into it.
                return None if closes >= limit else _instant(closes)
        return None

    def next_open(self, at: datetime, horizon_days: int = 8) -> datetime | None:
        """The next opening (aware, UTC) strictly after `at`: the start of the next stretch,
        at which `is_open` is true. None if no session starting within `horizon_days` days from
        `at`'s London date opens after `at` (or the service never closes)."""
        if self.always_open:
            return None
        now, today = _clock(at)
        # From yesterday, so a stretch already running at `at` is not taken for an opening.
        stretches, _ = self._stretches(today - timedelta(days=1), horizon_days + 1)
        for opens, _ in stretches:
            if opens > now:
                return _instant(opens)
        return None

    def open_throughout_weekly(self, weekday: int | None, start: int, end: int) -> bool:
        """Whether the regular weekly timetable is open for the whole window from `start` to
        `end` (minutes from midnight of `weekday`, 0 = Monday; `end` up to `start + 1440`, so a
        window may run past midnight) on that weekday, or on any weekday when None.

        Sessions from the day before that run past midnight count, and sessions that meet merge
        (Mon 18:30-08:00 covers Tuesday 02:00-04:00). Bank holidays, specified dates and
        recurring entries are not considered: a weekday names no date, and a service open on
        the first Saturday of the month, or every other Saturday, is not open on Saturdays, so
        the filter does not offer it for one (thinking a service closed is the safe error).
        Wall-clock minutes: no clock change applies.
        """
        if self.open_all_hours:
            return True
        if not 0 <= start < end <= start + DAY_MINUTES:
            raise ValueError("the window must be non-empty and at most a day long")
        stretches = _weekly_stretches(self.weekly)
        days = range(7) if weekday is None else (weekday,)
        for day in days:
            lo = WEEK_MINUTES + day * DAY_MINUTES + start  # in the middle week
            hi = lo + end - start
            if any(opens <= lo and hi <= closes for opens, closes in stretches):
                return True
        return False


def _periods(pairs: Iterable[Sequence[str]]) -> tuple[Period, ...]:
    return tuple(sorted(period(opens, closes) for opens, closes in pairs))


def _date(value: date | str | None) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def schedule_from_opening(opening: Mapping[str, Any]) -> Schedule:
    """Build a Schedule from a directory record's `opening` block (validated, or canonical:
    dates as `date` or "YYYY-MM-DD"). RuleError for a recurring entry whose rule is unusable
    (the schema refuses those first)."""
    weekly = opening.get("weekly") or {}
    dates: dict[date, tuple[Period, ...]] = {}
    for entry in opening.get("specified_dates") or []:
        day = _date(entry["date"])
        assert day is not None
        dates[day] = () if entry.get("closed") else _periods(entry.get("sessions") or [])
    recurring = tuple(
        Recurring(
            parse_rule(entry),
            _periods(entry.get("sessions") or []),
            _date(entry.get("valid_from")),
            _date(entry.get("valid_to")),
        )
        for entry in opening.get("recurring") or []
    )
    return Schedule(
        open_all_hours=bool(opening.get("open_all_hours")),
        weekly=tuple(_periods(weekly.get(day) or []) for day in WEEKDAYS),
        bank_holidays=_periods(opening.get("bank_holidays") or []),
        dates=dates,
        recurring=recurring,
    )


def _describe_periods(periods: tuple[Period, ...]) -> str:
    return ", ".join(f"{format_minutes(s)}–{format_minutes(e)}" for s, e in periods)


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
        match = _BYDAY.match(token)
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


def describe(schedule: Schedule) -> str:
    """A one-line summary a navigator can read out, e.g. 'Mon–Fri 08:00–18:30; Sat closed;
    first Saturday of the month 10:00–12:00; bank holidays closed'. Recurring entries are
    always named; a timetable with no weekly sessions but recurring ones leaves out
    'Mon–Sun closed', which would read as never open."""
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
