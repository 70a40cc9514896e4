"""Opening times: which periods apply on a day, open-or-not, closing time, next opening.

Periods are minutes from local midnight of the day they start; an end past 1440 means the
period runs past midnight (an overnight session belongs to the day it starts). Published hours
are Europe/London wall-clock times.

Precedence for a day: specified date > open all hours > bank holiday > (the weekday's weekly
sessions plus the sessions of every recurring entry that occurs that day).

**Recurring entries** (`opening.recurring`: monthly, fortnightly, bounded schedules) are
`navigator.directory.recurrence`'s: it says on which days an entry occurs (dateutil's `rrule`).
On those days its sessions join the weekday's weekly sessions and go through exactly the same
real-time and clock-change rules below. `navigator.directory.opening_summary` puts a timetable
into words.

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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from navigator.core.clock import (
    DAY_MINUTES,
    LONDON,
    WEEKDAYS,
    Period,
    is_bank_holiday,
    period,
    to_local,
)
from navigator.directory.recurrence import Recurring, parse_rule

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
