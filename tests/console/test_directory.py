"""Directory upkeep from the console: capacity with a note, "details confirmed", admin edits;
the directory list's pages, phone numbers, capacity in words (never reported vs stale), the
"closed down" checkbox and search by the names people use (issue 17 §3)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.console.directory import SEARCH_FIELDS, SEARCH_NOT_ON_FORM
from navigator.console.formatting import when
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.directory.capacity import capacities, set_capacity
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
    assert "Capacity updated: Full, not taking patients." in client.get("/directory/ucr-one").text
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
    # Capacity never reported is not "stale" (issue 17 §3): nothing is left to check.
    assert "UCR One" not in client.get("/directory?checks=1").text


def report_capacity(app: Flask, service_id: str, status: str, at: datetime) -> None:
    with app.app_context(), transaction(db.session):
        set_capacity(
            db.session,
            service_id,
            status=status,
            note=None,
            reset_after_minutes=None,
            changed_by="user:1:amy@nhs.example",
            now=at,
            default_reset_minutes=240,
        )


def rows(page: str) -> dict[str, str]:
    """The services table's rows by service name: the row's HTML."""
    body = page.split('id="services-table"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    found = {}
    for row in body.split("<tr")[1:]:
        name = re.search(r'<a href="/directory/[^"]+">([^<]+)</a>', row)
        assert name is not None, row
        found[name.group(1)] = row
    return found


def test_never_reported_capacity_is_not_highlighted_but_a_stale_report_is(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """A fresh install highlighted every row (no service had reported capacity): "never
    reported" now reads "Not reported" with no highlight; a report older than
    CAPACITY_STALE_HOURS is highlighted and says when it was made, NHS style, on the London
    clock; a fresh report is neither. Capacity is in plain English, never "green (stale)"."""
    now = utcnow()
    assured = now.isoformat()
    with app.app_context():
        load_directory(
            services=[
                service(id="never", name="Never Reported", assured_at=assured),
                service(id="stale", name="Stale Report", assured_at=assured),
                service(id="fresh", name="Fresh Report", assured_at=assured),
            ]
        )
    # 09:00 UTC on Tuesday 24 November 2026 is 9am in London (GMT), and long before now.
    stale_at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    report_capacity(app, "stale", "green", stale_at)
    report_capacity(app, "fresh", "amber", now)
    client = sign_in("navigator")
    page = client.get("/directory").text
    found = rows(page)
    assert "Not reported" in found["Never Reported"]
    assert "app-highlight-row" not in found["Never Reported"]
    assert "app-highlight-row" in found["Stale Report"]
    assert "Taking patients" in found["Stale Report"]
    assert when(stale_at) in ("Tuesday 24 November, 9am", "Tuesday 24 November 2026, 9am")
    assert f"Last reported {when(stale_at)}" in found["Stale Report"]
    assert "Busy, still taking patients" in found["Fresh Report"]
    assert "app-highlight-row" not in found["Fresh Report"]
    assert "Last reported" not in found["Fresh Report"]
    assert "(stale)" not in page and ">green" not in page.lower()
    checks = rows(client.get("/directory?checks=1").text)
    assert "Stale Report" in checks and not {"Never Reported", "Fresh Report"} & set(checks)


def test_results_show_the_number_a_navigator_would_ring(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """Navigators are professionals: the professionals' line when the service has one, else
    the public number, else "No phone" (never "None")."""
    with app.app_context():
        load_directory(
            services=[
                service(id="both", name="Both Numbers"),
                service(
                    id="public",
                    name="Public Only",
                    contact={"public_phone": "01632 960101", "professional_phone": None},
                ),
                service(
                    id="none",
                    name="No Numbers",
                    contact={"public_phone": None, "professional_phone": None},
                ),
            ]
        )
    found = rows(sign_in("navigator").get("/directory").text)
    assert (
        "01632 960002" in found["Both Numbers"] and "Professionals' line" in found["Both Numbers"]
    )
    assert "01632 960001" not in found["Both Numbers"]
    assert "01632 960101" in found["Public Only"] and "Professionals" not in found["Public Only"]
    assert "No phone" in found["No Numbers"] and "None" not in found["No Numbers"]


def many_services(app: Flask, count: int) -> None:
    with app.app_context():
        load_directory(
            services=[
                service(
                    id=f"svc-{n:03d}",
                    name=f"Service {n:03d}",
                    service_type="befriending" if n % 2 else "urgent_community_response",
                    contact={"public_phone": f"01632 960{n:03d}", "professional_phone": None},
                )
                for n in range(count)
            ]
        )


def test_the_directory_pages_through_every_match_keeping_the_filters(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """Page 2 shows the next services, not page 1 again (issue 17 §3); the caption counts as
    NHS.UK pagination pages do; the previous and next links keep the search's filters; a
    page past the end shows the last page and a page that is no number the first."""
    many_services(app, 135)  # and the three of the `bedford_directory` fixture
    client = sign_in("navigator")
    first = client.get("/directory")
    assert "Showing 1 to 100 of 138 services" in first.text
    assert 'class="nhsuk-pagination' in first.text and 'rel="prev"' not in first.text
    assert 'href="/directory?page=2"' in first.text
    second = client.get("/directory?page=2")
    assert "Showing 101 to 138 of 138 services" in second.text
    assert 'rel="next"' not in second.text and 'href="/directory?page=1"' in second.text
    assert set(rows(first.text)).isdisjoint(rows(second.text))
    assert len(rows(first.text)) + len(rows(second.text)) == 138
    assert rows(client.get("/directory?page=99").text) == rows(second.text)
    assert rows(client.get("/directory?page=x").text) == rows(first.text)
    # 67 befriending services: one page; with 125, the link to page 2 keeps the filters.
    filtered = client.get("/directory?service_type=befriending&q=service").text
    assert "Showing 1 to 67 of 67 services" in filtered and "nhsuk-pagination" not in filtered
    many_services(app, 250)
    filtered = client.get("/directory?service_type=befriending&q=service&open_now=true").text
    assert "Showing 1 to 100 of 125 services" in filtered
    link = filtered.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert query == {
        "service_type": ["befriending"],
        "q": ["service"],
        "open_now": ["true"],
        "page": ["2"],
    }
    assert "Showing 101 to 125 of 125 services" in client.get(link.replace("&amp;", "&")).text


def test_only_services_needing_checks_are_counted_and_paged_before_paging(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """The "needing checks" view filters all matches, then pages: its pages are full and its
    count is the number to check (it filtered one page of 100 before)."""
    old = (utcnow() - timedelta(days=200)).isoformat()
    with app.app_context():
        load_directory(
            services=[
                service(
                    id=f"svc-{n:03d}",
                    name=f"Service {n:03d}",
                    service_type="befriending",
                    assured_at=old if n % 2 else utcnow().isoformat(),
                )
                for n in range(240)
            ]
        )
    client = sign_in("supervisor")
    page = client.get("/directory?checks=1&service_type=befriending")
    assert "Showing 1 to 100 of 120 services" in page.text
    assert all("app-highlight-row" in row for row in rows(page.text).values())
    second = client.get("/directory?checks=1&service_type=befriending&page=2").text
    assert "Showing 101 to 120 of 120 services" in second


def test_closed_down_services_are_listed_only_when_asked_and_say_so(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """The checkbox says what it does (issue 17 §3): services outside their opening hours are
    always listed; ticking it adds those closed for good or for a while (and full ones),
    each tagged with its status in words."""
    with app.app_context():
        load_directory(
            services=[
                service(id="open", name="Open Service"),
                service(id="gone", name="Gone Service", status="defunct"),
                service(id="paused", name="Paused Service", status="temporarily_closed"),
                service(
                    id="weekdays",
                    name="Weekday Service",
                    opening={"open_all_hours": False, "weekly": {"monday": [["09:00", "09:01"]]}},
                ),
            ]
        )
    client = sign_in("navigator")
    default = client.get("/directory").text
    assert "Include services that have closed down or are full" in default
    assert "Services outside their opening hours are always listed" in default
    mine = {"Open Service", "Weekday Service", "Gone Service", "Paused Service"}
    assert set(rows(default)) & mine == {"Open Service", "Weekday Service"}
    assert "No, opens Monday" in rows(default)["Weekday Service"]
    ticked = rows(client.get("/directory?include_unavailable=true").text)
    assert mine <= set(ticked)
    assert "Closed for good" in ticked["Gone Service"]
    assert "Temporarily closed" in ticked["Paused Service"]
    assert "Closed for good" not in ticked["Open Service"]


def test_a_search_by_the_name_people_use_finds_the_service(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    """The console's search reads search synonyms (directory_of_services/search_synonyms.yaml):
    "2-hour urgent community response" is not in "UCR One"'s text, yet finds it by type."""
    client = sign_in("navigator")
    found = rows(client.get("/directory?q=2-hour+urgent+community+response").text)
    assert {"UCR One", "UCR Two"} <= set(found)


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


