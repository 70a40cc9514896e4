"""The 200 answer to `POST /fhir/$process-message` (issue 16): `response_bundle`, a message
Bundle echoing the request with navigator's ids, shaped as the BaRS API's process-message
responses.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from navigator.bars.terms import (
    CATEGORY_SYSTEM,
    ENCOUNTER_CLASS,
    ENCOUNTER_STATUS,
    MESSAGE_EVENTS_SYSTEM,
    SERVICE_REQUEST_STATUS,
    referral_identifier,
)
from navigator.fhir.bars_message import BarsMessage
from navigator.fhir.outcome import is_uuid
from navigator.referrals.models import Referral


def fhir_base(config: Mapping[str, Any]) -> str:
    """navigator's public `/fhir` base URL (`PUBLIC_BASE_URL` + `/fhir`)."""
    return str(config["PUBLIC_BASE_URL"]).rstrip("/") + "/fhir"


def response_bundle(
    message: BarsMessage,
    referral: Referral,
    *,
    config: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The 200 answer, shaped as the BaRS API's process-message responses (a message Bundle
    echoing the request with the receiver's ids): a MessageHeader whose `response` names the
    request's MessageHeader (`ok`), the ServiceRequest under navigator's referral id with its
    BaRS status (`terms.SERVICE_REQUEST_STATUS`: active or revoked), the Patient under
    navigator's patient id (no demographics), and the referral's Encounter as every status
    response carries it (review of issue 16: one referral identity in every message): id =
    the referral id, class EMER, the status navigator's decision gives
    (`terms.ENCOUNTER_STATUS`), identifier = `terms.referral_identifier` (the human-readable
    reference). Built as JSON from fixed shapes and not re-validated here: parsing it with
    fhir.resources costs ~4 ms of the 50 ms budget on every referral, so the tests parse every
    answer instead (`tests/fhir/test_process_message.py::post`)."""
    base = str(config["PUBLIC_BASE_URL"])
    referral_ident = referral_identifier(fhir_base(config), referral.id)
    sr_url, patient_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    encounter_url = f"urn:uuid:{uuid.uuid4()}"
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": referral.id,
        "identifier": [referral_ident],
        "status": ENCOUNTER_STATUS[referral.status],
        "class": ENCOUNTER_CLASS,
        "subject": {"reference": patient_url},
        "serviceType": {"text": "Care navigation"},
        "basedOn": [{"reference": sr_url}],
    }
    header = {
        "resourceType": "MessageHeader",
        "id": str(uuid.uuid4()),
        "eventCoding": {"system": MESSAGE_EVENTS_SYSTEM, "code": message.event},
        "source": {"name": "navigator", "endpoint": f"{base.rstrip('/')}/fhir/$process-message"},
        "response": {"identifier": message.message_id or message.service_request_id, "code": "ok"},
        "focus": [{"reference": sr_url}],
    }
    service_request = {
        "resourceType": "ServiceRequest",
        "id": referral.id,
        "identifier": [
            referral_ident,
            {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{message.service_request_id}"}
            if is_uuid(message.service_request_id)
            else {"value": message.service_request_id},
        ],
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "plan",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "referral"}]}],
        "subject": {"reference": patient_url},
        "encounter": {"reference": encounter_url},
        "performer": [{"reference": f"HealthcareService/{referral.service_id}"}],
    }
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now.isoformat()},
        "type": "message",
        "timestamp": now.isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{header['id']}", "resource": header},
            {"fullUrl": sr_url, "resource": service_request},
            {
                "fullUrl": patient_url,
                "resource": {"resourceType": "Patient", "id": referral.patient_id},
            },
            {"fullUrl": encounter_url, "resource": encounter},
        ],
    }
    return bundle
