"""A call from the first question to the hand-over: routing, accept, override, red flags;
one hand-over per service and one patient per call, whether the API or the console referred
first, and an override list that is never empty after a fallback (issue 13 §8, H24)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from navigator.core.db import utcnow
from navigator.core.extensions import db
from navigator.directory.capacity import set_capacity
from navigator.navigation.models import Navigation
from navigator.patients.models import AuditEvent, Patient
from navigator.referrals.models import Referral
from tests.builders import load_directory, organisation, service
from tests.console.conftest import csrf_token, post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")

FALL = {
    "caller_role": "relative",
    "caller_name": "Sam Caller",
    "caller_phone": "07700 900123",
    "need": "fall_no_injury",
    "name": "Pat Example",
    "date_of_birth": "15/3/1940",
    "sex": "female",
    "postcode": "MK42 9DJ",
    "nhs_number": "9434765919",
    "notes": "Found on the floor, got up alone.",
}


def take_call(client: FlaskClient, **overrides: object) -> str:
    response = post_form(client, "/calls/new", FALL | overrides)
    assert response.status_code == 302, re.findall(r"Error:</span>(.*?)<", response.text, re.S)
    return response.location.rsplit("/", 1)[1]


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_new_call_records_caller_patient_and_shows_the_recommendation(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client)
    page = client.get(f"/calls/{navigation_id}")
    assert page.status_code == 200
    assert "Recommended: UCR One" in page.text
    assert "Read this to the caller" in page.text
    assert "UCR Two" in page.text  # the alternative, with why it ranks lower
    with app.app_context():
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None
        assert navigation.caller_name == "Sam Caller"
        assert navigation.notes == FALL["notes"]
        patient = db.session.get(Patient, navigation.patient_id)
        assert patient is not None and patient.nhs_number == "9434765919"
        reads = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "read", AuditEvent.entity == "patient")
        ).all()
        assert reads, "viewing the call is an audited read of patient data"


def test_accept_creates_exactly_one_referral(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client)
    path = f"/calls/{navigation_id}"
    token = csrf_token(client, path)  # a double click sends the same form twice
    first = client.post(f"{path}/decision", data={"action": "accept", "csrf_token": token})
    assert first.status_code == 302
    again = client.post(f"{path}/decision", data={"action": "accept", "csrf_token": token})
    assert again.status_code == 409
    with app.app_context():
        assert count(Referral) == 1
        referral = db.session.scalars(select(Referral)).one()
        assert referral.service_id == "ucr-one" and referral.navigation_id == navigation_id
        assert db.session.get(Navigation, navigation_id).decision == "accepted"  # type: ignore[union-attr]
    timeline = client.get(path).text
    assert "Referral sent" in timeline and "Recommendation accepted" in timeline


def test_override_needs_a_reason_and_is_recorded_with_it(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("supervisor")
    navigation_id = take_call(client)
    path = f"/calls/{navigation_id}"
    missing = post_form(
        client, f"{path}/decision", {"action": "override", "service_id": "ucr-two"}, page=path
    )
    assert missing.status_code == 422
    assert "Say why you chose a different service" in missing.text
    with app.app_context():
        assert count(Referral) == 0
    reason = "Family already known to the UCR Two team this week."
    done = post_form(
        client,
        f"{path}/decision",
        {"action": "override", "service_id": "ucr-two", "override_reason": reason},
        page=path,
    )
    assert done.status_code == 302
    with app.app_context():
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None
        assert (navigation.decision, navigation.chosen_service_id) == ("overridden", "ucr-two")
        assert db.session.scalars(select(Referral)).one().service_id == "ucr-two"
    dashboard = client.get("/dashboard").text
    assert reason in dashboard


def test_an_unfinished_red_flag_call_is_recorded_with_999_and_the_flag_named(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """Issue 13 §1 (hazard H10): a red flag ticked on an unfinished form is recorded as a
    navigation through the same service as the API (999 advice in the calls list, the
    timeline and the metrics), and the call page and the calls list name the flag."""
    client = sign_in("navigator")
    response = post_form(
        client, "/calls/new", {"red_flags": ["chest_pain"], "date_of_birth": "31/2/1940"}
    )
    assert response.status_code == 302  # recorded, however unfinished
    navigation_id = response.location.rsplit("/", 1)[1]
    with app.app_context():
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None
        assert (navigation.urgency, navigation.recommended_service_type) == (
            "emergency",
            "ambulance_999",
        )
        assert navigation.red_flags == ["chest_pain"] and navigation.created_by
        warned = {w["field"] for w in navigation.result["warnings"]}
        assert {"caller_role", "postcode", "age", "date_of_birth"} <= warned
        assert count(Patient) == 0  # no name given: no patient record
    page = client.get(f"/calls/{navigation_id}").text
    assert "Red flag – call 999 now" in page
    assert "Reported: <strong>Chest pain</strong>" in page
    assert "Chest pain reported: a possible emergency" in page  # the reasons name it too
    assert "recorded without: Who is calling, Postcode, Age, Date of birth" in page
    listed = post_form(client, "/calls", {}).text
    assert f"/calls/{navigation_id}" in listed
    assert "<strong>Chest pain</strong>" in listed and "red flag</td>" not in listed


def test_a_red_flag_call_with_invalid_patient_details_is_recorded_without_the_patient(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    response = post_form(
        client,
        "/calls/new",
        FALL | {"red_flags": ["severe_bleeding", "chest_pain"], "nhs_number": "1234567890"},
    )
    assert response.status_code == 302
    page = client.get(response.location).text
    assert "Reported: <strong>Chest pain and Severe bleeding</strong>" in page
    assert "NHS number" in page and "Full name" in page  # left out, and said so
    with app.app_context():
        assert count(Patient) == 0 and count(Navigation) == 1


def test_a_finished_red_flag_call_records_the_patient_as_usual(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client, red_flags=["chest_pain"])
    page = client.get(f"/calls/{navigation_id}").text
    assert "Red flag – call 999 now" in page and 'id="left-out"' not in page
    with app.app_context():
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None and navigation.patient_id is not None
        assert navigation.urgency == "emergency" and navigation.result["warnings"] == []


def test_a_tampered_red_flag_alone_records_nothing(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """Only a known red flag is answered without the rest: an unknown code is a form error."""
    client = sign_in("navigator")
    response = post_form(client, "/calls/new", {"red_flags": ["hiccups"]})
    assert response.status_code == 422
    assert "call 999 now" in response.text  # shown anyway: 999 is never held back
    with app.app_context():
        assert count(Navigation) == 0


def test_bad_fields_are_named_and_nothing_is_recorded(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    response = post_form(
        client, "/calls/new", FALL | {"postcode": "NOT A POSTCODE", "nhs_number": "1234567890"}
    )
    assert response.status_code == 422
    assert 'href="#postcode"' in response.text and 'href="#nhs-number"' in response.text
    with app.app_context():
        assert count(Navigation) == 0 and count(Patient) == 0


def test_search_by_nhs_number_is_posted_and_audited(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client)
    with app.app_context():
        before = count(AuditEvent)
    found = post_form(client, "/calls", {"nhs_number": "943 476 5919"})
    assert navigation_id in found.text
    with app.app_context():
        assert count(AuditEvent) > before
    prefill = post_form(client, "/calls/new/find", {"nhs_number": "9434765919"}, page="/calls/new")
    assert 'value="Pat Example"' in prefill.text


# --- The call workflow never duplicates or dead-ends a handoff (issue 13 §8, hazard H24) -----


def test_a_call_referred_through_the_api_is_not_referred_again_from_the_console(
    sign_in: Callable[[str], FlaskClient], app: Flask, auth: dict[str, dict[str, str]]
) -> None:
    """The issue's case: a referral made through the API for a navigation, then "Accept and
    refer" on the same call in the console, gave two referrals to the same service, the
    second with a new patient record without the NHS number."""
    api = app.test_client()
    routed = api.post(
        "/api/v1/navigations",
        json={
            "caller_role": "relative",
            "need": "fall_no_injury",
            "age": 80,
            "postcode": "MK42 9DJ",
        },
        headers=auth["integrator"],
    )
    assert routed.status_code == 201
    navigation_id = routed.json["id"]
    referred = api.post(
        "/api/v1/referrals",
        json={
            "navigation_id": navigation_id,
            "service_id": routed.json["recommendation"]["service"]["id"],
            "patient": {"nhs_number": "9434765919", "name": "Ada Example"},
            "reason": "Fall without injury",
            "urgency": "urgent",
            "consent": True,
        },
        headers=auth["integrator"],
    )
    assert referred.status_code == 201
    client = sign_in("navigator")
    path = f"/calls/{navigation_id}"
    page = client.get(path).text
    assert "Referrals for this call" in page and referred.json["id"][:8] in page
    assert "Accept and refer" not in page  # not offered again for the open referral
    assert "already has an open referral for this call (sent)" in page
    assert "Ada Example" in page and 'name="patient_name"' not in page  # the referral's patient
    # A stale page (loaded before the API referral) still posts Accept, with a name typed in.
    done = post_form(
        client, f"{path}/decision", {"action": "accept", "patient_name": "Ada X"}, page=path
    )
    assert done.status_code == 302
    assert "no second referral was sent" in client.get(path).text
    with app.app_context():
        assert count(Referral) == 1 and count(Patient) == 1
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None and navigation.decision == "accepted"
        assert navigation.patient_id == referred.json["patient_id"]


@pytest.fixture
def night_fallback(app: Flask, bedford_directory: None) -> None:  # loaded after it
    """Both urgent community response teams report red capacity, so the call falls back to
    the area's NHS 111 (the same fault as NHS 111 at night, without depending on the clock)."""
    with app.app_context():
        load_directory(
            services=[
                service(id="ucr-one", name="UCR One"),
                service(
                    id="ucr-two",
                    name="UCR Two",
                    postcode="MK40 1AA",
                    lat=52.2,
                    lng=-0.5,
                    contact={"public_phone": "01632 960221", "professional_phone": "01632 960222"},
                ),
                service(
                    id="nhs-111-blmk",
                    name="NHS 111 BLMK",
                    service_type="nhs_111",
                    needs=[],
                    contact={"public_phone": "111", "professional_phone": "01632 960111"},
                ),
            ],
            organisations=[organisation()],
        )
        for service_id in ("ucr-one", "ucr-two"):
            set_capacity(
                db.session,
                service_id,
                status="red",
                note=None,
                reset_after_minutes=None,
                changed_by="tests",
                now=utcnow(),
                default_reset_minutes=240,
            )
        db.session.commit()
        db.session.remove()


