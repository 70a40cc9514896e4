"""The BaRS `servicerequest-response` message navigator sends back to a referral's sender when
it accepts, rejects or completes the referral (issue 16 §1).

Sources (NHSDigital/NHSDigital-FHIR-BookingAndReferrals, commit 0cf8fdaa):
- `MessageDefinition/BARS-MessageDefinition-ServiceRequest-Response-Referral.xml` (event
  `servicerequest-response`, focus Bundle/MessageHeader/ServiceRequest/Patient/Encounter…);
- `guides/.../BaRS-APP6/Response-Payload.page.md` (the response payload's element guidance:
  `response.identifier` = the request's id, `response.code = ok`, `focus` = the ServiceRequest,
  the receiver's Encounter carries the case's state, and a rejection's reason is
  `Encounter.reasonCode` with a code and its text);
- `Examples/REFRESP01..03` (a full response, a rejection: receiver's Encounter `cancelled` with
  `reasonCode` from `https://fhir.nhs.uk/CodeSystem/rejected-reasons-bars`, an acceptance:
  receiver's Encounter `planned`).

What the message carries, and nothing more:
- MessageHeader: event `servicerequest-response`, reason `new` for the referral's first
  response and `update` after that, `response.identifier` = the request's MessageHeader id
  (`BarsReferral.request_message_id`) with code `ok`, `destination.endpoint` = the sender's
  stored endpoint, `source` = navigator (name, software, its `/fhir` base), focus = the
  ServiceRequest, definition = the referral-response MessageDefinition.
- ServiceRequest: the sender's own id, `status = active` (BaRS allows only active / revoked /
  entered-in-error on a ServiceRequest; navigator's decision is carried by the Encounter),
  intent `plan`, category `referral`, subject, performer.
- Encounter (navigator's, id = the referral id, class EMER, identifier =
  `terms.referral_identifier`, the one the 200 answer and the ServiceRequest read carry):
  status `planned` (accepted), `finished` (completed) or `cancelled` (rejected, with
  `reasonCode`: the BaRS rejected-reason code and navigator's reason in words), `basedOn` the
  ServiceRequest. navigator's free-text notes are never sent (they may hold patient data).
- Patient: only the NHS number, and only when the sender's own request carried one (echoed so
  the sender can check the match); no name, address, birth date or contacts.
- Organizations: the sender (named as it named itself) and navigator; the HealthcareService the
  referral was for, identified by the request's `NHSD-Target-Identifier`.
Departures from the MessageDefinition: no Practitioner / PractitionerRole (navigator's staff
are not disclosed; the MessageDefinition asks for at least one), no CarePlan, Consent or
Observations (this is a status message; the sender has the clinical content).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from navigator.bars import terms
from navigator.bars.terms import (
    CATEGORY_SYSTEM,
    ENCOUNTER_CLASS,
    MESSAGE_EVENTS_SYSTEM,
    MESSAGE_REASONS_SYSTEM,
    NHS_NUMBER_SYSTEM,
    REJECTED_REASONS_SYSTEM,
    referral_identifier,
)

BUNDLE_PROFILE = "https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage"
HEADER_PROFILE = "https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-servicerequest-response"
SERVICE_REQUEST_PROFILE = (
    "https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral"
)
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
DEFINITION = "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral"
EVENT = "servicerequest-response"
# The Bundle's meta.versionId: the version of the BaRS application the message follows (the
# REFRESP examples' value).
APPLICATION_VERSION = "1.0.0-beta"

# The referral statuses that go back to the sender, and the receiver's Encounter status each
# becomes (Response-Payload guidance and REFRESP02/03). The issue names accept, reject and
# complete; a cancellation by navigator (not by the sender, whose own needs no answer) goes
# back too, or 111 would believe a cancelled referral was still live (review of issue 16).
ENCOUNTER_STATUS = {
    status: terms.ENCOUNTER_STATUS[status]
    for status in ("accepted", "rejected", "completed", "cancelled")
}
# navigator's rejection reasons → (BaRS rejected-reasons code, its display, navigator's words).
# The code system has RRNA, FC and OTH; every other reason is OTH with navigator's words.
REJECTION = {
    "no_capacity": ("RRNA", "Requested resource not available within timescale", "No capacity"),
    "could_not_contact": ("FC", "Failed Contact", "Could not contact the patient"),
    "not_eligible": ("OTH", "Other", "The patient is not eligible for this service"),
    "declined_by_patient": ("OTH", "Other", "The patient declined the service"),
    "other": ("OTH", "Other", "Rejected by the service for another reason"),
}
REJECTION_UNKNOWN = ("OTH", "Other", "Rejected by the service")
# A cancellation by the receiving service: the same code system, with navigator's words (no
# free text: a navigator's note may name the patient).
CANCELLATION = ("OTH", "Other", "Cancelled by the receiving service")


@dataclass(frozen=True)
class ResponseFacts:
    """Everything one response message says. Times are aware UTC datetimes."""

    message_id: str  # the Bundle id (navigator's outbox message id)
    header_id: str  # the MessageHeader id (new per message)
    now: datetime
    referral_id: str
    referral_status: str  # accepted | rejected | completed
    rejection_reason: str | None  # navigator's code, for rejected
    first: bool  # the referral's first response (reason `new`), else `update`
    referral_created_at: datetime
    request_message_id: str  # the request's MessageHeader id
    service_request_id: str  # the sender's ServiceRequest id
    sender_endpoint: str
    sender_name: str | None
    target_identifier: str  # the request's NHSD-Target-Identifier as "system|value"
    navigator_base: str  # navigator's public /fhir base URL
    nhs_number: str | None  # only when the sender's request carried it


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _meta(profile: str, now: str) -> dict[str, Any]:
    return {"lastUpdated": now, "profile": [profile]}


def _identifier(target: str) -> dict[str, str]:
    system, sep, value = target.partition("|")
    return {"system": system, "value": value} if sep and system and value else {"value": target}


def build_response(facts: ResponseFacts) -> dict[str, Any]:
    """The message Bundle as JSON-ready dict (`fhir.resources` R4B validated, `exclude_none`).
    Raises KeyError for a status that is not sent back (`ENCOUNTER_STATUS`), pydantic's
    ValidationError if the result were not a valid R4B Bundle."""
    status = facts.referral_status
    encounter_status = ENCOUNTER_STATUS[status]
    now = facts.now.isoformat()
    header, service_request, encounter, patient = _urn(), _urn(), _urn(), _urn()
    sender_org, navigator_org, service = _urn(), _urn(), _urn()

    encounter_resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": facts.referral_id,
        "meta": _meta(UK_CORE + "Encounter", now),
        "identifier": [referral_identifier(facts.navigator_base, facts.referral_id)],
        "status": encounter_status,
        "class": ENCOUNTER_CLASS,
        "subject": {"reference": patient},
        "basedOn": [{"reference": service_request}],
        "serviceProvider": {"reference": navigator_org},
        "period": {"start": facts.referral_created_at.isoformat()},
    }
    if status in ("rejected", "cancelled"):
        code, display, words = (
            REJECTION.get(facts.rejection_reason or "", REJECTION_UNKNOWN)
            if status == "rejected"
            else CANCELLATION
        )
        encounter_resource["reasonCode"] = [
            {
                "coding": [{"system": REJECTED_REASONS_SYSTEM, "code": code, "display": display}],
                "text": words,
            }
        ]
    if status == "completed":
        encounter_resource["period"]["end"] = now

    patient_resource: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": _meta(UK_CORE + "Patient", now),
    }
    if facts.nhs_number:
        patient_resource["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": facts.nhs_number}]

    entries: list[tuple[str, dict[str, Any]]] = [
        (
            header,
            {
                "resourceType": "MessageHeader",
                "id": facts.header_id,
                "meta": _meta(HEADER_PROFILE, now),
                "eventCoding": {"system": MESSAGE_EVENTS_SYSTEM, "code": EVENT},
                "destination": [
                    {"endpoint": facts.sender_endpoint, "receiver": {"reference": sender_org}}
                ],
                "sender": {"reference": navigator_org},
                "source": {
                    "name": "navigator",
                    "software": "navigator (BLMK care navigation)",
                    "endpoint": facts.navigator_base,
                },
                "reason": {
                    "coding": [
                        {
                            "system": MESSAGE_REASONS_SYSTEM,
                            "code": "new" if facts.first else "update",
                        }
                    ]
                },
                "response": {"identifier": facts.request_message_id, "code": "ok"},
                "focus": [{"reference": service_request}],
                "definition": DEFINITION,
            },
        ),
        (
            service_request,
            {
                "resourceType": "ServiceRequest",
                "id": facts.service_request_id,
                "meta": _meta(SERVICE_REQUEST_PROFILE, now),
                "status": "active",
                "intent": "plan",
                "category": [
                    {
                        "coding": [
                            {
                                "system": CATEGORY_SYSTEM,
                                "code": "referral",
                                "display": "Transfer of Care",
                            }
                        ]
                    }
                ],
                "subject": {"reference": patient},
                "performer": [{"reference": service}],
            },
        ),
        (encounter, encounter_resource),
        (patient, patient_resource),
        (
            sender_org,
            {
                "resourceType": "Organization",
                "meta": _meta(UK_CORE + "Organization", now),
                "name": facts.sender_name or "Referring service",
            },
        ),
        (
            navigator_org,
            {
                "resourceType": "Organization",
                "meta": _meta(UK_CORE + "Organization", now),
                "name": "navigator (BLMK care navigation)",
            },
        ),
        (
            service,
            {
                "resourceType": "HealthcareService",
                "meta": _meta(UK_CORE + "HealthcareService", now),
                "identifier": [_identifier(facts.target_identifier)],
                "active": True,
                "providedBy": {"reference": navigator_org},
            },
        ),
    ]
    bundle = {
        "resourceType": "Bundle",
        "id": facts.message_id,
        "meta": {
            "versionId": APPLICATION_VERSION,
            "lastUpdated": now,
            "profile": [BUNDLE_PROFILE],
        },
        "type": "message",
        "timestamp": now,
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
