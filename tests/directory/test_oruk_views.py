"""`/oruk/`, the open Open Referral UK feed: open to all, no professional-only details, the
profile's query parameters, problem+json for bad ones, navigator's taxonomies and terms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from navigator.directory.oruk_terms import taxonomy_id, term_id
from tests.builders import load_directory, service
from tests.conftest import PROJECT_ROOT


@pytest.fixture
def small(app_ctx: Any) -> None:
    load_directory(
        services=[
            service(
                id="ucr",
                needs=["fall_no_injury"],
                opening={"weekly": {"monday": [["08:00", "20:00"]]}},
            ),
            service(
                id="child",
                service_type="district_nursing",
                needs=["wound_or_catheter_care"],
                eligibility={"max_age_days": 6574},
            ),
        ]
    )


def test_root_and_cors_and_no_auth(client: FlaskClient) -> None:
    response = client.get("/oruk/")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"version", "profile", "openapi_url"} <= set(response.json)


def test_services_page_envelope_and_no_professional_fields(
    client: FlaskClient, small: None
) -> None:
    response = client.get("/oruk/services?per_page=1")
    body = response.json
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert (body["total_items"], body["total_pages"], body["page_number"], body["size"]) == (
        2,
        2,
        1,
        1,
    )
    assert (body["first_page"], body["last_page"], body["empty"]) == (True, False, False)
    text = json.dumps(client.get("/oruk/services").json)
    assert "01632 960002" not in text  # the professional-only phone
    assert "Ring the professional line" not in text  # the professional-only referral info
    detail = client.get("/oruk/services/ucr").json
    assert (
        detail["status"] == "active" and detail["organization"]["name"] == "Organisation test-trust"
    )
    assert "01632 960002" not in json.dumps(detail)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=ucr", {"ucr"}),
        ("text=nursing", set()),  # description and names only: "district_nursing" is a code
        (f"taxonomy_term_id={term_id('service_types', 'district_nursing')}", {"child"}),
        (f"taxonomy_id={taxonomy_id('needs')}", {"ucr", "child"}),
        ("minimum_age=18", {"ucr"}),
        ("maximum_age=10", {"ucr", "child"}),
        ("day=monday&start_time=09:00&end_time=17:00", {"ucr", "child"}),
        ("day=tuesday&start_time=09:00&end_time=10:00", {"child"}),
        ("postcode=MK42 9DJ&proximity=1000", {"ucr", "child"}),
        ("postcode=LU1 1AA&proximity=1000", set()),
        ("postcode=MK40 1AA", {"ucr", "child"}),
    ],
)
def test_profile_query_parameters(
    client: FlaskClient, small: None, query: str, expected: set[str]
) -> None:
    response = client.get(f"/oruk/services?{query}")
    assert response.status_code == 200
    assert {s["id"] for s in response.json["contents"]} == expected


@pytest.fixture
def overnight(app_ctx: Any) -> None:
    load_directory(
        services=[
            service(id="gp-ooh", opening={"weekly": {"monday": [["18:30", "08:00"]]}}),
            service(
                id="split",  # Monday evening and Tuesday morning as two sessions that meet
                opening={
                    "weekly": {"monday": [["18:00", "24:00"]], "tuesday": [["00:00", "06:00"]]}
                },
            ),
            service(id="days", opening={"weekly": {"tuesday": [["08:00", "18:30"]]}}),
        ]
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Issue 13 §6: the out-of-hours service began on Monday and runs past midnight.
        ("day=tuesday&start_time=02:00&end_time=04:00", {"gp-ooh", "split"}),
        ("day=Tuesday&start_time=02:00&end_time=07:00", {"gp-ooh"}),
        ("day=TU&start_time=07:00&end_time=09:00", set()),  # gp-ooh closes at 08:00
        ("day=monday&start_time=02:00&end_time=04:00", set()),  # no Sunday night session
        ("day=monday&start_time=22:00&end_time=02:00", {"gp-ooh", "split"}),  # past midnight
        ("day=monday&start_time=19:00", {"gp-ooh", "split"}),  # to 24:00
        ("start_time=03:00&end_time=05:00", {"gp-ooh", "split"}),  # any weekday
        ("day=tuesday&start_time=09:00&end_time=10:00", {"days"}),
        ("day=tuesday", set()),  # the whole day: nothing is open all Tuesday
    ],
)
def test_time_filter_counts_sessions_that_run_past_midnight(
    client: FlaskClient, overnight: None, query: str, expected: set[str]
) -> None:
    """The ORUK window filter means "open throughout the window" by the weekly timetable,
    including sessions from the day before (README, Open Referral UK)."""
    response = client.get(f"/oruk/services?{query}")
    assert response.status_code == 200, response.json
    assert {s["id"] for s in response.json["contents"]} == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("start_time=24:00", "start_time"), ("end_time=25:00", "end_time"), ("day=someday", "day")],
)
def test_bad_window_parameters_are_problem_json(
    client: FlaskClient, query: str, field: str
) -> None:
    response = client.get(f"/oruk/services?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_bad_parameters_are_problem_json(client: FlaskClient) -> None:
    response = client.get("/oruk/services?postcode=nope&per_page=0")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert {"postcode", "per_page"} <= set(response.json["errors"])


def test_taxonomies_and_terms(client: FlaskClient) -> None:
    taxonomies = client.get("/oruk/taxonomies").json["contents"]
    assert {t["name"] for t in taxonomies} >= {"navigator-service-types", "navigator-needs"}
    terms = client.get(f"/oruk/taxonomy_terms?taxonomy_id={taxonomy_id('needs')}&per_page=100").json
    assert terms["total_items"] == len(vocabulary_codes("needs"))
    one = client.get(f"/oruk/taxonomy_terms/{term_id('needs', 'loneliness')}").json
    assert one["name"] and one["description"]


def vocabulary_codes(scheme: str) -> tuple[str, ...]:
    from navigator.core.vocabulary import load_vocabulary

    return load_vocabulary(str(PROJECT_ROOT / "directory_of_services")).codes(scheme)