@pytest.mark.usefixtures("night_fallback")
def test_after_a_fallback_the_override_offers_the_rules_services_and_shows_the_chosen_one(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client)
    path = f"/calls/{navigation_id}"
    page = client.get(path).text
    assert "Recommended: NHS 111 BLMK" in page and "fallback: fallback" in page
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', page)
    offered = [value for value, _ in options if value]
    assert offered == ["ucr-one", "ucr-two"]  # not only "Choose"; nearest first
    labels = dict(options)
    assert "Bedford" in labels["ucr-one"] and " km" in labels["ucr-one"]
    assert "open now" in labels["ucr-one"]
    assert "has reported that it is full (red capacity)" in labels["ucr-two"]
    reason = "Spoke to the UCR Two coordinator: they can take one more today."
    done = post_form(
        client,
        f"{path}/decision",
        {"action": "override", "service_id": "ucr-two", "override_reason": reason},
        page=path,
    )
    assert done.status_code == 302
    after = client.get(path).text
    assert "Referred instead to: UCR Two" in after
    assert "01632 960222" in after  # the chosen service's contact details ...
    assert "01632 960111" not in after  # ... not the recommended one's
    assert "Recommended: NHS 111 BLMK" not in after
    with app.app_context():
        assert db.session.scalars(select(Referral)).one().service_id == "ucr-two"


