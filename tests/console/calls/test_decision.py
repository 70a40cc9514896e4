"""The decision: accept or override (with a reason) hands the call over exactly once, and
one patient per call, whether the API or the console referred first (issue 13 §8, H24)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.core.extensions import db
from navigator.navigation.models import Navigation
from navigator.patients.models import Patient
from navigator.referrals.models import Referral
from tests.console.calls.conftest import count, take_call
from tests.console.conftest import csrf_token, post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")


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


def test_a_refused_decision_leaves_nothing_behind(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """The decision page owns one unit of work: the patient made from the name typed at
    hand-over is rolled back with the refused decision, not left as a record of nobody's call."""
    client = sign_in("navigator")
    navigation_id = take_call(client, name="")  # no name: the call has no patient yet
    path = f"/calls/{navigation_id}"
    refused = post_form(
        client,
        f"{path}/decision",
        {"action": "override", "service_id": "ucr-two", "patient_name": "Pat Example"},
        page=path,
    )
    assert refused.status_code == 422
    assert "Say why you chose a different service" in refused.text  # the call page again
    with app.app_context():
        assert count(Patient) == 0 and count(Referral) == 0
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None
        assert (navigation.decision, navigation.patient_id) == (None, None)


def test_a_decision_on_an_unknown_call_is_not_found(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    response = post_form(
        client, "/calls/no-such-call/decision", {"action": "accept"}, page="/calls"
    )
    assert response.status_code == 404
    with app.app_context():
        assert count(Referral) == 0
