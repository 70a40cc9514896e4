"""One set of defaults for a call's facts (`Facts.from_call`): routing a call (`facts_for`),
reassessing it for the override list (`decisions._call_for`) and the rule test cases
(`rules.cases.facts_from`) see the same facts for the same call, including a red-flag call
that gave almost nothing (routed as from the public, sex unknown; issue 13, hazard H10)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator.core.places import Located
from navigator.navigation.decisions import _call_for
from navigator.navigation.models import Navigation
from navigator.navigation.schemas import NavigationRequestSchema
from navigator.navigation.service import NO_POSTCODE, facts_for
from navigator.rules.cases import facts_from
from navigator.rules.ruleset import CALLER_ROLE_IF_UNKNOWN, Facts
from tests.navigation.conftest import MONDAY_10, Auth, navigate

FULL_CALL = {
    "caller_role": "relative",
    "need": "fall_no_injury",
    "age": 80,
    "sex": "female",
    "postcode": "MK42 9DJ",
    "disposition": "Dx05",
    "at": MONDAY_10,
}
# A red-flag call that gave nothing else: answered anyway, with the defaults.
BARE_RED_FLAG = {"red_flags": ["chest_pain"], "at": MONDAY_10}


def _as_a_rule_case(call: dict[str, Any], place: str | None) -> dict[str, Any]:
    """The same call as a `<name>.tests.yaml` case gives its facts."""
    raw = {k: v for k, v in call.items() if k not in ("postcode", "age")}
    if "age" in call:
        raw["age_years"] = call["age"]
    return raw | ({"place": place} if place else {})


@pytest.mark.parametrize("call", [FULL_CALL, BARE_RED_FLAG], ids=["full", "bare-red-flag"])
def test_routing_the_override_list_and_rule_cases_see_the_same_facts(
    client: FlaskClient, auth: Auth, session: Session, call: dict[str, Any]
) -> None:
    loaded = NavigationRequestSchema().load(call)
    located: Located = loaded.get("postcode") or NO_POSTCODE
    routed = facts_for(loaded, located)
    row = session.get(Navigation, navigate(client, auth, **call)["id"])
    assert row is not None
    at = datetime.fromisoformat(MONDAY_10.replace("Z", "+00:00"))
    reassessed = _call_for(row, located, at).facts
    cased = facts_from(_as_a_rule_case(call, located.place))
    if call is BARE_RED_FLAG:
        assert routed.caller_role == CALLER_ROLE_IF_UNKNOWN and routed.sex == "unknown"
    else:  # the override list drops the need of a red-flag call, and only then
        assert routed.need == "fall_no_injury"
    assert routed == reassessed == cased


def test_from_call_defaults_and_age_in_years_winning_over_days() -> None:
    at = datetime.fromisoformat(MONDAY_10.replace("Z", "+00:00"))
    assert Facts.from_call(at=at) == Facts(
        need=None,
        red_flags=frozenset(),
        caller_role=CALLER_ROLE_IF_UNKNOWN,
        age_days=None,
        sex="unknown",
        place=None,
        at=at,
        disposition=None,
        lives_in_care_home=False,
    )
    assert Facts.from_call(at=at, age_years=18, age_days=5).age_days == 6575
    assert Facts.from_call(at=at, age_days=5).age_days == 5
    assert Facts.from_call(at=at, caller_role="", sex="").caller_role == CALLER_ROLE_IF_UNKNOWN
