"""GET /api/v1/services: every filter, distance ordering, availability and the item shape."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from navigator.directory.schemas import ServiceItemSchema
from tests.builders import load_directory, service

Auth = dict[str, dict[str, str]]
MONDAY_NOON = "2026-11-23T12:00:00Z"


def ids(client: FlaskClient, auth: Auth, query: str) -> list[str]:
    response = client.get(f"/api/v1/services?{query}", headers=auth["integrator"])
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_directory(
        services=[
            service(id="bedford-ucr", needs=["fall_no_injury"], places=["bedford"]),
            service(
                id="luton-ucr",
                needs=["fall_no_injury"],
                places=["luton"],
                postcode="LU4 0DZ",
                lat=51.892,
                lng=-0.473,
            ),
            service(
                id="bedford-gp",
                service_type="gp_practice",
                needs=["unwell_needs_gp"],
                opening={"weekly": {"monday": [["08:00", "18:30"]]}},
            ),
            service(id="adults-only", eligibility={"min_age_days": 6575}, needs=["loneliness"]),
            service(id="women-only", eligibility={"sex": "female"}, needs=["loneliness"]),
            service(
                id="pros-only",
                eligibility={"caller_roles": ["professional", "nhs111"]},
                needs=["loneliness"],
            ),
            service(id="closed", status="temporarily_closed"),
            service(
                id="near-radius",
                places=[],
                coverage={"places": [], "postcode_districts": [], "radius_km": 5.0},
            ),
        ]
    )


def test_need_and_postcode_give_covering_services_nearest_first(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    assert ids(client, auth, "need=fall_no_injury&postcode=MK42 9AA") == [
        "bedford-ucr",
        "near-radius",
    ] or ids(client, auth, "need=fall_no_injury&postcode=MK42 9AA") == [
        "near-radius",
        "bedford-ucr",
    ]
    assert ids(client, auth, "need=fall_no_injury&postcode=LU4 0DZ") == ["luton-ucr"]


def test_postcode_adds_distance_and_orders_by_it(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    response = client.get(
        "/api/v1/services?postcode=MK42&place=bedford", headers=auth["integrator"]
    )
    distances = [item["distance_km"] for item in response.json["items"]]
    assert all(d is not None for d in distances) and distances == sorted(distances)


def test_radius_keeps_only_services_within_it(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    far = ids(client, auth, "place=bedford&postcode=MK42 9AA&radius_km=0.5")
    assert far == []  # the MK42 centroid is more than 500 m from the test site
    assert "bedford-ucr" in ids(client, auth, "postcode=MK42 9AA&radius_km=50")


def test_place_filter_uses_coverage(client: FlaskClient, auth: Auth, directory: None) -> None:
    assert ids(client, auth, "place=luton") == ["luton-ucr"]


def test_age_in_years_or_days_is_eligibility_with_day_precision(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    assert "adults-only" not in ids(client, auth, "need=loneliness&age_days=6574")
    assert "adults-only" in ids(client, auth, "need=loneliness&age_days=6575")
    assert "adults-only" in ids(client, auth, "need=loneliness&age=18")
    assert "adults-only" not in ids(client, auth, "need=loneliness&age=17.99")


def test_sex_and_caller_role_filters(client: FlaskClient, auth: Auth, directory: None) -> None:
    assert "women-only" not in ids(client, auth, "need=loneliness&sex=male")
    assert "women-only" in ids(client, auth, "need=loneliness&sex=female")
    assert "pros-only" not in ids(client, auth, "need=loneliness&caller_role=public")
    assert "pros-only" in ids(client, auth, "need=loneliness&caller_role=nhs111")


def test_open_at_uses_opening_times(client: FlaskClient, auth: Auth, directory: None) -> None:
    assert "bedford-gp" in ids(client, auth, f"service_type=gp_practice&open_at={MONDAY_NOON}")
    assert ids(client, auth, "service_type=gp_practice&open_at=2026-11-23T19:00:00") == []
    assert ids(client, auth, "service_type=gp_practice&open_at=2026-11-24T12:00:00Z") == []


def test_free_text_searches_name_description_and_organisation(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    assert ids(client, auth, "q=luton-ucr") == ["luton-ucr"]
    assert len(ids(client, auth, "q=organisation test-trust&per_page=100")) == 7


def test_unavailable_services_are_left_out_unless_asked_for(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    assert "closed" not in ids(client, auth, "per_page=100")
    assert "closed" in ids(client, auth, "per_page=100&include_unavailable=true")
    client.put(
        "/api/v1/services/bedford-ucr/capacity", json={"status": "red"}, headers=auth["navigator"]
    )
    assert "bedford-ucr" not in ids(client, auth, "per_page=100")
    assert "bedford-ucr" in ids(client, auth, "per_page=100&include_unavailable=true")


def test_paging_reports_total(client: FlaskClient, auth: Auth, directory: None) -> None:
    response = client.get("/api/v1/services?per_page=3&page=2", headers=auth["integrator"])
    body = response.json
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (7, 2, 3, 3)


def test_item_has_the_documented_shape(client: FlaskClient, auth: Auth, directory: None) -> None:
    response = client.get(
        "/api/v1/services?q=bedford-gp&postcode=MK40 1AA", headers=auth["integrator"]
    )
    item = response.json["items"][0]
    assert set(item) == set(ServiceItemSchema().fields)
    assert ServiceItemSchema().load(item) is not None  # every value fits the documented type
    assert item["organisation"] == {"name": "Organisation test-trust", "ods_code": "RC9"}
    assert item["contact"]["professional_phone"] == "01632 960002"
    assert item["capacity"] == {"status": "green", "note": None, "updated_at": None, "stale": True}
    assert item["eligibility"]["caller_roles"] == sorted(item["eligibility"]["caller_roles"])
    assert item["opening_summary"].startswith("Mon 08:00–18:30")


def test_detail_has_opening_times_and_change_history(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    client.put(
        "/api/v1/services/bedford-gp/capacity",
        json={"status": "amber", "note": "busy"},
        headers=auth["navigator"],
    )
    body = client.get("/api/v1/services/bedford-gp", headers=auth["integrator"]).json
    assert body["opening"]["weekly"] == {"monday": [["08:00", "18:30"]]}
    assert body["capacity"]["status"] == "amber" and body["capacity"]["note"] == "busy"
    assert [c["field"] for c in body["changes"]] == ["capacity", "created"]
    assert body["changes"][0]["changed_by"].startswith("api:")
