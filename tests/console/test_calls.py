"""A call from the first question to the hand-over: routing, accept, override, red flags."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from navigator.extensions import db
from navigator.navigation.models import Navigation
from navigator.patients.models import AuditEvent, Patient
from navigator.referrals.models import Referral
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


def test_red_flag_shows_999_at_once_even_with_the_form_unfinished(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("navigator")
    response = post_form(client, "/calls/new", {"red_flags": ["chest_pain"]})
    assert response.status_code == 422  # the record still needs its details ...
    assert "Red flag – call 999 now" in response.text  # ... but 999 is shown first
    navigation_id = take_call(client, red_flags=["chest_pain"])
    page = client.get(f"/calls/{navigation_id}").text
    assert "Red flag – call 999 now" in page
    assert "urgency: emergency" in page.lower() or "emergency" in page


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
