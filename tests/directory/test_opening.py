"""Opening times: precedence, overnight sessions, bank holidays and clock changes.

The clock-change cases are the worked values of issue 13 §3 (Saturday 22:00-01:30 on the
spring-forward and fall-back nights of 2024) and the rule in `navigator.directory.opening`'s
docstring; `test_opening_properties.py` checks the same rule over many session shapes and years.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from navigator.core.clock import LONDON
from navigator.directory.opening import schedule_from_opening
from navigator.directory.opening_summary import describe

WEEKDAYS_8_TO_1830 = {
    d: [["08:00", "18:30"]] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_weekly_session_is_open_inside_and_closed_at_its_end() -> None:
    gp = schedule_from_opening({"weekly": WEEKDAYS_8_TO_1830})
    assert gp.is_open(london(2026, 11, 23, 8, 0))  # Monday 08:00
    assert gp.is_open(london(2026, 11, 23, 18, 29))
    assert not gp.is_open(london(2026, 11, 23, 18, 30))
    assert not gp.is_open(london(2026, 11, 22, 12, 0))  # Sunday


def test_two_periods_in_a_day_leave_the_lunch_gap_closed() -> None:
    office = schedule_from_opening({"weekly": {"friday": [["09:00", "12:30"], ["13:30", "17:00"]]}})
    assert office.is_open(london(2026, 11, 27, 12, 0))
    assert not office.is_open(london(2026, 11, 27, 13, 0))
    assert office.is_open(london(2026, 11, 27, 13, 30))


def test_overnight_session_belongs_to_the_day_it_starts() -> None:
    overnight = schedule_from_opening({"weekly": {"saturday": [["22:00", "08:00"]]}})
    assert overnight.is_open(london(2026, 11, 28, 23, 0))  # Saturday night
    assert overnight.is_open(london(2026, 11, 29, 7, 59))  # Sunday morning
    assert not overnight.is_open(london(2026, 11, 29, 8, 0))
    assert not overnight.is_open(london(2026, 11, 29, 23, 0))  # Sunday night: no session


def test_weekly_service_is_closed_on_a_bank_holiday_without_bank_holiday_sessions() -> None:
    gp = schedule_from_opening({"weekly": WEEKDAYS_8_TO_1830})
    assert not gp.is_open(london(2026, 8, 31, 10, 0))  # a Monday, but a bank holiday


def test_bank_holiday_sessions_replace_the_weekday_on_a_bank_holiday() -> None:
    ucr = schedule_from_opening(
        {"weekly": WEEKDAYS_8_TO_1830, "bank_holidays": [["10:00", "16:00"]]}
    )
    assert not ucr.is_open(london(2026, 8, 31, 9, 0))
    assert ucr.is_open(london(2026, 8, 31, 15, 0))


def test_specified_closed_date_beats_open_all_hours() -> None:
    crisis = schedule_from_opening(
        {"open_all_hours": True, "specified_dates": [{"date": "2026-12-25", "closed": True}]}
    )
    assert crisis.is_open(london(2026, 12, 24, 23, 59))
    assert not crisis.is_open(london(2026, 12, 25, 12, 0))
    assert crisis.is_open(london(2026, 12, 26, 0, 0))


def test_specified_date_sessions_beat_bank_holiday_sessions() -> None:
    service = schedule_from_opening(
        {
            "weekly": WEEKDAYS_8_TO_1830,
            "bank_holidays": [["10:00", "16:00"]],
            "specified_dates": [{"date": "2026-12-25", "sessions": [["09:00", "11:00"]]}],
        }
    )
    assert service.is_open(london(2026, 12, 25, 9, 30))
    assert not service.is_open(london(2026, 12, 25, 12, 0))


def test_next_open_skips_the_weekend() -> None:
    gp = schedule_from_opening({"weekly": WEEKDAYS_8_TO_1830})
    friday_evening = london(2026, 11, 27, 19, 0)
    assert gp.next_open(friday_evening) == london(2026, 11, 30, 8, 0).astimezone(UTC)


def test_closing_time_is_measured_in_real_time_across_the_spring_clock_change() -> None:
    # Saturday 28 March 2026 22:00 GMT to Sunday 08:00 BST is 9 hours of wall clock but 9 real
    # hours minus the hour the clocks skip: it closes at 07:00 UTC.
    overnight = schedule_from_opening({"weekly": {"saturday": [["22:00", "08:00"]]}})
    at = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert overnight.is_open(at)
    assert overnight.closes_at(at) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_wall_clock_hours_hold_on_both_sides_of_the_autumn_clock_change() -> None:
    # Clocks go back at 02:00 BST on 25 October 2026; 01:30 happens twice, open both times.
    night = schedule_from_opening({"weekly": {"saturday": [["23:00", "03:00"]]}})
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = first + timedelta(hours=1)  # 01:30 GMT
    assert night.is_open(first) and night.is_open(second)
    assert night.closes_at(first) == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 03:00 GMT


def test_whole_days_merge_so_a_24_hour_service_is_not_closing_at_midnight() -> None:
    every_day = {
        d: [["00:00", "24:00"]]
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
    service = schedule_from_opening({"weekly": every_day, "bank_holidays": [["00:00", "24:00"]]})
    assert service.closes_at(london(2026, 11, 23, 23, 50)) is None


def test_a_service_closing_soon_reports_its_closing_time() -> None:
    gp = schedule_from_opening({"weekly": WEEKDAYS_8_TO_1830})
    assert gp.closes_at(london(2026, 11, 23, 18, 10)) == london(2026, 11, 23, 18, 30).astimezone(
        UTC
    )
    assert gp.closes_at(london(2026, 11, 23, 19, 0)) is None  # closed: nothing to close


SATURDAY_LATE = {"weekly": {"saturday": [["22:00", "01:30"]]}}


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_issue_13_spring_forward_a_session_ending_in_the_skipped_hour_closes_at_the_jump() -> None:
    # Issue 13 §3: at 00:50Z on Sunday 31 March 2024 closes_at said 01:30Z while is_open turned
    # false at 01:00Z, so routing called it "not closing within 30 minutes" with 10 to go.
    late = schedule_from_opening(SATURDAY_LATE)
    assert late.is_open(utc(2024, 3, 31, 0, 50))
    assert late.closes_at(utc(2024, 3, 31, 0, 50)) == utc(2024, 3, 31, 1, 0)
    assert late.is_open(utc(2024, 3, 31, 0, 59, 59))
    assert not late.is_open(utc(2024, 3, 31, 1, 0))  # 02:00 BST: the clocks jumped past 01:30
    assert late.closes_at(utc(2024, 3, 31, 1, 0)) is None
    assert late.next_open(utc(2024, 3, 31, 1, 0)) == utc(2024, 4, 6, 21, 0)  # 22:00 BST


def test_issue_13_fall_back_a_session_closes_once_at_the_first_0130() -> None:
    # Issue 13 §3: on Sunday 27 October 2024 the service was closed at 00:40Z, open again at
    # 01:10Z in the repeated hour, and closes_at then answered 00:30Z, in the past.
    late = schedule_from_opening(SATURDAY_LATE)
    assert late.is_open(utc(2024, 10, 26, 21, 0))  # 22:00 BST
    assert late.closes_at(utc(2024, 10, 27, 0, 20)) == utc(2024, 10, 27, 0, 30)  # 01:30 BST
    for closed in (utc(2024, 10, 27, 0, 40), utc(2024, 10, 27, 1, 10), utc(2024, 10, 27, 1, 30)):
        assert not late.is_open(closed)  # 01:40 BST, then 01:10 and 01:30 GMT
        assert late.closes_at(closed) is None
        assert late.next_open(closed) == utc(2024, 11, 2, 22, 0)  # 22:00 GMT next Saturday


def test_a_session_starting_in_the_skipped_hour_opens_when_the_clocks_jump() -> None:
    early = schedule_from_opening({"weekly": {"sunday": [["01:30", "03:00"]]}})
    assert early.next_open(utc(2024, 3, 31, 0, 30)) == utc(2024, 3, 31, 1, 0)  # 02:00 BST
    assert not early.is_open(utc(2024, 3, 31, 0, 59))
    assert early.is_open(utc(2024, 3, 31, 1, 0))
    assert early.closes_at(utc(2024, 3, 31, 1, 0)) == utc(2024, 3, 31, 2, 0)  # 03:00 BST


def test_a_session_wholly_inside_the_skipped_hour_does_not_happen_that_night() -> None:
    ghost = schedule_from_opening({"weekly": {"sunday": [["01:15", "01:45"]]}})
    assert not any(
        ghost.is_open(utc(2024, 3, 31, 0, 0) + timedelta(minutes=m)) for m in range(0, 180)
    )
    assert ghost.next_open(utc(2024, 3, 31, 0, 0)) == utc(2024, 4, 7, 0, 15)  # 01:15 BST


def test_a_session_starting_in_the_repeated_hour_opens_at_its_first_occurrence() -> None:
    # 01:30-04:00 on 27 October 2024 runs from 01:30 BST to 04:00 GMT: 3.5 real hours.
    night = schedule_from_opening({"weekly": {"sunday": [["01:30", "04:00"]]}})
    assert night.next_open(utc(2024, 10, 27, 0, 0)) == utc(2024, 10, 27, 0, 30)
    assert night.is_open(utc(2024, 10, 27, 1, 10))  # 01:10 GMT, the second time round
    assert night.closes_at(utc(2024, 10, 27, 0, 30)) == utc(2024, 10, 27, 4, 0)


def test_an_open_all_hours_service_with_a_closed_date_closes_at_that_midnight() -> None:
    crisis = schedule_from_opening(
        {"open_all_hours": True, "specified_dates": [{"date": "2026-12-25", "closed": True}]}
    )
    assert crisis.closes_at(london(2026, 12, 24, 23, 0)) == london(2026, 12, 25, 0, 0)
    assert crisis.next_open(london(2026, 12, 25, 9, 0)) == london(2026, 12, 26, 0, 0)


def test_summary_groups_days_with_the_same_hours() -> None:
    gp = schedule_from_opening({"weekly": WEEKDAYS_8_TO_1830})
    assert describe(gp) == "Mon–Fri 08:00–18:30; Sat–Sun closed; bank holidays closed"