@pytest.mark.parametrize("page", ["²", "①", "٣", "9" * 5000, "99999999999999999999", "-1", "1e9"])
def test_a_page_that_is_no_whole_number_shows_the_first_page(
    sign_in: Callable[[str], FlaskClient], app: Flask, page: str
) -> None:
    """`?page=` edited by hand never breaks the list: "²" and "①" pass `str.isdigit` but not
    `int`, and `int` refuses more than 4,300 digits (Python's integer-string limit); each shows
    the first page."""
    many_services(app, 135)
    client = sign_in("navigator")
    response = client.get("/directory", query_string={"page": page})
    assert response.status_code == 200
    assert "Showing 1 to 100 of 138 services" in response.text


@pytest.mark.parametrize(
    "extra",
    [{"endpoint": "x"}, {"_method": "DELETE"}, {"_scheme": "javascript"}, {"_external": "1"}],
)
def test_the_page_links_carry_only_the_search_forms_fields(
    sign_in: Callable[[str], FlaskClient], app: Flask, extra: dict[str, str]
) -> None:
    """A query key that is no search field (here one of `url_for`'s own arguments) is left
    out of the page links rather than breaking the page; the form's fields are kept."""
    many_services(app, 135)
    client = sign_in("navigator")
    response = client.get("/directory", query_string={"q": "service"} | extra)
    assert response.status_code == 200
    link = response.text.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert link.startswith("/directory?")
    assert parse_qs(urlsplit(link.replace("&amp;", "&")).query) == {
        "q": ["service"],
        "page": ["2"],
    }


