"""The published BaRS examples as test messages (tests/data/bars/requests, SOURCES.md says
how they are adapted), and the headers a sender sends with them."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

REQUESTS = Path(__file__).resolve().parent.parent / "data" / "bars" / "requests"
REFREQ01 = "REFREQ01 - Referral Service Request New Full - 111 to ED.xml"
SERVREQ01 = "SERVREQ01 - Service Request Update - Revoked.xml"
SERVREQ02 = "SERVREQ02 - Service Request Delete - Entered in error.xml"
SENDER = "https://ems.example.nhs.uk/bars/"
SERVICE_SYSTEM = "http://localhost/fhir/Id/service"  # the tests' PUBLIC_BASE_URL + /fhir/Id/service
TARGET = "test-ed"
# REFREQ01's NHS number, 3478526985, fails the modulus-11 check digit, so the referral carries
# a valid test number instead; and REFREQ01's ServiceRequest fullUrl.
PUBLISHED_NHS_NUMBER = "3478526985"
NHS_NUMBER = "9434765919"
SR_ID = "236bb75d-90ef-461f-b71e-fde7f899802c"


@cache
def _example(name: str) -> str:
    bundle = Bundle.model_validate_xml((REQUESTS / name).read_bytes())
    return json.dumps(bundle.model_dump(mode="json", exclude_none=True))


def example(name: str) -> dict[str, Any]:
    """The published example as FHIR JSON (parsed from its XML with fhir.resources)."""
    return dict(json.loads(_example(name)))


def outcome_example(name: str) -> dict[str, Any]:
    return dict(json.loads((REQUESTS / name).read_text()))


def header_of(bundle: dict[str, Any]) -> dict[str, Any]:
    return dict(bundle["entry"][0]["resource"])


def resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def referral(target: str = TARGET, *, nhs_number: str | None = NHS_NUMBER) -> dict[str, Any]:
    """REFREQ01 adapted to target a navigator service and to name a registered sender."""
    bundle = example(REFREQ01)
    header = bundle["entry"][0]["resource"]
    header["destination"][0]["endpoint"] = f"{SERVICE_SYSTEM}|{target}"
    header["source"]["endpoint"] = SENDER
    patient = resource(bundle, "Patient")
    if nhs_number is None:
        patient.pop("identifier", None)
    else:
        patient["identifier"][0]["value"] = nhs_number
    return bundle


def cancellation(name: str = SERVREQ01, *, at: datetime | None = None) -> dict[str, Any]:
    """SERVREQ01 (revoked) or SERVREQ02 (entered-in-error), from the registered sender;
    `at` moves Bundle.timestamp (the examples are dated 2021)."""
    bundle = example(name)
    bundle["entry"][0]["resource"]["source"]["endpoint"] = SENDER
    if at is not None:
        bundle["timestamp"] = at.isoformat()
    return bundle


def with_new_ids(bundle: dict[str, Any], sr_id: str) -> dict[str, Any]:
    """The same message for another ServiceRequest (fullUrl and focus), e.g. another patient."""
    bundle = copy.deepcopy(bundle)
    old = f"urn:uuid:{SR_ID}"
    for entry in bundle["entry"]:
        if entry.get("fullUrl") == old:
            entry["fullUrl"] = f"urn:uuid:{sr_id}"
    bundle["entry"][0]["resource"]["focus"][0]["reference"] = f"urn:uuid:{sr_id}"
    return bundle


def target_header(value: str = TARGET, system: str = SERVICE_SYSTEM) -> str:
    return base64.b64encode(json.dumps({"value": value, "system": system}).encode()).decode()


def bars_headers(
    auth: dict[str, str],
    *,
    request_id: str | None = None,
    correlation_id: str | None = None,
    target: str | None = TARGET,
    accept: str = "application/fhir+json; version=1.4.0",
) -> dict[str, str]:
    headers = {
        **auth,
        "X-Request-Id": request_id or str(uuid.uuid4()),
        "X-Correlation-Id": correlation_id or str(uuid.uuid4()),
        "Accept": accept,
        "Content-Type": "application/fhir+json",
    }
    if target is not None:
        headers["NHSD-Target-Identifier"] = target_header(target)
    return headers
