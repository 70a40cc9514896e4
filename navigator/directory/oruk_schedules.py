"""HSDS schedules (3.0 `schedules`, HSDS-UK 1.0 `regular_schedules` / `regular_schedule` and
`holiday_schedules`) as navigator's one opening timetable per service.

Sources: HSDS 3.0 `schema/schedule.json` and `docs/hsds/field_guidance.md` (summarised in
`tests/data/oruk/NOTES.md` §2); RFC 5545 for the recurrence fields, checked with
`python-dateutil`'s `rrule`. Where each schedule goes:

- WEEKLY, interval 1, plain `byday`, no `dtstart`/`until`/`count`/`valid_*` -> `weekly`
  (also with a `dtstart`/`valid_from` on or before the load date, for whole-day hours);
- one date (`valid_from == valid_to`, no `freq`) -> `specified_dates` (no hours: closed);
- any other WEEKLY/MONTHLY rule `rrule` can express -> `recurring` (schedules with the same
  rule share one entry, their hours as its sessions);
- HSDS-UK 1.0 `holiday_schedules` -> a specified date for each day from `start_date` to
  `end_date` (closed, or the given hours), at most `MAX_RANGE_DAYS` days; a longer closure
  (holiday or dated range) that has not ended by the load date closes the service
  (`Opening.closed`: loaded as temporarily closed), one that has ended is left out, both
  warned, so a long closure never silently ends after `MAX_RANGE_DAYS`;
- `00:00`-`23:59` (or `00:00`/`24:00`) is the whole day (00:00-24:00) in every form; on all
  seven days of a weekly schedule above it is `open_all_hours`; bounded (a later start, an
  end, a count) it stays recurring whole days, warned (closed on bank holidays).

Everything else (`byweekno`, `byyearday`, another `freq`, `interval`/`count` without
`dtstart`, hours without both ends, a description only) is left out with a warning naming the
field; times with a zone or a `timezone` offset are read as London wall time, with a warning,
since a fixed offset is not London time all year. Schedules placed on several
service_at_locations or locations that differ are unioned into the one timetable, with a
warning naming them. Reading each field's value (times, dates, `byday`, ...) is
`navigator.directory.oruk_schedule_values`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from navigator.core.clock import WEEKDAYS
from navigator.directory.opening_records import RECURRING_RULE_KEYS
from navigator.directory.oruk_schedule_values import (
    WHOLE_DAY,
    Session,
    read_byday,
    read_bymonthday,
    read_date,
    read_positive_int,
    read_session,
)
from navigator.directory.oruk_terms import BANK_HOLIDAY_TEXT, DAYS
from navigator.directory.oruk_values import Notes, as_list, as_object, listed, quote
from navigator.directory.recurrence import RuleError, parse_rule

MAX_RANGE_DAYS = 366

RuleKey = tuple[Any, ...]


@dataclass
class Timetable:
    """One source's schedules (the service's, or one service_at_location's or location's)."""

    weekly: dict[str, set[Session]] = field(default_factory=dict)
    bank_holidays: set[Session] = field(default_factory=set)
    dates: dict[str, set[Session]] = field(default_factory=dict)  # empty set: closed
    recurring: dict[RuleKey, set[Session]] = field(default_factory=dict)
    today: date = field(default_factory=date.today)  # the load date (London)
    closed: bool = False  # a long closure covers the load date

    def empty(self) -> bool:
        return not (
            self.weekly or self.bank_holidays or self.dates or self.recurring or self.closed
        )

    def add_date(self, day: str, session: Session | None) -> None:
        sessions = self.dates.setdefault(day, set())
        if session is not None:
            sessions.add(session)

    def merge(self, other: Timetable) -> None:
        """The union: open whenever either is open (a date closed in one and open in the
        other is open)."""
        for day, sessions in other.weekly.items():
            self.weekly.setdefault(day, set()).update(sessions)
        self.bank_holidays |= other.bank_holidays
        for when, sessions in other.dates.items():
            self.dates.setdefault(when, set()).update(sessions)
        for key, sessions in other.recurring.items():
            self.recurring.setdefault(key, set()).update(sessions)
        self.closed = self.closed or other.closed

    def opening(self) -> dict[str, Any]:
        """The navigator-format `opening` block (`recurring` only when there is one)."""
        weekly = {
            day: sorted(map(list, self.weekly[day])) for day in WEEKDAYS if day in self.weekly
        }
        all_hours = all(WHOLE_DAY in self.weekly.get(day, ()) for day in WEEKDAYS)
        opening: dict[str, Any] = {
            "open_all_hours": all_hours,
            # open all hours overrides weekly and bank-holiday hours: those are all inside it
            "weekly": {} if all_hours else weekly,
            "bank_holidays": [] if all_hours else sorted(map(list, self.bank_holidays)),
            "specified_dates": [
                {"date": day, "closed": not sessions, "sessions": sorted(map(list, sessions))}
                for day, sessions in sorted(self.dates.items())
            ],
        }
        if self.recurring:
            opening["recurring"] = [
                dict(zip(RECURRING_RULE_KEYS, key, strict=True))
                | {"sessions": sorted(map(list, sessions))}
                for key, sessions in sorted(self.recurring.items(), key=lambda kv: repr(kv[0]))
            ]
        return opening


def _dated(
    timetable: Timetable,
    first: str,
    last: str,
    session: Session | None,
    path: str,
    notes: Notes,
) -> None:
    """A specified date for each day from `first` to `last` (at most MAX_RANGE_DAYS; `session`
    None: closed). A longer closure is not cut at MAX_RANGE_DAYS, which would reopen the
    service while the feed says closed: not ended by `timetable.today`, it closes the service
    (`timetable.closed`); ended, it is left out."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if end < start:
        notes.warn(path, f"ends ({last}) before it starts ({first}); schedule left out")
        return
    if (end - start).days >= MAX_RANGE_DAYS and session is None:
        if end < timetable.today:
            notes.warn(
                path,
                f"closed {first} to {last} (over {MAX_RANGE_DAYS} days), ended before the "
                f"load date {timetable.today}; left out",
            )
        else:
            timetable.closed = True
            notes.warn(
                path,
                f"closed {first} to {last} (over {MAX_RANGE_DAYS} days, more dates than "
                f"navigator keeps), not ended by the load date {timetable.today}; the "
                "service is loaded as temporarily closed",
            )
        return
    if (end - start).days >= MAX_RANGE_DAYS:
        end = start + timedelta(days=MAX_RANGE_DAYS - 1)
        notes.warn(
            path,
            f"{first} to {last} capped at {MAX_RANGE_DAYS} days (to {end}); after that the "
            "service's other hours apply",
        )
    day = start
    while day <= end:
        timetable.add_date(day.isoformat(), session)
        day += timedelta(days=1)


