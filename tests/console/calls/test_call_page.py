"""The call page: after a fallback the override list offers the rule's services, never only
"Choose", and once overridden the page shows the chosen service, not the recommended one
(issue 13 §8, H24)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.core.db import utcnow
from navigator.core.extensions import db
from navigator.directory.capacity import set_capacity
from navigator.referrals.models import Referral
from tests.builders import load_directory, organisation, service
from tests.console.calls.conftest import take_call
from tests.console.conftest import post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")


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
    assert "Recommended: NHS 111 BLMK" in page and "No service met every criterion" in page
    assert "fallback: fallback" not in page  # an internal label (issue 17)
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
