"""The OpenAPI document says what the API really does (issue 12 §6).

Each test names the promise it protects: errors documented as RFC 9457 problem+json, the
vocabulary codes as enums read from the data files, the error list each operation can
return, and 405's `Allow` header (RFC 9110 §15.5.6).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.auth.models import API_ROLES
from navigator.core.vocabulary import SCHEMES, load_vocabulary
from navigator.fhir.outcome import ISSUE_TYPES
from navigator.referrals.service import REJECTION_REASONS
from navigator.web.edge import NUL_MESSAGE
from navigator.web.openapi import PROBLEM_CODES

PROJECT_ROOT = Path(__file__).resolve().parents[2]

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
        "news2",
        "soft_signs",
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
        ("get", "/api/v1/health", {"200", "400", "413", "422", "503"}),
        ("get", "/api/v1/services", {"200", "400", "401", "413", "422", "429", "503"}),
        (
            "get",
            "/api/v1/services/{service_id}",
            {"200", "400", "401", "404", "413", "422", "429", "503"},
        ),
        (
            "post",
            "/api/v1/referrals",
            {"200", "201", "400", "401", "403", "409", "413", "415", "422", "429", "503"},
        ),
        ("get", "/api/v1/audit", {"200", "400", "401", "403", "413", "422", "429", "503"}),
        (
            "post",
            "/api/v1/worklist/{task_id}/complete",
            {"200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"},
        ),
    ],
)
def test_each_operation_lists_the_statuses_it_can_return(
    spec: dict[str, Any], method: str, path: str, expected: set[str]
) -> None:
    # 503 on every operation: a database outage (issue 18 §4, navigator.core.outage).
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


def test_every_operation_documents_what_the_edge_can_answer(
    spec: dict[str, Any], client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    """The review's fault: `GET /api/v1/patients/{id}?x=%00` answered 422 that the operation
    did not list. The edge (`navigator.web.edge`) checks every request before its view, so
    every operation can answer 422 (a NUL in any query parameter), 400 (a NUL in a header) and
    413 (a body over the limit, even on a GET); each is documented as problem+json."""
    for method, path, op in operations(spec):
        for status in ("400", "413", "422"):
            assert status in op["responses"], (method, path, status)
        if method != "get":
            continue
        url = path.replace("{", "").replace("}", "") + "?x=%00"
        response = client.get(url, headers=auth["admin"])
        assert response.status_code == 422, (path, response.status_code)
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"] == {"x": [NUL_MESSAGE]}


def test_reasons_are_enums_from_their_source_of_truth(spec: dict[str, Any]) -> None:
    """Issue 12 §6: "statuses, reasons" have an `enum`. A referral's rejection reason comes from
    `REJECTION_REASONS`, in the request and in the history it is read back in."""
    schemas = spec["components"]["schemas"]
    assert schemas["ReferralUpdate"]["properties"]["reason"]["enum"] == list(REJECTION_REASONS)
    assert schemas["ReferralEvent"]["properties"]["reason"]["enum"] == [*REJECTION_REASONS, None]
    assert schemas["Problem"]["properties"]["code"]["enum"] == list(PROBLEM_CODES)


def _problem_codes_in_the_package(*, fhir: bool = False) -> set[str]:
    """Every literal `code=` given to `Problem(...)` in `navigator/` outside `navigator/fhir/`
    and `navigator/bars/` (whose errors are OperationOutcomes, their codes FHIR IssueTypes),
    or only in those two."""
    found: set[str] = set()
    for source in (PROJECT_ROOT / "navigator").rglob("*.py"):
        if (source.parent.name in ("fhir", "bars")) != fhir:
            continue
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem":
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        found.add(keyword.value.value)
    return found


def test_the_problem_code_enum_lists_every_code_the_package_raises() -> None:
    """So the document cannot drift: a new `Problem(code=...)` must be added to PROBLEM_CODES."""
    raised = _problem_codes_in_the_package()
    assert "open_referral_exists" in raised  # the walk really finds them
    assert raised <= set(PROBLEM_CODES), raised - set(PROBLEM_CODES)
    # Under /fhir/ the code is the OperationOutcome's issue type (navigator/fhir/outcome.py).
    issue_types = _problem_codes_in_the_package(fhir=True)
    assert "duplicate" in issue_types
    assert issue_types <= ISSUE_TYPES, issue_types - ISSUE_TYPES


def test_a_rejection_reason_outside_the_enum_is_refused_whatever_the_status(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    """The documented enum is enforced: a client cannot store a reason the document does not
    list (it would then read back a history that breaks the documented schema)."""
    response = client.patch(
        "/api/v1/referrals/00000000-0000-0000-0000-000000000000",
        json={"status": "cancelled", "reason": "busy"},
        headers=auth["navigator"],
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"reason"}


def test_red_flags_promise_no_uniqueness_or_length_a_known_flag_overrides(
    spec: dict[str, Any],
) -> None:
    """Issue 13 §1: with a known red flag, repeats and long lists are warnings and the call gets
    201 (`tests/web/test_edge.py::test_red_flags_are_at_most_the_vocabulary_and_unique`), so the
    document must not say `uniqueItems: true` or give a `maxItems`; it says so in words."""
    red_flags = spec["components"]["schemas"]["NavigationRequest"]["properties"]["red_flags"]
    assert red_flags.get("uniqueItems") is not True
    assert "maxItems" not in red_flags
    assert "repeated" in red_flags["description"] and "refused (422)" in red_flags["description"]
