"""The "To classify" queue and the classify form (issue 15 §2): supervisors and admins only
(a navigator gets 403 from the server, not just a hidden link), the feed's hostile text shown
only escaped (OWASP ASVS 5.0 V1.2.1), errors beside their fields in the NHS.UK error style,
and a saved classification back in the queue's confirmation, the service's page and the
change history. Badges say "Not yet classified" wherever an unclassified service is listed."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from navigator.core.clock import max_age_days_from_years, min_age_days_from_years
from navigator.core.extensions import db
from navigator.directory.classify import FROM_ITS_SOURCE
from navigator.directory.models import ServiceChange
from navigator.directory.records import MAX_AGE_DAYS
from navigator.directory.store import read_services
from tests.builders import load_directory, organisation, service
from tests.console.conftest import csrf_token, form_controls, post_form

HOSTILE = {
    "name": "<script>alert('name')</script>",
    "description": "<script>alert('description')</script>",
    "term": "<script>alert('term')</script>",
    "taxonomy": '<img src=x onerror="alert(1)">',
}
FEED_TERM = {"taxonomy": HOSTILE["taxonomy"], "code": "http://id.esd.org.uk/service/1126"}


@pytest.fixture
def feed_directory(app: Flask) -> None:
    """An unclassified service from a feed (hostile text everywhere the feed writes), a
    service a mapping classified, and a hand-kept one."""
    with app.app_context():
        load_directory(
            organisations=[organisation()],
            services=[
                service(
                    id="befriend",
                    name=HOSTILE["name"],
                    description=HOSTILE["description"],
                    service_type="unclassified",
                    sector="voluntary",
                    needs=[],
                    source_terms=[FEED_TERM | {"name": HOSTILE["term"]}],
                ),
                service(
                    id="mapped",
                    name="Mapped Falls",
                    service_type="falls_service",
                    classified_by="mapping:esd-services",
                    source_terms=[FEED_TERM | {"name": "Falls prevention"}],
                ),
                service(id="ucr-one", name="UCR One"),
            ],
        )
        db.session.remove()


def no_raw_script(body: str) -> None:
    assert "<script>alert" not in body and "<img src=x" not in body


SUMMARY_LINK = re.compile(r'<li>\s*<a href="(#[^"]+)"[^>]*>\s*(.*?)\s*</a>', re.S)


def error_summary(body: str) -> list[tuple[str, str]]:
    """The error summary's (link, message) pairs, in order."""
    start = body.index("nhsuk-error-summary__list")
    listing = body[start : body.index("</ul>", start)]
    return [(href, unescape(text)) for href, text in SUMMARY_LINK.findall(listing)]


