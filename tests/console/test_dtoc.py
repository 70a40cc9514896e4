"""The DTOC board: open an episode, change its reason from a time, close it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.console.dtoc import REASON_LABELS
from navigator.core.extensions import db
from navigator.transitions.dtoc import REASONS
from navigator.transitions.models import DtocEpisode, DtocInterval
from tests.console.conftest import post_form

EPISODE = {
    "nhs_number": "9434765919",
    "name": "Pat Example",
    "date_of_birth": "15/3/1940",
    "postcode": "MK42 9DJ",
    "provider_ods": "RC9",
    "site": "Ward 7",
    "care_type": "acute",
    "clinically_ready_at": "2026-11-20T10:00",
    "reason": "E",
    "responsible": "social_care",
}


def test_every_reason_code_has_its_sitrep_label() -> None:
    assert set(REASON_LABELS) == set(REASONS)


@pytest.mark.usefixtures("bedford_directory")
def test_open_update_and_close_an_episode(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    opened = post_form(client, "/dtoc", EPISODE)
    assert opened.status_code == 302, opened.text
    path = opened.location
    board = client.get("/dtoc").text
    assert "Pat Example" in board and "Awaiting care package" in board
    changed = post_form(client, path, {"reason": "Di", "effective_at": "2026-11-21T09:00"})
    assert changed.status_code == 302
    no_time = post_form(client, path, {"reason": "A"})
    assert no_time.status_code == 422 and 'href="#effective-at"' in no_time.text
    closed = post_form(
        client,
        path,
        {"transferred_at": "2026-11-22T11:00", "destination": "care home", "pathway": "3"},
    )
    assert closed.status_code == 302
    with app.app_context():
        episode = db.session.scalars(select(DtocEpisode)).one()
        assert episode.transferred_at is not None and episode.pathway == 3
        reasons = [i.reason for i in db.session.scalars(select(DtocInterval))]
        assert sorted(reasons) == ["Di", "E"]
    assert "Pat Example" not in client.get("/dtoc").text  # no longer an open delay


@pytest.mark.usefixtures("bedford_directory")
def test_a_child_cannot_be_recorded_as_a_delay(sign_in: Callable[[str], FlaskClient]) -> None:
    client = sign_in("navigator")
    response = post_form(client, "/dtoc", EPISODE | {"date_of_birth": "1/1/2015", "nhs_number": ""})
    assert response.status_code == 422
    assert "adults only" in response.text
