"""The dashboard: its CSV download is the API's (`format=csv`): the same bytes, with the
byte-order mark Excel needs to read UTF-8 (README, "CISP dashboard"), named
`cisp-<place>-<from>-<to>.csv`; its months, places, times and people in words (issue 17)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.console.dashboard import month_label
from navigator.core.db import transaction
from navigator.core.extensions import db
from navigator.navigation.models import Navigation
from tests.builders import navigate_fall

Auth = dict[str, dict[str, str]]


def test_the_dashboard_csv_is_the_apis_csv(
    app: Flask, sign_in: Callable[[str], FlaskClient], auth: Auth
) -> None:
    console = sign_in("supervisor").get("/dashboard.csv?from=2026-01&to=2026-02&place=bedford")
    api = app.test_client().get(
        "/api/v1/metrics/cisp?from=2026-01&to=2026-02&place=bedford&format=csv",
        headers=auth["navigator"],
    )
    assert (console.status_code, api.status_code) == (200, 200)
    assert console.data == api.data
    assert console.data.startswith("\ufeff".encode())
    assert (
        console.headers["Content-Disposition"]
        == api.headers["Content-Disposition"]
        == ('attachment; filename="cisp-bedford-2026-01-2026-02.csv"')
    )
    assert console.mimetype == api.mimetype == "text/csv"


def test_the_csv_of_the_default_view_is_named_by_place_code_and_months(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    """With no query string (the link a first visit shows), the file is named by the place
    code of the URL and vocabulary and the months as YYYY-MM, and its first bytes are the
    UTF-8 byte-order mark."""
    client = sign_in("supervisor")
    page = client.get("/dashboard")
    found = re.search(r'href="(/dashboard\.csv\?[^"]+)"', page.text)
    assert found is not None
    link = found.group(1).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200
    assert response.data[:3] == b"\xef\xbb\xbf"
    disposition = response.headers["Content-Disposition"]
    start, end = link.split("from=", 1)[1][:7], link.split("to=", 1)[1][:7]
    assert disposition == f'attachment; filename="cisp-blmk-{start}-{end}.csv"'


@pytest.mark.parametrize(
    ("month", "short", "expected"),
    [
        ("2026-01", False, "January 2026"),
        ("2026-01", True, "Jan 2026"),
        ("2025-12", False, "December 2025"),
        ("not-a-month", False, "not-a-month"),
    ],
)
def test_month_label(month: str, short: bool, expected: str) -> None:
    assert month_label(month, short=short) == expected


@pytest.mark.usefixtures("bedford_directory")
def test_the_dashboard_writes_months_places_times_and_people_in_words(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """No "2026-01", "Bedford" from `.title()`, "01/12/2026 09:00" or "user:1:…" on the page:
    months as "Jan 2026", the place by its label, the override's time NHS style on the London
    clock (09:00 UTC on 1 December is 9am GMT) and who made it by name."""
    client = sign_in("supervisor")
    with app.app_context():
        with transaction(db.session):
            answer = navigate_fall(db.session, created_by="user:1:amy@nhs.example")
            navigation = db.session.get(Navigation, answer["id"])
            assert navigation is not None
            navigation.decision = "overridden"
            navigation.chosen_service_id = "ucr-two"
            navigation.override_reason = "The family asked for the team that already visits."
            navigation.decided_by = "user:1:amy@nhs.example"
            navigation.decided_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        db.session.remove()
    page = client.get("/dashboard?from=2026-01&to=2026-03&place=milton_keynes").text
    assert "Milton Keynes, January 2026 to March 2026" in page
    assert ">Jan 2026</th>" in page and ">2026-01<" not in page
    recent = page.split('id="recent-overrides"', 1)[1]
    assert "already visits" in recent and "UCR Two" in recent
    assert "amy@nhs.example" in recent and "user:1:" not in recent
    assert "Tuesday 1 December" in recent and ", 9am" in recent
    assert "nhsuk-table-responsive" in page.split('id="recent-overrides"', 1)[0][-200:]
