"""`/oruk/`, the open Open Referral UK feed: open to all, no professional-only details, the
profile's query parameters, problem+json for bad ones (never a 500, whatever the text), ids
that are UUIDs yet answer to navigator's slugs too, `service_at_locations` with `postcode` and
`proximity` (UK profile `schema/openapi.json`), `organizations` (HSDS 3.0), navigator's
taxonomies and terms and the source feeds' own. Shapes are checked against the profile's
schemas in `test_oruk_schemas.py`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from navigator.directory.oruk_export import source_term_id
from navigator.directory.oruk_terms import hsds_id, taxonomy_id, term_id
from tests.builders import load_directory, organisation, service
from tests.conftest import PROJECT_ROOT
from tests.directory.oruk_samples import awkward_organisations, awkward_services


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
    assert response.json["version"] == "HSDS-UK-3.0"  # the validator reads it as profile 3.0


def ids(*slugs: str) -> set[str]:
    return {hsds_id("service", slug) for slug in slugs}


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
    detail = client.get(f"/oruk/services/{hsds_id('service', 'ucr')}").json
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
    assert {s["id"] for s in response.json["contents"]} == ids(*expected)


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
    assert {s["id"] for s in response.json["contents"]} == ids(*expected)


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


@pytest.fixture
def located(app_ctx: Any) -> None:
    """`two-sites` has a base in Bedford and one in Luton; `nowhere` has no location."""
    load_directory(
        organisations=[organisation(), organisation(id="other-trust", ods_code="RD8")],
        services=[
            service(
                id="two-sites",
                places=["bedford", "luton"],
                locations=[
                    {"name": "Bedford base", "postcode": "MK42 9DJ", "lat": 52.126, "lng": -0.472},
                    {"name": "Luton base", "postcode": "LU1 2AA", "lat": 51.878, "lng": -0.417},
                ],
            ),
            service(id="nowhere", organisation="other-trust", locations=[]),
        ],
    )


def sal_names(body: dict[str, Any]) -> list[str]:
    return [item["location"]["name"] for item in body["contents"]]


def test_service_at_locations_one_per_location_with_postcode_and_proximity(
    client: FlaskClient, located: None
) -> None:
    """UK profile openapi.json `/service_at_locations`: postcode alone keeps services that
    cover it; with proximity (metres from the postcode's centroid) each location is measured
    on its own, nearest first."""
    everything = client.get("/oruk/service_at_locations").json
    assert sal_names(everything) == ["Bedford base", "Luton base"]  # `nowhere` has none
    assert everything["contents"][0]["service"]["id"] == hsds_id("service", "two-sites")
    assert "attributes" not in everything["contents"][0]["service"]  # one-to-one fields only
    near_luton = client.get("/oruk/service_at_locations?postcode=LU1 2AA&proximity=2000").json
    assert sal_names(near_luton) == ["Luton base"]
    covered = client.get("/oruk/service_at_locations?postcode=LU1 2AA").json
    assert sal_names(covered) == ["Luton base", "Bedford base"]  # covers Luton; nearest first
    assert (
        client.get("/oruk/service_at_locations?postcode=MK40 1AA&proximity=0.5").json["contents"]
        == []
    )
    one = client.get(f"/oruk/service_at_locations/{near_luton['contents'][0]['id']}")
    assert one.status_code == 200
    assert one.json["location"]["addresses"][0]["postal_code"] == "LU1 2AA"
    assert one.json["service"]["name"] == "Service two-sites"
    assert "service_at_locations" not in one.json["service"]


def test_services_and_organizations_answer_to_uuid_and_slug(
    client: FlaskClient, located: None
) -> None:
    by_slug = client.get("/oruk/services/nowhere")
    by_uuid = client.get(f"/oruk/services/{hsds_id('service', 'nowhere')}")
    assert by_slug.status_code == by_uuid.status_code == 200 and by_slug.json == by_uuid.json
    orgs = client.get("/oruk/organizations").json
    assert [o["name"] for o in orgs["contents"]] == [
        "Organisation other-trust",
        "Organisation test-trust",
    ]
    assert all("organization_identifiers" not in o for o in orgs["contents"])  # list shape
    org = client.get(f"/oruk/organizations/{hsds_id('organisation', 'other-trust')}").json
    assert org == client.get("/oruk/organizations/other-trust").json
    assert [s["id"] for s in org["services"]] == [hsds_id("service", "nowhere")]
    assert org["organization_identifiers"][0]["identifier"] == "RD8"
    filtered = client.get(f"/oruk/services?organization_id={org['id']}").json
    assert [s["id"] for s in filtered["contents"]] == [hsds_id("service", "nowhere")]


@pytest.mark.parametrize(
    "path",
    [
        "/oruk/services/no-such-service",
        f"/oruk/services/{hsds_id('service', 'no-such-service')}",
        "/oruk/service_at_locations/two-sites",
        "/oruk/organizations/nobody",
        "/oruk/taxonomies/nothing",
        "/oruk/taxonomy_terms/nothing",
        "/oruk/services/" + "x" * 5000,
        "/oruk/services/%F0%9F%99%82%20%27%3B--",
        "/oruk/organizations/..%2F..%2Fetc%2Fpasswd",
        "/oruk/services/%00",
        "/oruk/service_at_locations/%ED%A0%80",
    ],
)
def test_unknown_ids_are_404_problem_json(client: FlaskClient, located: None, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("endpoint", ["services", "service_at_locations"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("postcode=MK42 9DJ&proximity=1e400", "proximity"),  # infinity
        ("postcode=MK42 9DJ&proximity=nan", "proximity"),
        ("postcode=MK42 9DJ&proximity=-5", "proximity"),
        ("postcode=MK42 9DJ&proximity=far", "proximity"),
        ("proximity=100", "proximity"),  # no postcode to measure from
        ("page=99999999999999999999999999", "page"),
        ("per_page=101", "per_page"),
        ("minimum_age=1e309", "minimum_age"),
        ("maximum_age=-1", "maximum_age"),
        ("search=" + "a" * 201, "search"),
        ("search=%00", "search"),  # NUL
        ("organization_id=" + "x" * 101, "organization_id"),
        ("day=%E2%80%AEyadnom", "day"),  # a bidi override
        ("postcode=%27%3B DROP TABLE services;--", "postcode"),
    ],
)
def test_hostile_queries_are_400_naming_the_field(
    client: FlaskClient, located: None, endpoint: str, query: str, field: str
) -> None:
    response = client.get(f"/oruk/{endpoint}?{query}")
    assert response.status_code == 400, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


@pytest.mark.parametrize(
    "path",
    ["/oruk/organizations?page=0", "/oruk/taxonomies?per_page=x", "/oruk/taxonomy_terms?page=-1"],
)
def test_bad_paging_on_other_lists_is_400(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json" and response.json["errors"]


def test_source_terms_are_served_and_filter(client: FlaskClient, app_ctx: Any) -> None:
    """A council feed's own terms on a kept service resolve at `/taxonomy_terms/{id}` and
    `/taxonomies/{id}`, and filter `/services` like navigator's own."""
    load_directory(organisations=awkward_organisations(), services=awkward_services())
    esd_242 = source_term_id("esdServiceTypes", "http://id.esd.org.uk/service/242")
    term = client.get(f"/oruk/taxonomy_terms/{esd_242}").json
    assert term["term_uri"] == "http://id.esd.org.uk/service/242"
    taxonomy = client.get(f"/oruk/taxonomies/{term['taxonomy_id']}").json
    assert taxonomy["name"] == "esdServiceTypes"
    unclassified = hsds_id("service", "awkward-unclassified")
    for query in (
        f"taxonomy_term_id={esd_242}",
        f"taxonomy_id={term['taxonomy_id']}",
        f"taxonomy_term_id={term_id('service_types', 'unclassified')}",
    ):
        found = client.get(f"/oruk/services?{query}").json["contents"]
        assert [s["id"] for s in found] == [unclassified], query


def test_age_filters_read_fractional_years_as_the_import_does(
    client: FlaskClient, app_ctx: Any
) -> None:
    """Issue 15: `maximum_age=1.5` is 18 months (548 days), as the importer reads a service's
    `maximum_age`, not "1.5 plus a year" (913 days). A service from 600 days (about 20 months)
    is outside `maximum_age=1.5`, inside `maximum_age=1.7` (621 days)."""
    load_directory(services=[service(id="toddlers", eligibility={"min_age_days": 600})])
    found = {
        query: {s["id"] for s in client.get(f"/oruk/services?{query}").json["contents"]}
        for query in ("maximum_age=1.5", "maximum_age=1.7", "maximum_age=2")
    }
    assert found == {
        "maximum_age=1.5": set(),
        "maximum_age=1.7": ids("toddlers"),
        "maximum_age=2": ids("toddlers"),
    }


def test_the_open_feed_does_not_name_who_classified_a_service(
    client: FlaskClient, app_ctx: Any
) -> None:
    """Review of issue 15: `classified_by` holds a staff member's sign-in (an email address);
    the open `/oruk/` feed says only that a person classified the service."""
    load_directory(services=[service(id="classified", classified_by="person:sam@nhs.example")])
    text = client.get("/oruk/services").get_data(as_text=True)
    assert "sam@nhs.example" not in text
    assert "person:withheld" in text