def test_a_nul_in_the_notes_does_not_stop_a_red_flag_call_being_recorded(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """Clinical review of issue 13, F2: the edge refused the whole form (a NUL in Notes), so
    the 999 advice was shown but never recorded. The notes are left out, said so, and the
    call is recorded; without a red flag the form is refused as before (issue 12 §5)."""
    client = sign_in("navigator")
    response = post_form(
        client, "/calls/new", FALL | {"red_flags": ["chest_pain"], "notes": "Fell\x00 over"}
    )
    assert response.status_code == 302, response.text
    navigation_id = response.location.rsplit("/", 1)[1]
    page = client.get(f"/calls/{navigation_id}").text
    assert "Red flag – call 999 now" in page and "Reported: <strong>Chest pain</strong>" in page
    assert "recorded without: Notes" in page
    with app.app_context():
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None and navigation.urgency == "emergency"
        assert navigation.notes is None and navigation.patient_id is not None
        assert [w["field"] for w in navigation.result["warnings"]] == ["notes"]
    refused = post_form(client, "/calls/new", FALL | {"notes": "Fell\x00 over"})
    assert refused.status_code == 422
    with app.app_context():
        assert count(Navigation) == 1


def test_a_red_flag_ticked_another_way_is_recorded_with_999(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """Clinical review of issue 13, F1: a tampered or scripted form sending the flag's label
    or its code in capitals is read as the flag, not refused."""
    client = sign_in("navigator")
    response = post_form(client, "/calls/new", {"red_flags": ["CHEST_PAIN", "Severe bleeding"]})
    assert response.status_code == 302
    with app.app_context():
        navigation = db.session.get(Navigation, response.location.rsplit("/", 1)[1])
        assert navigation is not None
        assert navigation.red_flags == ["chest_pain", "severe_bleeding"]
