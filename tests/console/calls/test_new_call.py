"""The new-call page: a call is routed and recorded with its caller and patient; a red flag
is recorded with 999 however unfinished the form or however the flag was ticked (issue 13,
hazard H10); without one, bad fields are named and nothing is recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.console.calls.new_call import ROUTING_FIELDS, ROUTING_NOT_ON_FORM
from navigator.core.extensions import db
from navigator.navigation.models import Navigation
from navigator.navigation.schemas import NavigationRequestSchema
from navigator.patients.models import AuditEvent, Patient
from tests.console.calls.conftest import FALL, count, take_call
from tests.console.conftest import form_controls, post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")


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


def test_the_form_offers_every_api_call_fact_but_those_left_out_on_purpose(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    """A fact added to the API's call (`NavigationRequestSchema`) reaches the console's
    routing: the form must have a control for it, or name it in `ROUTING_NOT_ON_FORM`."""
    api = {f.data_key or name for name, f in NavigationRequestSchema().fields.items()}
    assert set(ROUTING_FIELDS) == api - set(ROUTING_NOT_ON_FORM)
    page = sign_in("navigator").get("/calls/new").text
    assert set(ROUTING_FIELDS) <= form_controls(page, "/calls/new")
