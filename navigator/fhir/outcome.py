"""Every error under `/fhir/` as a UK Core `OperationOutcome` (`application/fhir+json`) carrying
the BaRS receiver's `REC_*` code, and the `X-Request-Id` / `X-Correlation-Id` echo.

Sources: the BaRS API's receiver examples (`NHSDigital/booking-and-referral-fhir-api`,
`specification/examples1.4.0/OperationOutcome/REC/*.json`): `issue[0].severity = error`, a FHIR
IssueType in `issue[0].code`, the REC code in `details.coding` with system
`https://fhir.nhs.uk/Codesystem/http-error-codes`, and a human-readable `diagnostics`, which
navigator never fills with patient data (it names fields and rules, not their values).

A view raises `navigator.core.errors.Problem` as anywhere else; `code` may name the FHIR
IssueType (`invariant`, `duplicate`, `not-supported` …) and otherwise the status's usual one is
used. `errors` (field → messages) become one issue each, with the field as `expression`.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Flask, Response, json, request

from navigator.core.errors import ErrorDetails, set_error_renderer

FHIR_JSON = "application/fhir+json"
REC_CODES_SYSTEM = "https://fhir.nhs.uk/Codesystem/http-error-codes"
UK_CORE_OPERATION_OUTCOME = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome"
ECHOED_HEADERS = ("X-Request-Id", "X-Correlation-Id")

# HTTP status → the receiver's REC code (BaRS error handling). 413 and 415 have no REC code of
# their own: the standard's nearest is a bad request.
REC_CODES = {
    400: "REC_BAD_REQUEST",
    401: "REC_UNAUTHORIZED",
    403: "REC_FORBIDDEN",
    404: "REC_NOT_FOUND",
    405: "REC_METHOD_NOT_ALLOWED",
    406: "REC_NOT_ACCEPTABLE",
    408: "REC_TIMEOUT",
    409: "REC_CONFLICT",
    413: "REC_BAD_REQUEST",
    415: "REC_BAD_REQUEST",
    422: "REC_UNPROCESSABLE_ENTITY",
    425: "REC_TOO_EARLY",
    429: "REC_TOO_MANY_REQUESTS",
    500: "REC_SERVER_ERROR",
    501: "REC_NOT_IMPLEMENTED",
    503: "REC_SERVICE_UNAVAILABLE",
}

# FHIR IssueType (http://hl7.org/fhir/issue-type) a status means when the view names none.
DEFAULT_ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "processing",
    408: "timeout",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    425: "transient",
    429: "throttled",
    500: "exception",
    501: "not-supported",
    503: "transient",
}
ISSUE_TYPES = frozenset(
    {
        "invalid", "structure", "required", "value", "invariant", "security", "login",
        "unknown", "expired", "forbidden", "suppressed", "processing", "not-supported",
        "duplicate", "multiple-matches", "not-found", "deleted", "too-long", "code-invalid",
        "extension", "too-costly", "business-rule", "conflict", "transient", "lock-error",
        "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
    }
)  # fmt: skip


def rec_code(status: int) -> str:
    """The REC code for an HTTP status (`REC_SERVER_ERROR` for one the standard lacks, ≥ 500;
    `REC_BAD_REQUEST` for any other 4xx)."""
    return REC_CODES.get(status, "REC_SERVER_ERROR" if status >= 500 else "REC_BAD_REQUEST")


def operation_outcome(
    status: int,
    diagnostics: str,
    *,
    issue_type: str | None = None,
    fields: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """An OperationOutcome (as JSON) for an error answered with `status`: one issue, or one per
    field of `fields` (`expression` = the field's path, `diagnostics` = its messages). Built and
    serialised by fhir.resources, so it is a valid resource."""
    code = (
        issue_type if issue_type in ISSUE_TYPES else DEFAULT_ISSUE_TYPES.get(status, "processing")
    )
    details = {"coding": [{"system": REC_CODES_SYSTEM, "code": rec_code(status)}]}
    if fields:
        issues = [
            {
                "severity": "error",
                "code": code,
                "details": details,
                "diagnostics": "; ".join(messages),
                "expression": [field],
            }
            for field, messages in fields.items()
        ]
    else:
        issues = [
            {"severity": "error", "code": code, "details": details, "diagnostics": diagnostics}
        ]
    resource = OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "id": str(uuid.uuid4()),
            "meta": {"profile": [UK_CORE_OPERATION_OUTCOME]},
            "issue": issues,
        }
    )
    return resource.model_dump(mode="json", exclude_none=True)


def fhir_response(resource: dict[str, Any], status: int = 200) -> Response:
    """A FHIR resource (already JSON-ready) as `application/fhir+json`."""
    return Response(json.dumps(resource), status=status, mimetype=FHIR_JSON)


def _render(error: ErrorDetails) -> Response:
    diagnostics = error.detail or error.title or HTTPStatus(error.status).phrase
    fields = {k: [str(m) for m in v] for k, v in (error.errors or {}).items()} or None
    response = fhir_response(
        operation_outcome(error.status, diagnostics, issue_type=error.code, fields=fields),
        error.status,
    )
    for name, value in error.headers.items():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _echo_ids(response: Response) -> Response:
    """BaRS: the receiver mirrors `X-Request-Id` and `X-Correlation-Id` on every response, a
    400 for a malformed one included. Only printable ASCII up to 200 characters is echoed: a
    header is never a channel for other text. The value is echoed as navigator used it,
    without surrounding spaces (review of issue 16: a UUID sent with them was accepted but
    not echoed)."""
    if request.path.startswith("/fhir/"):
        for name in ECHOED_HEADERS:
            value = request.headers.get(name, "").strip()
            if 0 < len(value) <= 200 and all(" " < c < "\x7f" for c in value):
                response.headers[name] = value
    return response


def is_uuid(value: str) -> bool:
    """Whether `value` is a UUID in its canonical 8-4-4-4-12 hexadecimal form."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def install_fhir_errors(app: Flask) -> None:
    """OperationOutcome for every error under `/fhir/`, and the id echo on every answer."""
    set_error_renderer(app, "fhir", _render)
    app.after_request(_echo_ids)
