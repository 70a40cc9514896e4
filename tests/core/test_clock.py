"""The shared clock: bank holidays, `HH:MM` times, London months across the clock changes, and
ages in days. Sources: GOV.UK's bank holidays for England and Wales (through the `holidays`
package), and the DoS convention of 365.25 days a year rounded up
(`shared/domain/dos-and-111.md`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from navigator.core.clock import (
    DAY_MINUTES,
    age_in_days,
    daily_period,
    in_period,
    is_bank_holiday,
    local_month,
    max_age_days_from_years,
    min_age_days_from_years,
    parse_hhmm,
    period,
    to_local,
    to_utc,
    years_for_max_age_days,
    years_for_min_age_days,
    years_from_days,
)


def test_england_bank_holidays_including_substitute_days() -> None:
    assert is_bank_holiday(datetime(2026, 12, 25).date())
    assert is_bank_holiday(datetime(2026, 12, 28).date())  # Boxing Day falls on a Saturday
    assert is_bank_holiday(datetime(2026, 8, 31).date())  # summer bank holiday (England)
    assert not is_bank_holiday(datetime(2026, 8, 3).date())  # Scotland's, not England's


@pytest.mark.parametrize("bad", ["8:00", "24:01", "12:60", "noon", "25:00"])
def test_malformed_times_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        parse_hhmm(bad)


def test_a_period_past_midnight_runs_into_the_next_day() -> None:
    assert period("08:00", "18:30") == (480, 1110)
    assert period("22:00", "08:00") == (1320, 1920)
    assert period("00:00", "00:00") == (0, 1440)  # the whole day
    with pytest.raises(ValueError, match="24:00"):
        period("24:00", "08:00")


def test_a_month_is_londons_month_so_the_last_hour_of_march_in_bst_is_april() -> None:
    # 23:30Z on 31 March 2024 is 00:30 BST on 1 April: the dashboard counts it in April.
    assert local_month(datetime(2024, 3, 31, 23, 30, tzinfo=UTC)) == "2024-04"
    # In winter London keeps UTC: 23:30Z on 31 December is still December.
    assert local_month(datetime(2024, 12, 31, 23, 30, tzinfo=UTC)) == "2024-12"


def test_london_wall_clock_and_utc_round_trip_outside_the_clock_changes() -> None:
    summer = datetime(2024, 7, 1, 11, 0, tzinfo=UTC)
    assert to_local(summer) == datetime(2024, 7, 1, 12, 0)  # BST, naive wall clock
    assert to_utc(to_local(summer)) == summer


def test_ages_in_days_follow_the_dos_rule_365_25_days_a_year_rounded_up() -> None:
    assert age_in_days(18) == 6575
    assert age_in_days(0) == 0
    assert age_in_days(1) == 366  # 365.25 rounded up
    assert age_in_days(0.5) == 183  # 182.625 rounded up


def test_years_from_days_rounds_down_to_whole_years() -> None:
    assert years_from_days(6574) == 17  # the last day before the 18th birthday (6575)
    assert years_from_days(6575) == 18
    assert years_from_days(0) == 0
    assert years_from_days(365) == 0


@given(st.integers(min_value=0, max_value=130))
def test_whole_years_survive_days_and_back(years: int) -> None:
    # What the ORUK export relies on: an age range imported from whole years
    # (min = age_in_days(y), max = age_in_days(y + 1) - 1) is exported as the same years.
    assert years_from_days(age_in_days(years)) == years
    assert years_from_days(age_in_days(years + 1) - 1) == years


@given(st.integers(min_value=0, max_value=age_in_days(131)))
def test_days_to_years_and_back_only_widens_an_age_range(days: int) -> None:
    # A range stored in days exported in years and imported again admits everyone it did.
    years = years_from_days(days)
    assert age_in_days(years) <= days <= age_in_days(years + 1) - 1


def test_a_daily_window_whose_end_equals_its_start_means_what_the_caller_says() -> None:
    assert daily_period(480, 480, equal="whole_day") == (480, 480 + DAY_MINUTES)
    assert daily_period(480, 480, equal="empty") == (480, 480)
    assert daily_period(1320, 480, equal="empty") == (1320, 1920)  # past midnight either way
    assert daily_period(480, 1110, equal="whole_day") == (480, 1110)
    assert not any(in_period(m, (480, 480)) for m in range(DAY_MINUTES))
    assert all(in_period(m, (480, 480 + DAY_MINUTES)) for m in range(DAY_MINUTES))


def test_a_window_past_midnight_covers_its_tail_only_when_it_started_the_day_before() -> None:
    night = daily_period(1320, 480, equal="empty")  # 22:00-08:00
    assert in_period(1380, night) and in_period(60, night)
    assert not in_period(600, night)
    assert in_period(60, night, started_today=False)  # yesterday's night, still running
    assert not in_period(60, night, started_yesterday=False)  # tonight's starts at 22:00
    assert in_period(1380, night, started_yesterday=False)


def test_oruk_ages_keep_their_precision() -> None:
    """Issue 15: `maximum_age: 1.5` was read as about 2.5 years and exported as 2. A whole
    maximum admits to the day before the next birthday (the DoS reading, 17 -> 6574 days); a
    fraction is an exact age (1.5 years -> 548 days, 18 months)."""
    assert max_age_days_from_years(17) == 6574 == age_in_days(18) - 1
    assert max_age_days_from_years(1.5) == 548
    assert min_age_days_from_years(1.5) == 548
    assert min_age_days_from_years(18) == 6575
    assert years_for_max_age_days(548) == 1.5
    assert years_for_max_age_days(6574) == 17
    assert isinstance(years_for_max_age_days(6574), int)  # written 17, not 17.0


def test_every_age_written_to_two_decimals_round_trips() -> None:
    """Export -> import -> export writes the same number (issue 15, "Done when"): every age
    from 0 to 130 years in hundredths reads to days and back unchanged."""
    for hundredths in range(130 * 100 + 1):
        years = hundredths // 100 if hundredths % 100 == 0 else hundredths / 100
        assert years_for_max_age_days(max_age_days_from_years(years)) == years
        assert years_for_min_age_days(min_age_days_from_years(years)) == years


@given(st.integers(min_value=1, max_value=130 * 366))
def test_every_day_count_is_written_as_an_age_that_reads_back_to_it(days: int) -> None:
    """Whatever the days (a navigator-format file may give any), the exported age reads back to
    exactly those days, so the export never widens or narrows a range."""
    assert max_age_days_from_years(years_for_max_age_days(days)) == days
    assert min_age_days_from_years(years_for_min_age_days(days)) == days
