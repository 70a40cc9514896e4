"""Opening times: precedence, overnight sessions, bank holidays and clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from navigator.directory.opening import (
    LONDON,
    describe,
    is_bank_holiday,
    parse_hhmm,
    schedule_from_opening,
)

WEEKDAYS_8_TO_1830 = {
    d: [["08:00", "18:30"]] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


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


def test_england_bank_holidays_including_substitute_days() -> None:
    assert is_bank_holiday(datetime(2026, 12, 25).date())
    assert is_bank_holiday(datetime(2026, 12, 28).date())  # Boxing Day falls on a Saturday
    assert is_bank_holiday(datetime(2026, 8, 31).date())  # summer bank holiday (England)
    assert not is_bank_holiday(datetime(2026, 8, 3).date())  # Scotland's, not England's


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


@pytest.mark.parametrize("bad", ["8:00", "24:01", "12:60", "noon", "25:00"])
def test_malformed_times_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        parse_hhmm(bad)


def test_summary_groups_days_with_the_same_hours() -> None:
    gp = schedule_from_opening({"weekly": WEEKDAYS_8_TO_1830})
    assert describe(gp) == "Mon–Fri 08:00–18:30; Sat–Sun closed; bank holidays closed"
