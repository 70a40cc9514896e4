"""Property tests for opening times across the clock changes (issue 13 §3 and §6).

Over random session shapes (same-day and overnight; starting and ending before, inside and
after the changed hour) on both clock-change nights of 2024-2030, minute by minute:

- `is_open` follows the rule in `navigator.directory.opening`'s docstring, checked against an
  oracle that reads the London clock directly from `zoneinfo`: a session opens at the first
  instant the clock reads its start or later, and closes at the first instant from then on that
  the clock reads its end or later (so a session ending in the skipped hour ends at the jump);
- `is_open`, `closes_at` and `next_open` agree: open at t exactly when `closes_at(t)` is later
  than t; `closes_at` is never in the past and is the first closed minute; when closed,
  `next_open(t)` is later than t, open, and the first open minute;
- each session closes at most once a night.

And the ORUK `day`/`start_time`/`end_time` filter agrees with `is_open` through the window.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from hypothesis import example, given, settings
from hypothesis import strategies as st

from navigator.core.clock import LONDON, WEEKDAYS, format_minutes
from navigator.directory.opening import schedule_from_opening, weekly_window

Session = tuple[str, int, int]  # (weekday, start minute, end minute); end <= start: overnight
NEAR_THE_CHANGE = [0, 30, 59, 60, 61, 90, 119, 120, 121, 150, 180, 181]


def change_sunday(year: int, season: str) -> date:
    """The last Sunday of March (spring forward) or October (fall back)."""
    last = date(year, 3 if season == "spring" else 10, 31)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@lru_cache(maxsize=32)
def night(year: int, season: str) -> tuple[datetime, list[datetime], list[datetime]]:
    """(Saturday 00:00 London as UTC, the UTC minutes from then to Monday 01:00 London, and the
    London wall-clock reading, naive, at each)."""
    saturday = change_sunday(year, season) - timedelta(days=1)
    begin = datetime.combine(saturday, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(saturday + timedelta(days=2), datetime.min.time(), tzinfo=LONDON)
    count = int((end.astimezone(UTC) - begin) / timedelta(minutes=1)) + 60
    instants = [begin + timedelta(minutes=m) for m in range(count)]
    return begin, instants, [t.astimezone(LONDON).replace(tzinfo=None) for t in instants]


def oracle(sessions: list[Session], year: int, season: str) -> list[tuple[datetime, datetime]]:
    """Each session's [opens, closes) by reading the clock minute by minute."""
    _, instants, walls = night(year, season)
    saturday = change_sunday(year, season) - timedelta(days=1)
    intervals = []
    for weekday, start, end in sessions:
        day = saturday + timedelta(days=WEEKDAYS.index(weekday) - 5)
        midnight = datetime.combine(day, datetime.min.time())
        opens_wall = midnight + timedelta(minutes=start)
        closes_wall = midnight + timedelta(minutes=end if end > start else end + 1440)
        i = next(i for i, wall in enumerate(walls) if wall >= opens_wall)
        j = next(j for j in range(i, len(walls)) if walls[j] >= closes_wall)
        if j > i:
            intervals.append((instants[i], instants[j]))
    return intervals


minute = st.one_of(st.integers(0, 1439), st.sampled_from(NEAR_THE_CHANGE))
saturday_session = st.tuples(
    st.just("saturday"),
    st.one_of(st.integers(720, 1439), st.sampled_from([1200, 1320, 1410])),  # from noon
    minute,  # an end at or before the start runs overnight into the change night
)
sunday_session = st.tuples(st.just("sunday"), minute, minute).filter(lambda s: s[1] < s[2])
sessions_strategy = st.lists(st.one_of(saturday_session, sunday_session), min_size=1, max_size=3)


