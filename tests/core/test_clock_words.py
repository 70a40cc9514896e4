"""Instants in words on the London clock (`core/clock_words.py`), as routing reasons and
capacity notes write them. Source: NHS digital service manual, content style guide, "Numbers,
measurements, dates and time" ("9am", "9:30am", "midday", "midnight", "Tuesday 1 December")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from navigator.core.clock_words import clock_of, clock_time, spoken_time

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "words"),
    [
        (0, 0, "midnight"),
        (12, 0, "midday"),
        (9, 0, "9am"),
        (9, 30, "9:30am"),
        (0, 5, "12:05am"),
        (12, 15, "12:15pm"),
        (23, 59, "11:59pm"),
    ],
)
def test_times_of_day_in_the_nhs_style(hour: int, minute: int, words: str) -> None:
    assert clock_of(hour, minute) == words


def test_the_clock_change_is_on_the_london_clock() -> None:
    """25 October 2026: British Summer Time ends at 02:00 BST (01:00 UTC). Half past midnight
    UTC is 1:30am BST, and half past one UTC is 1:30am GMT: both read as London does."""
    assert clock_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "1:30am"
    assert clock_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "1:30am"
    # In summer, 8am UTC is 9am in London.
    assert spoken_time(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), now=NOW) == "Wednesday 1 July, 9am"


def test_another_year_is_named() -> None:
    at = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    assert spoken_time(at, now=NOW) == "Friday 1 January 2027, 9am"
