"""Directory upkeep from the console: capacity with a note, "details confirmed", admin edits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.console.directory import SEARCH_FIELDS, SEARCH_NOT_ON_FORM
from navigator.core.db import utcnow
from navigator.core.extensions import db
from navigator.directory.capacity import capacities
from navigator.directory.models import ServiceChange
from navigator.directory.schemas import ServiceSearchArgs
from navigator.directory.store import read_services
from tests.builders import load_directory, organisation, service
from tests.console.conftest import form_controls, post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")


def test_capacity_update_with_note_takes_effect_and_is_shown(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    response = post_form(
        client,
        "/directory/ucr-one/capacity",
        {"status": "red", "note": "Two crews off sick", "reset_after_minutes": "120"},
        page="/directory/ucr-one",
    )
    assert response.status_code == 302
    with app.app_context():
        now = utcnow()
        capacity = capacities(db.session, ["ucr-one"], now, 24)["ucr-one"]
        assert (capacity.status, capacity.note) == ("red", "Two crews off sick")
    assert "Two crews off sick" in client.get("/directory/ucr-one").text


def test_capacity_update_rejects_a_bad_reset_time(sign_in: Callable[[str], FlaskClient]) -> None:
    client = sign_in("navigator")
    response = post_form(
        client,
        "/directory/ucr-one/capacity",
        {"status": "amber", "reset_after_minutes": "5"},
        page="/directory/ucr-one",
    )
    assert response.status_code == 422
    assert 'href="#reset-after-minutes"' in response.text


def test_old_assurance_is_highlighted_until_details_are_confirmed(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    with app.app_context():
        load_directory(
            services=[service(id="ucr-one", name="UCR One", assured_at="2025-01-01T09:00:00Z")],
            organisations=[organisation()],
        )
    client = sign_in("supervisor")
    listing = client.get("/directory?checks=1").text
    assert "UCR One" in listing and "app-highlight-row" in listing
    post_form(client, "/directory/ucr-one/confirm", {}, page="/directory/ucr-one")
    with app.app_context():
        record = read_services(db.session, ["ucr-one"])["ucr-one"]
        assert record["assured_at"][:10] == utcnow().date().isoformat()
        assert record["assured_by"].startswith("user:")
        fields = {c.field for c in db.session.scalars(select(ServiceChange))}
        assert "assured_at" in fields
    still = client.get("/directory?checks=1").text
    assert "UCR One" in still  # capacity never reported counts as stale, so still to check
    post_form(client, "/directory/ucr-one/capacity", {"status": "green"}, page="/directory/ucr-one")
    assert "UCR One" not in client.get("/directory?checks=1").text


def test_admin_edit_is_validated_and_recorded_in_the_history(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("admin")
    page = "/directory/ucr-one/edit"
    bad = post_form(
        client, page, {"name": "UCR One", "status": "active", "contact.public_phone": "12"}
    )
    assert bad.status_code == 422
    assert 'href="#contact-public-phone"' in bad.text
    good = post_form(
        client,
        page,
        {"name": "UCR One (Bedford)", "status": "active", "contact.public_phone": "01632 960111"},
    )
    assert good.status_code == 302
    with app.app_context():
        record = read_services(db.session, ["ucr-one"])["ucr-one"]
        assert record["name"] == "UCR One (Bedford)"
        changes = {c.field: c.new_value for c in db.session.scalars(select(ServiceChange))}
        assert changes["name"] == "UCR One (Bedford)"
    assert "UCR One (Bedford)" in client.get("/directory/ucr-one").text


def test_search_uses_the_api_filters_and_names_a_bad_one(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("navigator")
    found = client.get("/directory?postcode=MK42+9DJ&radius_km=5&sex=female&age=80")
    assert found.status_code == 200 and "UCR One" in found.text
    bad = client.get("/directory?radius_km=5")
    assert bad.status_code == 422 and 'href="#radius-km"' in bad.text


def test_the_search_form_offers_every_api_filter_but_those_left_out_on_purpose(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    """A filter added to the API search (`ServiceSearchArgs`) reaches the console's search:
    the form must have a control for it, or name it in `SEARCH_NOT_ON_FORM` with a reason."""
    api = {f.data_key or name for name, f in ServiceSearchArgs().fields.items()}
    assert set(SEARCH_FIELDS) == api - set(SEARCH_NOT_ON_FORM)
    page = sign_in("navigator").get("/directory").text
    assert set(SEARCH_FIELDS) <= form_controls(page, "/directory")
