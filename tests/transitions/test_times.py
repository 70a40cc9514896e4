"""Bounds on reported event times (issue 13 §7 review): an event time is when something already
happened, so not after now (5 minutes' clock skew allowed), and not before 1 January 2000, the
documented window that keeps a delay's day rows bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from navigator.core.errors import Problem
from navigator.transitions.times import CLOCK_SKEW, EARLIEST, check_event_times

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("at", [EARLIEST, NOW - timedelta(days=400), NOW, NOW + CLOCK_SKEW, None])
def test_times_inside_the_window_pass(at: datetime | None) -> None:
    check_event_times({"transferred_at": at}, ("transferred_at",), NOW)


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (NOW + CLOCK_SKEW + timedelta(seconds=1), "future"),
        (datetime(2031, 6, 1, 10, tzinfo=UTC), "future"),  # the review's example
        (EARLIEST - timedelta(seconds=1), "2000"),
        (datetime(1900, 1, 2, 12, tzinfo=UTC), "2000"),
    ],
)
def test_times_outside_the_window_are_422_naming_the_field(at: datetime, words: str) -> None:
    with pytest.raises(Problem) as caught:
        check_event_times(
            {"mdt_ready_at": NOW, "effective_at": at}, ("mdt_ready_at", "effective_at"), NOW
        )
    errors = caught.value.errors or {}
    assert caught.value.status == 422
    assert list(errors) == ["effective_at"] and words in errors["effective_at"][0]
