"""The follow-up plan (`navigator.sms.plan`, the follow-ups file): the shipped one is valid;
every problem is named; quiet hours past midnight are read as a rule set's time windows are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from navigator.core.clock import format_minutes, period
from navigator.core.vocabulary import load_vocabulary
from navigator.rules.ruleset import TimeWindow
from navigator.sms.plan import (
    DEFAULT_PATH,
    FollowUpsError,
    QuietHours,
    load_follow_ups,
    parse_follow_ups,
)
from tests.conftest import PROJECT_ROOT

VOCAB = load_vocabulary(str(PROJECT_ROOT / "directory_of_services"))


def shipped() -> dict[str, Any]:
    return dict(yaml.safe_load(DEFAULT_PATH.read_text()))


def test_the_shipped_file_is_valid_and_says_which_navigations_get_texts() -> None:
    plan = load_follow_ups(DEFAULT_PATH, VOCAB)
    ucr = plan.rules_for(urgency="urgent", service_type="urgent_community_response")
    assert [(r.id, r.after) for r in ucr] == [
        ("ucr-4h", timedelta(hours=4)),
        ("ucr-24h", timedelta(hours=24)),
    ]
    assert [r.id for r in plan.rules_for(urgency="routine", service_type="gp_practice")] == [
        "routine-72h"
    ]
    assert plan.rules_for(urgency="emergency", service_type="ambulance_999") == []
    text = plan.render(ucr[0], "CASE-1")
    assert "CASE-1" in text and "STOP" in text and "\n" not in text


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["quiet_hours"].update(start="25:00"), "quiet_hours.start"),
        (lambda d: d["follow_ups"][0].update(template="nope"), "no template 'nope'"),
        (lambda d: d["follow_ups"][0].update(when={}), "give service_types or urgencies"),
        (
            lambda d: d["follow_ups"][0].update(when={"service_types": ["spaceship"]}),
            "'spaceship' is not a service type",
        ),
        (lambda d: d["follow_ups"][0].update(when={"urgencies": ["soon"]}), "urgencies"),
        (lambda d: d["follow_ups"][1].update(id="ucr-4h"), "id given twice"),
        (lambda d: d["templates"].update(ucr_check="Hi {name}. Reply STOP"), "{name}"[1:5]),
        (lambda d: d["templates"].update(ucr_check="Reply 1 or 2"), "Reply STOP"),
        (lambda d: d["templates"].update(ucr_check="STOP " + "x" * 500), "longer than"),
        (lambda d: d["templates"].update(ucr_check="Reply STOP"), "not for emergencies"),
        (lambda d: d.update(surprise=True), "surprise"),
    ],
)
def test_invalid_files_are_refused_naming_the_problem(change: Any, problem: str) -> None:
    data = shipped()
    change(data)
    with pytest.raises(FollowUpsError) as error:
        parse_follow_ups(data, VOCAB, "test.yaml")
    assert problem in str(error.value)


def test_the_app_refuses_to_start_with_an_invalid_file(tmp_path: Any) -> None:
    from navigator import create_app

    path = tmp_path / "bad.yaml"
    path.write_text("version: x\n")
    with pytest.raises(FollowUpsError):
        create_app({"NAVIGATOR_FOLLOW_UPS": str(path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})


# A winter Wednesday, not a bank holiday: London's wall clock is UTC.
WINTER_MIDNIGHT = datetime(2026, 1, 14, tzinfo=UTC)
MINUTES = st.integers(min_value=0, max_value=24 * 60 - 1)


@given(start=MINUTES, end=MINUTES, minute=MINUTES)
@example(start=1320, end=480, minute=60)  # 22:00-08:00 at 01:00
@example(start=480, end=480, minute=600)  # "08:00"-"08:00"
def test_quiet_hours_read_a_window_as_a_daily_rule_set_time_window_does(
    start: int, end: int, minute: int
) -> None:
    """Both go through `clock.daily_period` and `clock.in_period`. They differ on purpose only
    when the start equals the end: no quiet hours at all, but a time window all day."""
    quiet = QuietHours(start, end)
    every_day = TimeWindow(
        "every-day",
        frozenset(range(7)),
        *period(format_minutes(start), format_minutes(end)),
        bank_holidays=True,
    )
    in_window = every_day.contains(WINTER_MIDNIGHT + timedelta(minutes=minute))
    if start == end:
        assert in_window and not quiet.contains(minute)
    else:
        assert quiet.contains(minute) == in_window


def test_every_shipped_template_says_texts_are_not_for_emergencies() -> None:
    """Issue 17 §5: SMS is not an escalation route, and every text says so."""
    for name, text in shipped()["templates"].items():
        words = " ".join(text.split())
        assert "not monitored for emergencies: call 999 or 111" in words, name
