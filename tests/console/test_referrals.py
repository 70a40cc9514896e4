"""The referrals list and a referral's page name the patient and their age (issue 17 §2),
also when the caller gave only an age: the age given on the call is shown, marked as such
(fresh-eyes review of issue 17: every referral made from a call with an age and no date of
birth read "Age not known")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.core.extensions import db
from navigator.referrals.models import Referral
from tests.console.calls.conftest import take_call
from tests.console.conftest import post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")


def test_an_age_given_on_the_call_is_shown_when_there_is_no_date_of_birth(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client, date_of_birth="", age="88", nhs_number="")
    path = f"/calls/{navigation_id}"
    accepted = post_form(client, f"{path}/decision", {"action": "accept"}, page=path)
    assert accepted.status_code == 302
    with app.app_context():
        referral_id = db.session.scalars(select(Referral.id)).one()
        db.session.remove()
    listed = client.get("/referrals").text
    assert "Pat Example" in listed and "88 years (given on the call)" in listed
    assert "Age not known" not in listed
    page = client.get(f"/referrals/{referral_id}").text
    assert "88 years (given on the call)" in page
