"""Authentication, roles and the one error shape (problem+json) across the API."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.builders import load_directory, service


def test_health_needs_no_key_and_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_openapi_and_docs_are_public(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/services" in spec.json["paths"]
    assert spec.json["paths"]["/api/v1/services"]["get"]["security"] == [{"bearerAuth": []}]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/api/v1/services" in docs.data


def test_missing_or_wrong_key_is_401_problem_json(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nav_nope_nope"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/services", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 401 and response.json["title"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_role_that_may_not_is_403(
    client: FlaskClient, auth: dict[str, dict[str, str]], app_ctx: object
) -> None:
    load_directory(services=[service(id="s")])
    response = client.put(
        "/api/v1/services/s/capacity", json={"status": "red"}, headers=auth["integrator"]
    )
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_bad_query_names_each_field(client: FlaskClient, auth: dict[str, dict[str, str]]) -> None:
    response = client.get(
        "/api/v1/services?postcode=NOT+A+POSTCODE&need=flying&per_page=500",
        headers=auth["integrator"],
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert errors["postcode"] == ["Not a valid UK postcode"]
    assert "need" in errors and "per_page" in errors


def test_unknown_query_parameter_is_reported_not_ignored(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    response = client.get("/api/v1/services?neeed=loneliness", headers=auth["integrator"])
    assert response.status_code == 422
    assert "neeed" in response.json["errors"]


def test_unknown_service_is_404_problem_json(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    response = client.get("/api/v1/services/nope", headers=auth["integrator"])
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_malformed_json_body_is_400_not_500(
    client: FlaskClient, auth: dict[str, dict[str, str]], app_ctx: object
) -> None:
    load_directory(services=[service(id="s")])
    response = client.put(
        "/api/v1/services/s/capacity",
        data="{not json",
        headers=auth["navigator"] | {"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
