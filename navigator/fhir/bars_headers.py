"""The HTTP headers of `POST /fhir/$process-message` checked (issue 16; BaRS API 1.4.0 and
BaRS Core 1.5.0, Error-Handling, Bundle-Processing): the transaction-integrity ids
(`request_ids`: X-Request-Id, X-Correlation-Id), the BaRS Core version in `Accept`
(`check_accept`), the body's media type (`check_content_type`) and the target service named by
`NHSD-Target-Identifier` (`target_service`).

Each refusal is a `Problem` (400, 406, 415 or 422) naming the header, never its value.
`process_message.receive_message` runs them in the standard's order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.datastructures import Headers

from navigator.core.errors import Problem
from navigator.core.vocabulary import UNCLASSIFIED
from navigator.directory.index import DirectoryIndex, Entry
from navigator.fhir.bars_bundle import unsupported
from navigator.fhir.outcome import is_uuid

TARGET_HEADER = "NHSD-Target-Identifier"
# BaRS Core major version navigator speaks (`Accept: application/fhir+json; version=1.4.0`).
CORE_MAJOR = 1
# Longest major version read from `Accept` (int() of thousands of digits is refused by Python,
# and no BaRS version has more than a few: review of issue 16).
MAJOR_DIGITS = 4
# Longest NHSD-Target-Identifier read: Base64 of {"value": <a service id>, "system": <URL>}
# is a few hundred characters; a longer one is refused before it is decoded (review of issue
# 16: Base64 of 4,000 "[" made the JSON decoder recurse too deep).
TARGET_HEADER_MAX = 1000
# The media types a Bundle is read in (parameters such as charset or fhirVersion aside):
# anything else, text/plain, a form, multipart or none, is 415 (review of issue 16; BaRS API
# 1.4.0 sends `Content-Type: application/fhir+json`).
JSON_TYPES = frozenset({"application/fhir+json", "application/json"})


@dataclass(frozen=True)
class RequestIds:
    request_id: str  # lower case
    correlation_id: str


def request_ids(headers: Mapping[str, str] | Headers) -> RequestIds:
    """Both transaction-integrity headers as lower-case UUIDs. 400 `required` when one is
    missing, `invalid` when one is not a UUID (8-4-4-4-12 hexadecimal)."""
    found: dict[str, str] = {}
    for name in ("X-Request-Id", "X-Correlation-Id"):
        value = headers.get(name)
        if not value:
            raise Problem(
                400,
                "Transaction Integrity headers were not present.",
                code="required",
                errors={name: ["Required: a UUID."]},
            )
        if not is_uuid(value.strip()):
            raise Problem(
                400,
                f"{name} is not a UUID.",
                code="invalid",
                errors={name: ["Must be a UUID (8-4-4-4-12 hexadecimal)."]},
            )
        found[name] = value.strip().lower()
    return RequestIds(found["X-Request-Id"], found["X-Correlation-Id"])


def check_accept(accept: str | None) -> None:
    """406 (REC_NOT_ACCEPTABLE) when `Accept` names a BaRS Core version whose major is not 1
    (`application/fhir+json; version=2.0.0`), or accepts no JSON at all. No header, or a
    media range without `version`, is accepted: there is no mismatch to refuse."""
    if not accept or not accept.strip():
        return
    json_ok = False
    for media_range in accept.split(","):
        kind, *params = (part.strip() for part in media_range.split(";"))
        kind = kind.lower()
        if kind in ("application/fhir+json", "application/json", "*/*", "application/*"):
            json_ok = True
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() != "version":
                continue
            major = value.strip().strip('"').split(".")[0]
            # isdigit() alone is true for "²" and other digits int() refuses (review of
            # issue 16): ASCII digits only, and few enough for int().
            if (
                not (major.isascii() and major.isdigit() and len(major) <= MAJOR_DIGITS)
                or int(major) != CORE_MAJOR
            ):
                raise Problem(
                    406,
                    "navigator supports BaRS Core version 1 (Accept: application/fhir+json; "
                    "version=1.x.y).",
                    code="not-supported",
                    errors={"Accept": ["The major version must be 1."]},
                )
    if not json_ok:
        raise Problem(
            406,
            "navigator answers in application/fhir+json only.",
            code="not-supported",
            errors={"Accept": ["Accept application/fhir+json."]},
        )


def check_content_type(mimetype: str) -> None:
    """415 (`not-supported`) unless the body's media type (`Content-Type` without its
    parameters) is one of `JSON_TYPES`."""
    if mimetype not in JSON_TYPES:
        raise Problem(
            415,
            "Send the Bundle as application/fhir+json.",
            code="not-supported",
            errors={"Content-Type": ["application/fhir+json"]},
        )


def target_service(header: str | None, index: DirectoryIndex, system: str) -> tuple[Entry, str]:
    """(the service `NHSD-Target-Identifier` names, its identifier as `system|value`, which
    the status responses' HealthcareService carries). The header is the Base64 encoding of
    `{"value": ..., "system": ...}` (BaRS API 1.4.0, TargetIdentifier); `system` must be
    navigator's service id system and `value` a service id.

    400 `required` / `value` for a missing or undecodable header, or one longer than
    `TARGET_HEADER_MAX` (review of issue 16: no header reaches the decoder's recursion
    limit); 422 `not-supported` for another system, or a service that is unknown, not active
    or not yet classified (nobody has checked what it is, hazard H30)."""
    if not header or not header.strip():
        raise Problem(
            400,
            f"{TARGET_HEADER} is required.",
            code="required",
            errors={TARGET_HEADER: ["Required"]},
        )
    raw = header.strip()
    try:
        decoded = (
            json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_"))
            if len(raw) <= TARGET_HEADER_MAX
            else None
        )
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        decoded = None
    if (
        not isinstance(decoded, dict)
        or not isinstance(decoded.get("value"), str)
        or not isinstance(decoded.get("system"), str)
    ):
        raise Problem(
            400,
            f"{TARGET_HEADER} is not Base64 JSON with value and system.",
            code="value",
            errors={TARGET_HEADER: ['Base64 of {"value": ..., "system": ...}']},
        )
    if decoded["system"] != system:
        raise unsupported(TARGET_HEADER, f"navigator's services are identified in {system}.")
    entry = index.by_id.get(decoded["value"])
    if entry is None:
        raise unsupported(TARGET_HEADER, "No navigator service has this identifier.")
    if not entry.active:
        raise unsupported(TARGET_HEADER, "The service is not active.")
    if entry.service_type == UNCLASSIFIED:
        raise unsupported(TARGET_HEADER, "The service is not yet classified.")
    return entry, f"{system}|{decoded['value']}"
