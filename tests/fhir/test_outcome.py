"""Errors under /fhir/ as the BaRS receiver's OperationOutcomes, and the id echo
(navigator/fhir/outcome.py; issue 16 §1 "answering with a UK Core OperationOutcome
(application/fhir+json) that carries the standard's REC_* codes", "Echo both IDs on every
response. No input gives a 500").

Protects: each HTTP status navigator answers maps to the REC code of the BaRS API's receiver
examples, in their shape (severity `error`, the issue code, `details.coding` system and REC
code: NHSDigital/booking-and-referral-fhir-api @ 0c9714b0,
specification/examples1.4.0/OperationOutcome/REC/*.json; six of them are vendored in
tests/data/bars/requests, the rest are tabled below, file by file, and checked against the
repository itself when its mirror is on disk); an issue type that is not a FHIR IssueType falls
back to the status's; per-field issues carry `expression`; X-Request-Id / X-Correlation-Id are
echoed on success and on errors, but not a value with control characters or longer than 200
characters; an unexpected exception under /fhir/ is a 500 OperationOutcome that says nothing
of the exception.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Flask
from flask.testing import FlaskClient

from navigator import create_app
from navigator.core.errors import Problem
from navigator.fhir.outcome import (
    FHIR_JSON,
    REC_CODES_SYSTEM,
    UK_CORE_OPERATION_OUTCOME,
    operation_outcome,
    rec_code,
)
from tests.fhir.bars_messages import REQUESTS, outcome_example

PUBLISHED_DIR = REQUESTS.parent / "rec"
API_COMMIT = "0c9714b03041706cc3d3c2c02f995a20dd127fe9"

# specification/examples1.4.0/OperationOutcome/REC/<file> @ API_COMMIT: (HTTP status, issue
# code, REC code), every issue of severity `error` with system REC_CODES_SYSTEM. "too costly"
# (with a space) is as published: not a FHIR IssueType.
PUBLISHED = {
    "400-REC_BAD_REQUEST-invalid.json": (400, "invalid", "REC_BAD_REQUEST"),
    "400-REC_BAD_REQUEST-invariant.json": (400, "invariant", "REC_BAD_REQUEST"),
    "400-REC_BAD_REQUEST-not-supported.json": (400, "not-supported", "REC_BAD_REQUEST"),
    "400-REC_BAD_REQUEST-required.json": (400, "required", "REC_BAD_REQUEST"),
    "400-REC_BAD_REQUEST-value.json": (400, "value", "REC_BAD_REQUEST"),
    "401-REC_UNAUTHORIZED-forbidden.json": (401, "forbidden", "REC_UNAUTHORIZED"),
    "403-REC_FORBIDDEN-forbidden.json": (403, "forbidden", "REC_FORBIDDEN"),
    "403-REC_FORBIDDEN-security.json": (403, "security", "REC_FORBIDDEN"),
    "404-REC_NOT_FOUND-not-found.json": (404, "not-found", "REC_NOT_FOUND"),
    "406-REC_NOT_ACCEPTABLE-processing.json": (406, "processing", "REC_NOT_ACCEPTABLE"),
    "408-REC_TIMEOUT-timeout.json": (408, "timeout", "REC_TIMEOUT"),
    "409-REC_CONFLICT-conflict.json": (409, "conflict", "REC_CONFLICT"),
    "409-REC_CONFLICT-duplicate.json": (409, "duplicate", "REC_CONFLICT"),
    "422-REC_UNPROCESSABLE_ENTITY-not-supported.json": (
        422,
        "not-supported",
        "REC_UNPROCESSABLE_ENTITY",
    ),
    "422-REC_UNPROCESSABLE_ENTITY-too-costly.json": (422, "too-costly", "REC_UNPROCESSABLE_ENTITY"),
    "500-REC_SERVER_ERROR-exception.json": (500, "exception", "REC_SERVER_ERROR"),
    "500-REC_SERVER_ERROR-no-store.json": (500, "no-store", "REC_SERVER_ERROR"),
    "500-REC_SERVER_ERROR-too costly.json": (500, "too costly", "REC_SERVER_ERROR"),
    "500-REC_SERVER_ERROR-transient.json": (500, "transient", "REC_SERVER_ERROR"),
    "501-REC_NOT_IMPLEMENTED-not-supported.json": (501, "not-supported", "REC_NOT_IMPLEMENTED"),
    "503-REC_SERVICE_UNAVAILABLE-transient.json": (
        503,
        "transient",
        "REC_SERVICE_UNAVAILABLE",
    ),
}
VENDORED = sorted(p.name for p in REQUESTS.glob("*-REC_*.json"))
ISSUE_TYPES = {
    c.split("-", 1)[1] for c in ("x-" + v[1] for v in PUBLISHED.values()) if " " not in c
}


def shape(outcome: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What the comparison with a published example looks at, for each issue."""
    return [
        (
            issue["severity"],
            issue["code"],
            [(c["system"], c["code"]) for c in issue.get("details", {}).get("coding", [])],
        )
        for issue in outcome["issue"]
    ]