@settings(max_examples=80, deadline=None)
@given(
    year=st.integers(2024, 2030),
    season=st.sampled_from(["spring", "autumn"]),
    sessions=sessions_strategy,
)
@example(year=2024, season="spring", sessions=[("saturday", 1320, 90)])  # issue 13's values
@example(year=2024, season="autumn", sessions=[("saturday", 1320, 90)])
@example(year=2026, season="autumn", sessions=[("saturday", 1380, 180)])
@example(year=2025, season="spring", sessions=[("sunday", 75, 105)])  # wholly in the gap
def test_open_closing_and_next_opening_agree_minute_by_minute_across_the_night(
    year: int, season: str, sessions: list[Session]
) -> None:
    schedule = schedule_from_opening(
        {
            "weekly": {
                day: [[format_minutes(s), format_minutes(e)] for d, s, e in sessions if d == day]
                for day in ("saturday", "sunday")
            }
        }
    )
    expected = oracle(sessions, year, season)
    _, instants, _ = night(year, season)
    scan = instants[720:]  # from Saturday noon, where the first session may start
    is_open = [schedule.is_open(t) for t in scan]
    # The first minute at or after each minute at which the state differs (None: not in scan).
    change: list[int | None] = [None] * len(scan)
    for k in range(len(scan) - 2, -1, -1):
        change[k] = k + 1 if is_open[k + 1] != is_open[k] else change[k + 1]

    for i, t in enumerate(scan):
        assert is_open[i] == any(o <= t < c for o, c in expected), t
        closes = schedule.closes_at(t)
        if is_open[i]:
            # Agreement: the closing time is in the future and is the first closed minute.
            assert closes is not None and closes > t, t
            first_closed = change[i]
            assert first_closed is not None and closes == scan[first_closed], t
        else:
            assert closes is None, t
            opens = schedule.next_open(t)
            first_open = change[i]
            if first_open is not None:
                assert opens == scan[first_open], t
            elif opens is None:  # next week's sessions may lie beyond the 8-day horizon
                continue
            assert opens > t and schedule.is_open(opens), t
            assert not schedule.is_open(opens - timedelta(microseconds=1)), t

    # Once a night: never more closings than sessions, and each at a distinct instant.
    closings = [scan[k] for k in range(1, len(scan)) if is_open[k - 1] and not is_open[k]]
    assert len(closings) <= len(sessions)
    assert len(set(closings)) == len(closings)


def test_the_oracle_reads_the_issue_13_values() -> None:
    """The oracle itself gives the worked values of issue 13 §3, so it is not trivially wrong."""
    spring = oracle([("saturday", 1320, 90)], 2024, "spring")
    autumn = oracle([("saturday", 1320, 90)], 2024, "autumn")
    assert spring == [
        (datetime(2024, 3, 30, 22, 0, tzinfo=UTC), datetime(2024, 3, 31, 1, 0, tzinfo=UTC))
    ]
    assert autumn == [
        (datetime(2024, 10, 26, 21, 0, tzinfo=UTC), datetime(2024, 10, 27, 0, 30, tzinfo=UTC))
    ]


# --- §6: the ORUK day/start_time/end_time filter ---------------------------------------------

REFERENCE_MONDAY = date(2026, 11, 23)  # a week with no bank holiday and no clock change near it
half_hour = st.integers(0, 47).map(lambda n: n * 30)
weekly_strategy = st.lists(
    st.tuples(st.sampled_from(WEEKDAYS), half_hour, half_hour), min_size=0, max_size=6
)


@settings(max_examples=200, deadline=None)
@given(
    sessions=weekly_strategy,
    day=st.one_of(st.none(), st.integers(0, 6)),
    start=st.one_of(st.none(), half_hour),
    end=st.one_of(st.none(), st.integers(0, 48).map(lambda n: n * 30)),
)
@example(sessions=[("monday", 1110, 480)], day=1, start=120, end=240)  # issue 13 §6
def test_oruk_window_filter_agrees_with_is_open_through_the_window(
    sessions: list[Session], day: int | None, start: int | None, end: int | None
) -> None:
    """A service matches when it is open (by `is_open`, in an ordinary week) at every minute
    from `start_time` to `end_time` on the day; an end at or before the start runs past
    midnight. Boundaries are on the half hour, so checking each half hour checks every minute.
    """
    weekly: dict[str, list[list[str]]] = {}
    for weekday, s, e in sessions:
        weekly.setdefault(weekday, []).append([format_minutes(s), format_minutes(e)])
    schedule = schedule_from_opening({"weekly": weekly})
    lo, hi = weekly_window(start, end)
    days = range(7) if day is None else [day]
    expected = any(
        all(
            schedule.is_open(
                datetime.combine(REFERENCE_MONDAY + timedelta(days=d), datetime.min.time(), LONDON)
                + timedelta(minutes=m)
            )
            for m in range(lo, hi, 30)
        )
        for d in days
    )
    assert schedule.open_throughout_weekly(day, lo, hi) == expected