def test_a_page_past_the_end_of_an_empty_search_is_titled_as_the_page_shown(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    response = sign_in("navigator").get("/directory?q=zzzznothing&page=5")
    assert response.status_code == 200
    assert "<title>Directory" in response.text and "(page 5)" not in response.text


def test_a_description_that_starts_like_a_time_is_shown_as_written(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    """Only a history field that holds an instant is read as one: a description beginning
    "2026-01-01T10:00" is text, and the service page still opens (it raised before)."""
    client = sign_in("admin")
    description = "2026-01-01T10:00 new opening hours from January"
    edited = post_form(
        client,
        "/directory/ucr-one/edit",
        {"name": "UCR One", "status": "active", "description": description},
    )
    assert edited.status_code == 302, edited.text
    page = client.get("/directory/ucr-one")
    assert page.status_code == 200
    assert description in page.text


def test_capacity_is_said_in_one_set_of_words(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """The service page's choices and its confirmation use the directory tag's words
    (`LABELS["capacity"]`), not "Green" or "Red"."""
    client = sign_in("navigator")
    page = client.get("/directory/ucr-one").text
    for words in ("Taking patients", "Busy, still taking patients", "Full, not taking patients"):
        assert f">{words}</option>" in page
    assert ">Red</option>" not in page
    updated = post_form(
        client, "/directory/ucr-one/capacity", {"status": "red"}, page="/directory/ucr-one"
    )
    assert updated.status_code == 302
    shown = client.get("/directory/ucr-one").text
    assert "Capacity updated: Full, not taking patients." in shown
    assert "Capacity set to Full, not taking patients" in shown