def test_the_vendored_examples_are_those_tabled() -> None:
    """The six vendored REC examples agree with the table (which the other tests rely on)."""
    assert VENDORED  # the data is there
    for name in VENDORED:
        _, code, rec = PUBLISHED[name]
        assert shape(outcome_example(name)) == [("error", code, [(REC_CODES_SYSTEM, rec)])]


def test_the_table_is_the_published_examples() -> None:
    """Every REC example of the BaRS API repository at API_COMMIT (vendored unchanged in
    tests/data/bars/rec, see its SOURCES.md), as tabled."""
    names = sorted(p.name for p in PUBLISHED_DIR.glob("*.json"))
    assert names == sorted(PUBLISHED)
    for name in names:
        status, code, rec = PUBLISHED[name]
        assert name.startswith(f"{status}-{rec}-")
        example = json.loads((PUBLISHED_DIR / name).read_text())
        assert shape(example) == [("error", code, [(REC_CODES_SYSTEM, rec)])]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_each_status_has_the_published_rec_code_and_shape(name: str) -> None:
    """navigator's OperationOutcome for the example's status and issue code has the example's
    shape: severity error, the issue code, details.coding = [(REC system, REC code)]; and is a
    valid R4B UK Core OperationOutcome."""
    status, code, rec = PUBLISHED[name]
    assert rec_code(status) == rec
    built = operation_outcome(status, "What went wrong, in words.", issue_type=code)
    OperationOutcome.model_validate(built)
    assert built["meta"]["profile"] == [UK_CORE_OPERATION_OUTCOME]
    if code in ISSUE_TYPES:
        assert shape(built) == [("error", code, [(REC_CODES_SYSTEM, rec)])]
    else:  # "too costly": not an IssueType, so the status's own
        assert shape(built) == [("error", "exception", [(REC_CODES_SYSTEM, rec)])]
    assert built["issue"][0]["diagnostics"] == "What went wrong, in words."


@pytest.mark.parametrize(
    ("status", "rec"),
    [(405, "REC_METHOD_NOT_ALLOWED"), (425, "REC_TOO_EARLY"), (429, "REC_TOO_MANY_REQUESTS"),
     (413, "REC_BAD_REQUEST"), (415, "REC_BAD_REQUEST"), (418, "REC_BAD_REQUEST"),
     (502, "REC_SERVER_ERROR"), (504, "REC_SERVER_ERROR")],
)  # fmt: skip
def test_statuses_without_an_example_map_to_the_nearest_rec_code(status: int, rec: str) -> None:
    """BaRS error handling names REC_METHOD_NOT_ALLOWED, REC_TOO_EARLY and
    REC_TOO_MANY_REQUESTS without examples; any other 4xx is a bad request, any other 5xx a
    server error."""
    assert rec_code(status) == rec
    built = operation_outcome(status, "x")
    assert built["issue"][0]["details"]["coding"] == [{"system": REC_CODES_SYSTEM, "code": rec}]
    OperationOutcome.model_validate(built)


@pytest.mark.parametrize(
    ("status", "issue_type", "expected"),
    [
        (400, "not-an-issue-type", "invalid"),
        (400, None, "invalid"),
        (409, "Duplicate", "conflict"),  # IssueType codes are case-sensitive
        (425, "", "transient"),
        (500, "too costly", "exception"),
        (418, "nonsense", "processing"),  # neither a known type nor a status default
    ],
)
def test_an_unknown_issue_type_falls_back_to_the_statuses(
    status: int, issue_type: str | None, expected: str
) -> None:
    built = operation_outcome(status, "x", issue_type=issue_type)
    assert built["issue"][0]["code"] == expected
    OperationOutcome.model_validate(built)  # an unknown code would not validate


def test_per_field_issues_carry_their_expression() -> None:
    """One issue per field, the field's FHIR path as `expression`, its messages as
    diagnostics, all with the status's REC code."""
    built = operation_outcome(
        400,
        "ignored when fields are given",
        issue_type="invariant",
        fields={
            "ServiceRequest.status": ["A new referral must be active."],
            "Encounter.status": ["One.", "Two."],
        },
    )
    OperationOutcome.model_validate(built)
    assert [
        (i["code"], i["expression"], i["diagnostics"], i["details"]["coding"][0]["code"])
        for i in built["issue"]
    ] == [
        (
            "invariant",
            ["ServiceRequest.status"],
            "A new referral must be active.",
            "REC_BAD_REQUEST",
        ),
        ("invariant", ["Encounter.status"], "One.; Two.", "REC_BAD_REQUEST"),
    ]


# --- over HTTP -----------------------------------------------------------------------------------


def ids() -> dict[str, str]:
    return {"X-Request-Id": str(uuid.uuid4()), "X-Correlation-Id": str(uuid.uuid4())}


