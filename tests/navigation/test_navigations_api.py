"""POST /api/v1/navigations: the recommendation, its reasons, alternatives, gaps and fallbacks."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.builders import load_directory, organisation, service

Auth = dict[str, dict[str, str]]
MONDAY_10 = "2026-11-23T10:00:00Z"
UCR_HOURS = {
    "weekly": {
        d: [["08:00", "20:00"]]
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
}
PROS = ["professional", "nhs111", "care_home", "relative"]


def call(**overrides: Any) -> dict[str, Any]:
    return {
        "caller_role": "care_home",
        "need": "fall_no_injury",
        "age": 84,
        "sex": "female",
        "postcode": "MK42 9AA",
        "at": MONDAY_10,
        "lives_in_care_home": True,
    } | overrides


def post(client: FlaskClient, auth: Auth, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/navigations", json=body, headers=auth["integrator"])
    assert response.status_code == 201, response.json
    return dict(response.json)


ORGANISATIONS = [organisation(id="trust", ods_code="RC9"), organisation(id="other", ods_code="RYC")]


def ucr_near(opening: dict[str, Any]) -> dict[str, Any]:
    return service(
        id="ucr-near",
        organisation="trust",
        opening=opening,
        eligibility={"caller_roles": PROS, "min_age_days": 6575},
    )


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_directory(
        organisations=ORGANISATIONS,
        services=[
            ucr_near(UCR_HOURS),
            service(
                id="ucr-far",
                organisation="trust",
                opening=UCR_HOURS,
                lat=52.20,
                lng=-0.30,
                eligibility={"caller_roles": PROS},
            ),
            service(
                id="ucr-public-only", organisation="trust", eligibility={"caller_roles": ["public"]}
            ),
            service(
                id="ambulance",
                organisation="other",
                service_type="ambulance_999",
                needs=[],
                places=["bedford", "luton", "central_bedfordshire"],
            ),
            service(
                id="nhs-111",
                organisation="other",
                service_type="nhs_111",
                needs=[],
                places=["bedford"],
            ),
            service(
                id="ed",
                organisation="trust",
                service_type="emergency_department",
                needs=[],
                places=["bedford"],
            ),
        ],
    )


def test_care_home_fall_goes_to_the_nearest_urgent_community_response(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = post(client, auth, call())
    assert body["urgency"] == "urgent"
    assert body["recommendation"]["service"]["id"] == "ucr-near"
    assert body["recommendation"]["fallback"] is None
    assert [a["service"]["id"] for a in body["alternatives"]] == ["ucr-far"]
    assert body["alternatives"][0]["reasons"][0].startswith("Further away")
    assert body["safety_netting"] and body["rules_version"]
    assert body["rule_ids"][0] == body["recommendation"]["rule_id"]
    assert any("Open now" in r for r in body["recommendation"]["reasons"])


def test_the_service_failing_only_one_criterion_is_a_gap(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = post(client, auth, call())
    assert {"service_id": "ucr-public-only", "criterion": "caller_role"}.items() <= next(
        g for g in body["gaps"] if g["service_id"] == "ucr-public-only"
    ).items()
    report = client.get("/api/v1/gaps?from=2020-01-01&to=2100-01-01", headers=auth["admin"]).json
    assert {
        "service_id": "ucr-public-only",
        "criterion": "caller_role",
        "count": 1,
    }.items() <= report["items"][0].items()


def test_any_red_flag_gives_999_whatever_the_need(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = post(client, auth, call(need="loneliness", red_flags=["chest_pain"]))
    assert body["urgency"] == "emergency"
    assert body["recommendation"]["service"]["id"] == "ambulance"
    assert body["recommendation"]["rule_id"] == body["rule_ids"][0]


def test_red_capacity_stops_a_service_being_recommended_at_once(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    client.put(
        "/api/v1/services/ucr-near/capacity", json={"status": "red"}, headers=auth["navigator"]
    )
    assert post(client, auth, call())["recommendation"]["service"]["id"] == "ucr-far"


def test_a_closed_specified_date_stops_a_service_being_recommended_at_once(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    closed_today = UCR_HOURS | {"specified_dates": [{"date": "2026-11-23", "closed": True}]}
    load_directory(organisations=ORGANISATIONS, services=[ucr_near(closed_today)])
    body = post(client, auth, call())
    assert body["recommendation"]["service"]["id"] == "ucr-far"


def test_a_service_closing_within_30_minutes_is_not_recommended(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = post(client, auth, call(at="2026-11-23T19:40:00Z"))  # both UCRs close at 20:00
    assert body["recommendation"]["service"]["id"] not in ("ucr-near", "ucr-far")
    assert body["recommendation"]["fallback"] == "fallback"
    assert any("fallback" in r for r in body["recommendation"]["reasons"])


def test_a_service_opening_within_the_urgency_window_is_recommended_with_its_time(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = post(client, auth, call(at="2026-11-23T07:00:00Z"))  # UCR opens at 08:00, urgent = 2 h
    assert body["recommendation"]["service"]["id"] == "ucr-near"
    assert body["recommendation"]["service"]["opens_at"] == "2026-11-23T08:00:00+00:00"


def test_nothing_fitting_a_non_emergency_falls_back_to_111_never_an_emergency_department(
    client: FlaskClient, auth: Auth, app_ctx: Any
) -> None:
    """Issue 13 §2: the non-emergency catch-all is NHS 111 (the area's 111 entry covering the
    postcode, else the national one, else the built-in national number), never an A&E."""
    lonely = call(need="loneliness", caller_role="public", lives_in_care_home=False)
    ed = service(id="ed", service_type="emergency_department", needs=[])
    national = service(
        id="nhs-111-national", service_type="nhs_111", needs=[], places=[], organisation="other"
    )
    load_directory(organisations=ORGANISATIONS, services=[ed])
    body = post(client, auth, lonely)
    assert body["recommendation"]["service"]["id"] == "national-111"
    assert body["recommendation"]["fallback"] == "national"
    load_directory(organisations=ORGANISATIONS, services=[ed, national])
    body = post(client, auth, lonely)
    assert (body["recommendation"]["service"]["id"], body["recommendation"]["fallback"]) == (
        "nhs-111-national",
        "catch_all",
    )
    assert any("the catch-all is NHS 111" in r for r in body["recommendation"]["reasons"])
    local = service(id="nhs-111", service_type="nhs_111", needs=[], organisation="other")
    load_directory(organisations=ORGANISATIONS, services=[ed, national, local])
    body = post(client, auth, lonely)
    assert body["recommendation"]["service"]["id"] == "nhs-111"
    assert "emergency_department" not in [
        a["service"]["service_type"] for a in body["alternatives"]
    ]
    # ... while an emergency with nothing else still gets the ambulance catch-all.
    assert post(client, auth, call(red_flags=["chest_pain"]))["urgency"] == "emergency"


def test_an_empty_directory_still_gives_a_safe_next_step(client: FlaskClient, auth: Auth) -> None:
    emergency = post(client, auth, call(red_flags=["stroke_symptoms"]))
    assert emergency["recommendation"]["service"]["id"] == "national-999"
    routine = post(client, auth, call(need="loneliness"))
    assert routine["recommendation"]["service"]["id"] == "national-111"


def test_get_returns_the_navigation_as_first_returned(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    created = post(client, auth, call(case_ref="111-CASE-1", nhs_number="943 476 5919"))
    again = client.get(f"/api/v1/navigations/{created['id']}", headers=auth["navigator"])
    assert again.status_code == 200 and again.json == created
    assert client.get("/api/v1/navigations/nope", headers=auth["navigator"]).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"need": "teleportation"}, "need"),
        ({"age": 200}, "age"),
        ({"age": -1}, "age"),
        ({"postcode": "ZZZ"}, "postcode"),
        ({"nhs_number": "943 476 5918"}, "nhs_number"),
        ({"nhs_number": "1111111111"}, "nhs_number"),
        ({"caller_role": "alien"}, "caller_role"),
        ({"red_flags": ["hiccups"]}, "red_flags.0"),
        ({"care_home_service_id": "ed"}, "care_home_service_id"),
        ({"disposition": "DX"}, "disposition"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: FlaskClient, auth: Auth, directory: None, change: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/navigations", json=call(**change), headers=auth["integrator"])
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_missing_need_and_age_are_named(client: FlaskClient, auth: Auth) -> None:
    body = call()
    del body["need"], body["age"]
    errors = client.post("/api/v1/navigations", json=body, headers=auth["integrator"]).json[
        "errors"
    ]
    assert {"need", "age"} <= set(errors)


def test_providers_may_not_route_calls(client: FlaskClient, auth: Auth) -> None:
    assert (
        client.post("/api/v1/navigations", json=call(), headers=auth["provider"]).status_code == 403
    )


def test_navigations_with_an_nhs_number_are_audited(
    client: FlaskClient, auth: Auth, directory: None, session: Any
) -> None:
    from sqlalchemy import select

    from navigator.patients.models import AuditEvent

    created = post(client, auth, call(nhs_number="9434765919"))
    client.get(f"/api/v1/navigations/{created['id']}", headers=auth["navigator"])
    post(client, auth, call())  # no NHS number: nothing patient-identifiable to audit
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.entity, e.action, e.entity_id) for e in events] == [
        ("navigation", "create", created["id"]),
        ("navigation", "read", created["id"]),
    ]


SATURDAY_LATE = {"weekly": {"saturday": [["22:00", "01:30"]]}}


def test_a_session_ending_in_the_skipped_hour_is_not_recommended_ten_minutes_before_it_ends(
    client: FlaskClient, auth: Auth, app_ctx: Any
) -> None:
    """Issue 13 §3, worked value: a Saturday 22:00–01:30 session on Sunday 31 March 2024 ends
    when the clocks jump at 01:00Z, so at 00:50Z it closes in 10 minutes and must not be
    recommended as "open now and not closing within 30 minutes"."""
    load_directory(organisations=ORGANISATIONS, services=[ucr_near(SATURDAY_LATE)])
    body = post(client, auth, call(at="2024-03-31T00:50:00Z"))
    offered = [body["recommendation"], *body["alternatives"]]
    assert "ucr-near" not in [item["service"]["id"] for item in offered]
    earlier = post(client, auth, call(at="2024-03-31T00:20:00Z"))  # 40 minutes before the jump
    assert earlier["recommendation"]["service"]["id"] == "ucr-near"
    assert earlier["recommendation"]["service"]["closes_at"] == "2024-03-31T01:00:00+00:00"


def test_a_session_ending_in_the_repeated_hour_closes_once_and_never_in_the_past(
    client: FlaskClient, auth: Auth, app_ctx: Any
) -> None:
    """Issue 13 §3, worked value: on Sunday 27 October 2024 the same session ends at the first
    01:30 (00:30Z); in the repeated hour (01:10Z) it is closed, with no closing time."""
    load_directory(organisations=ORGANISATIONS, services=[ucr_near(SATURDAY_LATE)])
    body = post(client, auth, call(at="2024-10-27T01:10:00Z"))
    offered = [body["recommendation"], *body["alternatives"]]
    assert "ucr-near" not in [item["service"]["id"] for item in offered]
    before = post(client, auth, call(at="2024-10-26T23:40:00Z"))  # 00:40 BST, 50 min to go
    assert before["recommendation"]["service"]["id"] == "ucr-near"
    assert before["recommendation"]["service"]["closes_at"] == "2024-10-27T00:30:00+00:00"