def read_schedule(s: dict[str, Any], path: str, timetable: Timetable, notes: Notes) -> None:
    """Add one HSDS schedule object (at `path`, e.g. `schedules[2]`) to `timetable`, or warn
    why it cannot be represented exactly."""
    for key in ("byweekno", "byyearday"):
        if s.get(key) is not None:
            notes.warn(f"{path}.{key}", f"{quote(s[key])} not represented; schedule left out")
            return
    ok, session = read_session(s, path, notes)
    if not ok:
        return
    if s.get("timezone") is not None:
        notes.warn(
            f"{path}.timezone",
            f"UTC offset {quote(s['timezone'])} is not London wall time; times read as London time",
        )
    dates: dict[str, str] = {}
    for key in ("valid_from", "valid_to", "dtstart", "until"):
        if s.get(key) is not None:
            read = read_date(s[key], f"{path}.{key}", notes)
            if read is None:
                return
            dates[key] = read
    byday_raw = s.get("byday", s.get("weekday"))
    freq = str(s["freq"]).upper() if s.get("freq") is not None else None
    if freq is None:
        one_date = dates.get("valid_from") and dates.get("valid_from") == dates.get("valid_to")
        if byday_raw is not None and not one_date:
            notes.warn(f"{path}.freq", "missing; read as WEEKLY (byday is given)")
            freq = "WEEKLY"
        elif dates.get("valid_from") and dates.get("valid_to"):
            if dates["valid_from"] != dates["valid_to"]:
                notes.warn(
                    path,
                    f"no freq or byday: read as every day from {dates['valid_from']} "
                    f"to {dates['valid_to']}",
                )
            _dated(timetable, dates["valid_from"], dates["valid_to"], session, path, notes)
            return
        elif session is not None and s.get("description") == BANK_HOLIDAY_TEXT:
            timetable.bank_holidays.add(session)
            return
        else:
            notes.warn(path, "no freq, byday or dates say which days; schedule left out")
            return
    if freq not in ("WEEKLY", "MONTHLY"):
        notes.warn(
            f"{path}.freq",
            f"{quote(freq)} not represented (HSDS has WEEKLY and MONTHLY); schedule left out",
        )
        return
    if session is None:
        notes.warn(path, "no opens_at/closes_at (description only); schedule left out")
        return
    _recurrence(s, path, freq, byday_raw, dates, session, timetable, notes)


