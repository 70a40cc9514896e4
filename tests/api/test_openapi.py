"""The OpenAPI document says what the API really does (issue 12 §6).

Each test names the promise it protects: errors documented as RFC 9457 problem+json, the
vocabulary codes as enums read from the data files, the error list each operation can
return, and 405's `Allow` header (RFC 9110 §15.5.6).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.auth.models import API_ROLES
from navigator.directory.vocabulary import SCHEMES, load_vocabulary

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method])
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item
    ]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        return spec["components"][kind][name]
    return node


def test_every_documented_error_is_problem_json(spec: dict[str, Any]) -> None:
    """No operation documents flask-smorest's `Error`/`application/json` error or a catch-all
    `default`; every 4xx/5xx is `application/problem+json` with the `Problem` schema."""
    assert "Error" not in spec["components"]["schemas"]
    for method, path, op in operations(spec):
        assert "default" not in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if int(status) < 400 or (path, status) == ("/api/v1/health", "503"):
                continue  # health's 503 is its own status body, not an error
            content = resolve(spec, response)["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }


def test_problem_schema_matches_what_the_handler_sends(
    spec: dict[str, Any], client: FlaskClient
) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["properties"]["status"]["type"] == "integer"
    assert set(problem["required"]) == {"type", "title", "status"}
    assert problem["additionalProperties"] is False
    body = client.get("/api/v1/services?per_page=0", headers={}).get_json()
    assert set(body) <= set(problem["properties"])


def test_vocabulary_fields_list_the_codes_from_the_data_files(
    app: Flask, spec: dict[str, Any]
) -> None:
    """Request and response alike; the codes come from the vocabulary YAML, so adding a term
    there changes the document."""
    vocab = load_vocabulary(app.config["NAVIGATOR_DIRECTORY_DATA"])
    schemas = spec["components"]["schemas"]
    nav = schemas["NavigationRequest"]["properties"]
    assert nav["need"]["enum"] == list(vocab.codes("needs"))
    assert nav["caller_role"]["enum"] == list(vocab.codes("caller_roles"))
    assert nav["red_flags"]["items"]["enum"] == list(vocab.codes("red_flags"))
    item = schemas["ServiceItem"]["properties"]
    assert item["sector"]["enum"] == list(vocab.codes("sectors"))
    assert item["service_type"]["enum"] == list(vocab.codes("service_types"))
    assert item["places"]["items"]["enum"] == list(vocab.codes("places"))
    params = {
        p["name"]: p["schema"]
        for p in spec["paths"]["/api/v1/services"]["get"]["parameters"]
        if p["in"] == "query"
    }
    for name, scheme in [("need", "needs"), ("place", "places"), ("sector", "sectors")]:
        assert params[name]["enum"] == list(vocab.codes(scheme)), name
    assert set(SCHEMES) == {
        "sectors",
        "service_types",
        "needs",
        "red_flags",
        "caller_roles",
        "places",
    }


def test_fixed_codes_are_enums(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["Navigation"]["properties"]["urgency"]["enum"] == [
        "emergency",
        "urgent",
        "same_day",
        "within_72h",
        "routine",
    ]
    assert "rejected" in schemas["Referral"]["properties"]["status"]["enum"]
    assert "Dii" in schemas["Dtoc"]["properties"]["reason"]["enum"]
    assert schemas["CallbackTask"]["properties"]["reason"]["enum"] == [
        "call_back",
        "free_text",
        "not_delivered",
    ]


def test_the_shapes_the_issue_named(spec: dict[str, Any]) -> None:
    """`CapacityOut` has `reset_at`; a navigation's services have `opens_at`."""
    schemas = spec["components"]["schemas"]
    assert "reset_at" in schemas["CapacityOut"]["properties"]
    routed = schemas["RoutedService"]["properties"]
    assert "opens_at" in routed
    recommendation = schemas["Recommendation"]["properties"]["service"]
    assert recommendation == {"$ref": "#/components/schemas/RoutedService"}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/api/v1/health", {"200", "503"}),
        ("get", "/api/v1/services", {"200", "401", "422", "429"}),
        ("get", "/api/v1/services/{service_id}", {"200", "401", "404", "429"}),
        (
            "post",
            "/api/v1/referrals",
            {"200", "201", "400", "401", "403", "409", "413", "415", "422", "429"},
        ),
        ("get", "/api/v1/audit", {"200", "401", "403", "422", "429"}),
        (
            "post",
            "/api/v1/worklist/{task_id}/complete",
            {"200", "400", "401", "403", "404", "409", "413", "415", "422", "429"},
        ),
    ],
)
def test_each_operation_lists_the_statuses_it_can_return(
    spec: dict[str, Any], method: str, path: str, expected: set[str]
) -> None:
    assert set(spec["paths"][path][method]["responses"]) == expected


def test_secured_operations_say_which_roles_may_call(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        if op.get("security"):
            roles = op["x-navigator-roles"]
            assert set(roles) <= set(API_ROLES), (method, path)
            assert ("403" in op["responses"]) == (set(roles) != set(API_ROLES)), (method, path)


def test_405_says_which_methods_are_allowed(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    """RFC 9110 §15.5.6: a 405 response must carry `Allow`; ours is also problem+json."""
    response = client.delete("/api/v1/services", headers=auth["navigator"])
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    assert "DELETE" not in response.headers["Allow"]
    assert response.get_json()["status"] == 405