def test_ids_are_echoed_on_success(client: FlaskClient) -> None:
    headers = ids()
    answer = client.get("/fhir/metadata", headers=headers)
    assert answer.status_code == 200
    for name, value in headers.items():
        assert answer.headers[name] == value


@pytest.mark.parametrize(
    ("method", "path", "role", "status", "rec"),
    [
        ("GET", "/fhir/NoSuchResource", None, 404, "REC_NOT_FOUND"),
        ("GET", "/fhir/HealthcareService?no-such-parameter=1", "navigator", 400, "REC_BAD_REQUEST"),
        ("POST", "/fhir/$process-message", None, 401, "REC_UNAUTHORIZED"),  # no API key
        ("POST", "/fhir/$process-message", "navigator", 403, "REC_FORBIDDEN"),  # not integrator
        ("DELETE", "/fhir/metadata", None, 405, "REC_METHOD_NOT_ALLOWED"),
    ],
)
def test_errors_are_operation_outcomes_and_echo_the_ids(
    client: FlaskClient,
    auth: dict[str, dict[str, str]],
    method: str,
    path: str,
    role: str | None,
    status: int,
    rec: str,
) -> None:
    headers = ids()
    key = auth[role] if role else {}
    answer = client.open(path, method=method, headers={**headers, **key})
    assert answer.status_code == status, answer.text
    assert answer.mimetype == FHIR_JSON
    body = answer.get_json(force=True)
    OperationOutcome.model_validate(body)
    assert body["issue"][0]["severity"] == "error"
    assert body["issue"][0]["details"]["coding"] == [{"system": REC_CODES_SYSTEM, "code": rec}]
    for name, value in headers.items():
        assert answer.headers[name] == value


def test_any_printable_id_up_to_200_characters_is_echoed(client: FlaskClient) -> None:
    """Even an id that is not a UUID is mirrored (BaRS: on every response, a 400 for a
    malformed one included); 200 characters is the limit."""
    headers = {"X-Request-Id": "not-a-uuid", "X-Correlation-Id": "c" * 200}
    answer = client.get("/fhir/metadata", headers=headers)
    assert answer.headers["X-Request-Id"] == "not-a-uuid"
    assert answer.headers["X-Correlation-Id"] == "c" * 200


@pytest.mark.parametrize(
    "value",
    ["c" * 201, "abc\x01def", "abc\x7fdef", "abc def", "abc\tdef", "ab\u00e9c"],
    ids=["too-long", "control", "delete", "space", "tab", "non-ascii"],
)
def test_an_id_with_control_characters_or_too_long_is_not_echoed(
    client: FlaskClient, value: str
) -> None:
    """A header is never a channel for other text (response splitting, log forging)."""
    answer = client.get(
        "/fhir/metadata", headers={"X-Request-Id": value, "X-Correlation-Id": value}
    )
    assert "X-Request-Id" not in answer.headers
    assert "X-Correlation-Id" not in answer.headers


def test_ids_are_not_echoed_outside_fhir(client: FlaskClient) -> None:
    answer = client.get("/api/v1/health", headers=ids())
    assert "X-Correlation-Id" not in answer.headers


@pytest.fixture
def app_with_a_failing_route(app: Flask, database_url: str) -> Flask:
    """Another app over the test database, with throwaway /fhir/ routes that fail."""
    os.environ.setdefault("NAVIGATOR_INSTANCE_DIR", app.instance_path)
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-only-secret",
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )

    @other.get("/fhir/boom")
    def boom() -> str:
        raise RuntimeError("internal detail /srv/navigator/secret.py line 42 password=hunter2")

    @other.get("/fhir/problem")
    def problem() -> str:
        raise Problem(409, "A newer version exists.", code="conflict", errors={"Bundle": ["x"]})

    return other


def test_an_unexpected_exception_is_a_500_operation_outcome_without_internals(
    app_with_a_failing_route: Flask,
) -> None:
    headers = ids()
    answer = app_with_a_failing_route.test_client().get("/fhir/boom", headers=headers)
    assert answer.status_code == 500
    assert answer.mimetype == FHIR_JSON
    body = answer.get_json(force=True)
    OperationOutcome.model_validate(body)
    assert shape(body) == [("error", "exception", [(REC_CODES_SYSTEM, "REC_SERVER_ERROR")])]
    for secret in ("RuntimeError", "secret.py", "hunter2", "/srv", "Traceback"):
        assert secret not in answer.text
    for name, value in headers.items():
        assert answer.headers[name] == value


def test_a_problem_raised_by_a_view_is_its_operation_outcome(
    app_with_a_failing_route: Flask,
) -> None:
    """What `Problem(status, detail, code=…, errors=…)` becomes: the module's contract with
    every /fhir/ view."""
    answer = app_with_a_failing_route.test_client().get("/fhir/problem")
    assert answer.status_code == 409
    body = answer.get_json(force=True)
    assert shape(body) == [("error", "conflict", [(REC_CODES_SYSTEM, "REC_CONFLICT")])]
    assert body["issue"][0]["expression"] == ["Bundle"]