def _recurrence(
    s: dict[str, Any],
    path: str,
    freq: str,
    byday_raw: Any,
    dates: dict[str, str],
    session: Session,
    timetable: Timetable,
    notes: Notes,
) -> None:
    interval = 1
    if s.get("interval") is not None:
        read = read_positive_int(s["interval"], f"{path}.interval", notes)
        if read is None:
            return
        interval = read
    count = None
    if s.get("count") is not None:
        count = read_positive_int(s["count"], f"{path}.count", notes)
        if count is None:
            return
    byday = read_byday(byday_raw, f"{path}.byday", notes) if byday_raw is not None else []
    if byday is None:
        return
    bymonthday: list[int] = []
    if s.get("bymonthday") is not None:
        read_days = read_bymonthday(s["bymonthday"], f"{path}.bymonthday", notes)
        if read_days is None:
            return
        bymonthday = read_days
    if s.get("wkst") is not None and str(s["wkst"]).upper() != "MO" and interval > 1:
        notes.warn(
            f"{path}.wkst",
            f"{quote(s['wkst'])} with an interval is not represented; schedule left out",
        )
        return
    valid_from, valid_to = dates.get("valid_from"), dates.get("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        notes.warn(f"{path}.valid_to", f"{valid_to} is before valid_from; schedule left out")
        return
    fields = {
        "freq": freq,
        "interval": interval,
        "byday": ",".join(f"{n or ''}{d}" for n, d in byday) or None,
        "bymonthday": ",".join(str(d) for d in bymonthday) or None,
        "dtstart": dates.get("dtstart"),
        "until": dates.get("until"),
        "count": count,
    }
    try:  # the rule navigator's opening times will expand, checked the same way
        rule = parse_rule(fields)
    except RuleError as exc:
        notes.warn(f"{path}.{exc.field}", f"{exc}; schedule left out")
        return
    every_week = rule.freq == "WEEKLY" and rule.interval == 1 and rule.byday is not None
    starts = [d for d in (dates.get("dtstart"), valid_from) if d]
    bounds = ((f"until {fields['until']}", fields["until"]), (f"to {valid_to}", valid_to))
    ends = [text for text, given in (*bounds, (f"for {count} days", count)) if given]
    late_start = [f"from {d}" for d in starts if d > timetable.today.isoformat()]
    # A whole-day schedule whose only bound is a start on or before the load date is the same
    # as no bound from then on (feeds write dtstart/valid_from on every schedule: review of
    # issue 15, H3); hours other than the whole day stay recurring, exactly as written.
    plain = every_week and not ends and (not starts or (session == WHOLE_DAY and not late_start))
    if every_week and session == WHOLE_DAY and len({c for _, c in byday}) == 7 and not plain:
        notes.warn(
            path,
            f"24 hours on all seven days, but only {' '.join(late_start + ends)}: kept as whole "
            "days on those dates, not open all hours (which has no dates), so bank holidays "
            "follow navigator's bank-holiday rule (closed unless bank-holiday hours are given)",
        )
    if plain:
        for _, code in byday:
            timetable.weekly.setdefault(WEEKDAYS[DAYS.index(code)], set()).add(session)
        return
    key = (
        rule.freq,
        rule.interval,
        rule.byday,
        rule.bymonthday,
        fields["dtstart"],
        fields["until"],
        count,
        valid_from,
        valid_to,
    )
    timetable.recurring.setdefault(key, set()).add(session)


def _holiday(h: dict[str, Any], path: str, timetable: Timetable, notes: Notes) -> None:
    """An HSDS-UK 1.0 holiday schedule: closed, or open `opens_at`-`closes_at`, on every day
    from `start_date` to `end_date`."""
    first = read_date(h.get("start_date"), f"{path}.start_date", notes)
    if first is None:
        return
    last = read_date(h["end_date"], f"{path}.end_date", notes) if h.get("end_date") else first
    if last is None:
        return
    closed = h.get("closed") in (True, "true", "True", 1)
    ok, session = (True, None) if closed else read_session(h, path, notes)
    if not ok:
        return
    if not closed and session is None:
        notes.warn(path, "neither closed nor opens_at/closes_at; schedule left out")
        return
    _dated(timetable, first, last, session, path, notes)


def _source(
    holder: dict[str, Any], prefix: str, keys: tuple[str, ...], today: date, notes: Notes
) -> tuple[str, Timetable] | None:
    timetable = Timetable(today=today)
    fields_used = []
    for key in keys:
        items = listed(holder, key, f"{prefix}{key}", notes)
        if items:
            fields_used.append(f"{prefix}{key}")
        for i, item in enumerate(items):
            where = f"{prefix}{key}[{i}]"
            if key == "holiday_schedules":
                _holiday(item, where, timetable, notes)
            else:
                read_schedule(item, where, timetable, notes)
    return (", ".join(fields_used), timetable) if fields_used else None


SCHEDULE_KEYS = ("schedules", "regular_schedules", "regular_schedule", "holiday_schedules")


def opening_from_service(
    service: dict[str, Any], notes: Notes, today: date
) -> tuple[dict[str, Any], bool]:
    """The navigator `opening` of an HSDS service (cleaned of empty values), from its own
    schedules and those of its service_at_locations and their locations, loaded on `today`
    (London); and whether a closure too long to hold as dates covers `today` (the service is
    then temporarily closed)."""
    sources = []
    # `as_list`, as everywhere else: a number or a boolean here is one bad field, warned by
    # the third-party check, not a TypeError that loses the whole feed.
    sals = as_list(service.get("service_at_locations"))
    for found in [_source(service, "", SCHEDULE_KEYS, today, notes)] + [
        source
        for i, sal in enumerate(sals)
        for source in (
            _source(sal, f"service_at_locations[{i}].", SCHEDULE_KEYS, today, notes),
            _source(
                as_object(sal.get("location")),
                f"service_at_locations[{i}].location.",
                SCHEDULE_KEYS,
                today,
                notes,
            ),
        )
    ]:
        if found is not None and not found[1].empty():
            sources.append(found)
    merged = Timetable(today=today)
    distinct: list[tuple[str, Timetable]] = []
    for where, timetable in sources:
        merged.merge(timetable)
        if timetable not in [t for _, t in distinct]:
            distinct.append((where, timetable))
    if len(distinct) > 1:
        notes.warn(
            "; ".join(where for where, _ in distinct),
            "different timetables unioned into the service's one timetable "
            "(navigator keeps one per service)",
        )
    return merged.opening(), merged.closed
