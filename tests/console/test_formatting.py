"""How the console writes values for people (`navigator.console.formatting`): times on the
London clock in the NHS style, codes by their labels, ages, places and people by name.

Where the right answer comes from: the NHS digital service manual's content style guide,
"Numbers, measurements, dates and time" (https://service-manual.nhs.uk/content/
numbers-measurements-dates-time): 12-hour clock, "9am", "9:30am", "midday", "midnight", dates
as "Tuesday 1 December 2026". Place names from `directory_of_services/vocabulary/places.yaml`.
DoS ages: 365.25 days a year, a maximum being the day before the next birthday
(`core.clock.max_age_days_from_years`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask, render_template_string

from navigator.console.formatting import (
    age_days,
    age_on,
    age_range,
    age_years,
    and_list,
    clock,
    day,
    full_date,
    label,
    nhs_number,
    person,
    place,
    service_change,
    when,
    words,
)
from navigator.core.clock import age_in_days, max_age_days_from_years

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        # December: GMT, so 9:00 UTC is 9am in London.
        (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "Tuesday 1 December, 9am"),
        (datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "Tuesday 1 December, 9:30am"),
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "Tuesday 1 December, midday"),
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), "Tuesday 1 December, midnight"),
        (datetime(2026, 12, 1, 12, 15, tzinfo=UTC), "Tuesday 1 December, 12:15pm"),
        (datetime(2026, 12, 1, 0, 5, tzinfo=UTC), "Tuesday 1 December, 12:05am"),
        (datetime(2026, 12, 1, 23, 46, tzinfo=UTC), "Tuesday 1 December, 11:46pm"),
        # June: BST, so 23:30 UTC is already the next day in London.
        (datetime(2026, 6, 15, 23, 30, tzinfo=UTC), "Tuesday 16 June, 12:30am"),
        (datetime(2026, 6, 15, 8, 0, tzinfo=UTC), "Monday 15 June, 9am"),
        # Another year: the year is said.
        (datetime(2025, 12, 1, 9, 0, tzinfo=UTC), "Monday 1 December 2025, 9am"),
        # Naive datetimes are UTC (SQLite gives them back so); ISO text is read.
        (datetime(2026, 12, 1, 9, 0), "Tuesday 1 December, 9am"),
        ("2026-12-01T09:00:00+00:00", "Tuesday 1 December, 9am"),
        (None, ""),
    ],
)
def test_when_is_the_london_clock_in_the_nhs_style(at: datetime | str | None, shown: str) -> None:
    assert when(at, now=NOW) == shown


def test_a_date_says_its_year_only_when_it_is_not_this_year() -> None:
    assert when(date(2026, 12, 1), now=NOW) == "Tuesday 1 December"
    assert when(date(2027, 12, 1), now=NOW) == "Wednesday 1 December 2027"
    assert day("2025-03-02", now=NOW) == "Sunday 2 March 2025"
    assert full_date(date(1940, 3, 15)) == "15 March 1940"


def test_clock_alone() -> None:
    assert clock(datetime(2026, 1, 5, 17, 0, tzinfo=UTC)) == "5pm"
    assert clock(None) == ""


def test_codes_are_shown_by_their_vocabulary_labels(app: Flask) -> None:
    with app.app_context():
        assert label("places", "central_bedfordshire") == "Central Bedfordshire"
        assert place("milton_keynes") == "Milton Keynes"
        assert place("blmk") == "BLMK (all four places)"
        assert label("referral_statuses", "on_hold") == "On hold"
        assert label("urgencies", "within_72h") == "Within 72 hours"
        assert label("dtoc_reasons", "Di").startswith("Di – Awaiting residential home")
        assert label("caller_roles", "care_home") != "care_home"
        # A code its scheme does not know still reads as words, never as the code.
        assert label("referral_statuses", "gone_away") == "Gone away"
        assert label("urgencies", None) == ""
        with pytest.raises(KeyError):
            label("no_such_scheme", "x")


def test_filters_and_globals_are_installed(app: Flask) -> None:
    with app.test_request_context():
        text = render_template_string(
            "{{ 'milton_keynes' | place }} / {{ ['care_home', 'nhs111'] | labels('caller_roles')"
            " | and_list }} / {{ label('urgencies', 'same_day') }} / {{ age_range(6575, none) }}"
            " / {{ 'user:1:amy@nhs.net' | person }}"
        )
    assert text.startswith("Milton Keynes / ")
    assert "care_home" not in text and "nhs111" not in text and " and " in text
    assert text.endswith("/ Same day / 18 years and over / amy@nhs.net")


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (0, None, "All ages"),
        (age_in_days(18), None, "18 years and over"),
        (0, max_age_days_from_years(17), "Under 18 years"),
        (age_in_days(18), max_age_days_from_years(64), "18 to 64 years"),
        (age_in_days(0.5), max_age_days_from_years(4), "6 months to 4 years"),
        (age_in_days(65), None, "65 years and over"),
    ],
)
def test_age_ranges_read_as_people_say_them(low: int, high: int | None, shown: str) -> None:
    assert age_range(low, high) == shown


def test_ages() -> None:
    assert age_days(age_in_days(18)) == "18 years"
    assert age_days(183) == "6 months"
    assert age_days(21) == "3 weeks"
    assert age_days(1) == "1 day"
    assert age_years(18) == "18 years"
    assert age_years(1.5) == "18 months"
    assert age_on(date(1940, 3, 15), today=date(2026, 3, 14)) == "85 years"
    assert age_on(date(1940, 3, 15), today=date(2026, 3, 15)) == "86 years"
    assert age_on("2026-01-01", today=date(2026, 7, 2)) == "6 months"


def test_people_by_name() -> None:
    assert person("user:1:amy@nhs.net") == "amy@nhs.net"
    assert person("api:3:HUC NHS 111") == "HUC NHS 111"
    assert person("user:7:") == "Console user 7"
    assert person(None) == ""
    assert person("someone") == "someone"


def test_words_and_lists() -> None:
    assert words("temporarily_closed") == "Temporarily closed"
    assert words("Already words") == "Already words"
    assert and_list(["a", "b", "c"]) == "a, b and c"
    assert and_list(["a"]) == "a"
    assert and_list([]) == ""


def test_a_contact_change_names_each_number_that_changed() -> None:
    """A navigator checking a number needs the numbers (issue 17 review: "Contact details
    changed" hid the new public phone)."""
    old = {"public_phone": "01632 960000", "professional_phone": None}
    new = {"public_phone": "01632 960555", "professional_phone": "01632 960111"}
    assert service_change("contact", old, new) == (
        "Phone for professionals set to 01632 960111; "
        "Phone for the public changed from 01632 960000 to 01632 960555"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [("9434765919", "943 476 5919"), ("943 476 5919", "943 476 5919"), (None, ""), ("abc", "abc")],
)
def test_an_nhs_number_is_shown_in_groups_of_3_3_and_4(value: str | None, shown: str) -> None:
    """Source: NHS Digital, NHS number standard (displayed 3-3-4); fresh-eyes review of issue
    17 ("9997372255" unspaced on the call page)."""
    assert nhs_number(value) == shown
