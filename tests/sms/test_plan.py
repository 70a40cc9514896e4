"""The follow-up plan (`navigator.sms.plan`, the follow-ups file): the shipped one is valid;
every problem is named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from navigator.core.vocabulary import load_vocabulary
from navigator.sms.plan import DEFAULT_PATH, FollowUpsError, load_follow_ups, parse_follow_ups
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