@pytest.mark.usefixtures("feed_directory")
def test_a_navigator_may_not_see_the_queue_or_classify(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("navigator")
    assert client.get("/to-classify").status_code == 403
    assert client.get("/directory/befriend/classify").status_code == 403
    token = csrf_token(client, "/directory/befriend")
    posted = client.post(
        "/directory/befriend/classify",
        data={"csrf_token": token, "service_type": "befriending", "caller_roles": ["public"]},
    )
    assert posted.status_code == 403
    listing = client.get("/directory").text
    assert "/to-classify" not in listing
    assert "Not yet classified" in listing  # the badge is for everyone
    assert "/classify" not in client.get("/directory/befriend").text


@pytest.mark.usefixtures("feed_directory")
@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_queue_lists_the_feed_s_services_with_their_terms_escaped(
    sign_in: Callable[[str], FlaskClient], role: str
) -> None:
    client = sign_in(role)
    page = client.get("/to-classify")
    assert page.status_code == 200
    body = page.text
    no_raw_script(body)
    for text in HOSTILE.values():
        if text != HOSTILE["description"]:
            assert str(escape(text)) in body
    assert 'href="/directory/befriend/classify"' in body
    assert "Mapped Falls" not in body and "UCR One" not in body  # only the unclassified
    directory = client.get("/directory").text
    assert "To classify: 1 service not yet classified" in directory


@pytest.mark.usefixtures("feed_directory")
def test_the_form_shows_the_feed_s_description_and_terms_and_no_unclassified_type(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("supervisor")
    page = client.get("/directory/befriend/classify")
    assert page.status_code == 200
    body = page.text
    no_raw_script(body)
    assert str(escape(HOSTILE["description"])) in body
    assert str(escape(HOSTILE["term"])) in body
    assert 'value="unclassified"' not in body
    assert form_controls(body, "/directory/befriend/classify") == {
        "csrf_token",
        "service_type",
        "sector",
        "needs",
        "caller_roles",
        "min_age_years",
        "max_age_years",
        "sex",
    }


@pytest.mark.usefixtures("feed_directory")
def test_errors_are_shown_beside_their_fields_and_nothing_is_saved(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """Every error in one round, each naming its field once and linking to it, in the page's
    order (NHS digital service manual, "Error summary" and "Error message": "Enter ...",
    "Choose ...", the same words in the summary and beside the field). Review of issue 15,
    finding 15: the age sentence was listed twice, naming neither field, and unknown codes
    only showed after the ages were right."""
    client = sign_in("supervisor")
    response = post_form(
        client,
        "/directory/befriend/classify",
        {"sector": "nowhere", "min_age_years": "eighteen", "max_age_years": "200"},
    )
    assert response.status_code == 422
    body = response.text
    assert "There is a problem" in body
    assert error_summary(body) == [
        ("#service-type", "Choose a service type"),
        ("#sector", "'nowhere' is not a known sector"),
        ("#caller-roles", "Choose at least one kind of caller"),
        ("#min-age-years", "Enter the youngest age in years, from 0 to 130"),
        (
            "#max-age-years",
            "Enter the oldest age in years, from 0 to 130, or leave it empty for no upper limit",
        ),
    ]
    for anchor, _ in error_summary(body):  # every link has its target
        assert f'id="{anchor[1:]}"' in body, anchor
    no_raw_script(body)
    response = post_form(
        client,
        "/directory/befriend/classify",
        {
            "service_type": "befriending",
            "caller_roles": ["public"],
            "min_age_years": "18",
            "max_age_years": "17",
        },
    )
    assert response.status_code == 422
    assert error_summary(response.text) == [
        ("#max-age-years", "The oldest age must not be below the youngest")
    ]
    for number in ("-1", "131.5", "1e308", "nan", "inf"):
        response = post_form(
            client,
            "/directory/befriend/classify",
            {"service_type": "befriending", "caller_roles": ["public"], "min_age_years": number},
        )
        assert response.status_code == 422, number
        assert error_summary(response.text) == [
            ("#min-age-years", "Enter the youngest age in years, from 0 to 130")
        ], number
    # Two list items too long for their column: one message, on the field the page has.
    response = post_form(
        client,
        "/directory/befriend/classify",
        {"service_type": "befriending", "caller_roles": ["public"], "needs": ["n" * 101] * 2},
    )
    assert error_summary(response.text) == [("#needs", "Choose the needs it meets from the list")]
    with app.app_context():
        record = read_services(db.session, ["befriend"])["befriend"]
        assert record["service_type"] == "unclassified"
        db.session.remove()


@pytest.mark.parametrize(
    ("min_age_days", "max_age_days", "shown"),
    [
        # An ORUK feed's `minimum_age: 65, maximum_age: 120.5`, as the import stores it.
        (min_age_days_from_years(65), max_age_days_from_years(120.5), ("65", "120.5")),
        (min_age_days_from_years(1.5), max_age_days_from_years(17), ("1.5", "17")),
        (min_age_days_from_years(130), None, ("130", "")),
        (0, MAX_AGE_DAYS, ("0", "130")),  # the record's own limit: every 130-year-old
    ],
)
def test_the_form_prefills_what_is_stored_and_saves_it_unchanged(
    sign_in: Callable[[str], FlaskClient],
    app: Flask,
    min_age_days: int,
    max_age_days: int | None,
    shown: tuple[str, str],
) -> None:
    """Whatever the record holds (an import keeps ages to 130 years, the record to
    `MAX_AGE_DAYS` days) is prefilled in years that read back to the same days, and the form
    as prefilled saves without an error or a change. Review of issue 15, finding 15: an
    imported 120.5 was prefilled, then refused as "from 0 to 120"."""
    eligibility = {"min_age_days": min_age_days, "max_age_days": max_age_days}
    with app.app_context():
        load_directory(
            organisations=[organisation()],
            services=[
                service(
                    id="elders",
                    classified_by="mapping:esd-services",
                    eligibility=service()["eligibility"] | eligibility,
                )
            ],
        )
        db.session.remove()
    client = sign_in("supervisor")
    form = client.get("/directory/elders/classify").text
    assert f'id="min-age-years" name="min_age_years" type="text" value="{shown[0]}"' in form
    if shown[1]:
        assert f'name="max_age_years" type="text" value="{shown[1]}"' in form
    with app.app_context():
        before = read_services(db.session, ["elders"])["elders"]
        db.session.remove()
    response = post_form(
        client,
        "/directory/elders/classify",
        {
            "service_type": before["service_type"],
            "sector": before["sector"],
            "needs": before["needs"],
            "caller_roles": before["eligibility"]["caller_roles"],
            "min_age_years": shown[0],
            "max_age_years": shown[1],
            "sex": before["eligibility"]["sex"],
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        after = read_services(db.session, ["elders"])["elders"]
        assert after["eligibility"] == before["eligibility"]
        db.session.remove()


@pytest.mark.usefixtures("feed_directory")
def test_an_oldest_age_of_130_is_kept_at_the_record_s_limit(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    """A whole 130 would admit to the day before the 131st birthday, past the record's
    `MAX_AGE_DAYS`; the form takes it (it says "0 to 130") and keeps the record's limit."""
    response = post_form(
        sign_in("supervisor"),
        "/directory/befriend/classify",
        {
            "service_type": "befriending",
            "caller_roles": ["public"],
            "min_age_years": "130",
            "max_age_years": "130",
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        eligibility = read_services(db.session, ["befriend"])["befriend"]["eligibility"]
        assert (eligibility["min_age_days"], eligibility["max_age_days"]) == (
            min_age_days_from_years(130),
            MAX_AGE_DAYS,
        )
        db.session.remove()


@pytest.mark.usefixtures("feed_directory")
def test_a_form_without_its_csrf_token_is_refused(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("admin")
    response = client.post(
        "/directory/befriend/classify",
        data={"service_type": "befriending", "caller_roles": ["public"]},
    )
    assert response.status_code == 400
    with app.app_context():
        assert read_services(db.session, ["befriend"])["befriend"]["classified_by"] is None
        db.session.remove()


@pytest.mark.usefixtures("feed_directory")
def test_classifying_saves_returns_to_the_queue_and_is_in_the_history(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("supervisor")
    response = post_form(
        client,
        "/directory/befriend/classify",
        {
            "service_type": "befriending",
            "needs": ["loneliness", "bereavement"],
            "caller_roles": ["public", "relative"],
            "min_age_years": "1.5",
            "max_age_years": "",
            "sex": "any",
        },
    )
    assert response.status_code == 302, response.text
    assert response.location.endswith("/to-classify")
    queue = client.get("/to-classify").text
    assert "classified as Befriending" in queue  # the confirmation
    assert "Nothing to classify" in queue  # the empty state
    no_raw_script(queue)
    with app.app_context():
        record = read_services(db.session, ["befriend"])["befriend"]
        assert record["service_type"] == "befriending"
        assert record["sector"] == "voluntary"  # the type's usual sector (service_types.yaml)
        assert record["needs"] == ["bereavement", "loneliness"]
        assert record["eligibility"]["caller_roles"] == ["public", "relative"]
        assert record["eligibility"]["min_age_days"] == 548
        assert record["classified_by"] == "person:supervisor@test.navigator.example"
        authors = set(
            db.session.scalars(
                select(ServiceChange.changed_by).where(ServiceChange.field == "service_type")
            )
        )
        assert len(authors) == 1 and next(iter(authors)).startswith("user:")
        db.session.remove()
    page = client.get("/directory/befriend").text
    assert 'id="unclassified"' not in page  # the badge; the history says it was
    assert "Service type changed from Not yet classified to Befriending" in page
    assert "supervisor@test.navigator.example" in page  # "Classified by"
    assert "Correct the classification" in page


@pytest.mark.usefixtures("feed_directory")
def test_a_mapping_s_classification_is_shown_and_can_be_corrected_from_the_service_page(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("admin")
    page = client.get("/directory/mapped").text
    assert "Mapping esd-services" in page and "Falls prevention" in page
    assert 'href="/directory/mapped/classify"' in page
    form = client.get("/directory/mapped/classify").text
    assert '<option value="falls_service" selected' in form
    response = post_form(
        client,
        "/directory/mapped/classify",
        {
            "service_type": "frailty_service",
            "sector": "community",
            "needs": ["frailty_decline"],
            "caller_roles": ["professional"],
            "min_age_years": "65",
            "sex": "any",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith("/directory/mapped")
    with app.app_context():
        record = read_services(db.session, ["mapped"])["mapped"]
        assert (record["service_type"], record["classified_by"]) == (
            "frailty_service",
            "person:admin@test.navigator.example",
        )
        db.session.remove()


@pytest.mark.usefixtures("feed_directory")
def test_a_hand_kept_service_offers_no_classify_link_and_refuses_the_form(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("admin")
    assert "/classify" not in client.get("/directory/ucr-one").text
    refused = client.get("/directory/ucr-one/classify")
    assert refused.status_code == 409
    # True for a hand-kept file and for a feed loaded with --trust-classification alike.
    assert str(escape(FROM_ITS_SOURCE)) in refused.text
    assert client.get("/directory/nope/classify").status_code == 404


@pytest.mark.usefixtures("feed_directory")
def test_badges_on_the_directory_list_search_and_service_page(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("navigator")
    listing = client.get("/directory").text
    assert listing.count("Not yet classified") == 1 + listing.count('value="unclassified"')
    search = client.get("/directory?service_type=unclassified").text
    assert str(escape(HOSTILE["name"])) in search and "Mapped Falls" not in search
    no_raw_script(search)
    page = client.get("/directory/befriend").text
    assert 'id="unclassified"' in page and "Never recommended" in page
    no_raw_script(page)


def test_the_queue_s_empty_state(sign_in: Callable[[str], FlaskClient], app: Flask) -> None:
    with app.app_context():
        load_directory(organisations=[organisation()], services=[service(id="ucr-one")])
        db.session.remove()
    client = sign_in("supervisor")
    body = client.get("/to-classify").text
    assert "Nothing to classify: every service in the directory has a navigator service type." in (
        body
    )
    assert "To classify: 0 services not yet classified" in client.get("/directory").text
