"""The BaRS terms navigator reads and writes, in one place (review of issue 16): the code and
identifier systems of the standard, navigator's referral identity (one identifier, one
Encounter shape, in the 200 answer, `GET /fhir/ServiceRequest/{id}` and every status
response), and how a referral's status shows on a BaRS ServiceRequest and Encounter.

`navigator.bars` sits below `navigator.fhir`, so both the receiver (`navigator.fhir`) and the
response messages (`navigator.bars.response_message`) import these.

Sources (NHSDigital/NHSDigital-FHIR-BookingAndReferrals @ 0cf8fdaa): the examples REFREQ01,
SERVREQ01/02 and REFRESP01-03 (the systems as spelt there); `guides/.../BaRS-APP1/
Referral-Payload.page.md` ("ServiceRequest.status: This MUST be populated with one of three
values: 'active', 'revoked' or 'entered-in-error'"); `guides/.../BaRS-APP6/
Response-Payload.page.md` (the receiver's Encounter carries the case's state; its class is
EMER in every BaRS example).
"""

from __future__ import annotations

from typing import Any

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
# The examples spell the events system `message-events-bars`; the API's examples use
# `message-event-servicerequest`: navigator reads the code, and writes this one.
MESSAGE_EVENTS_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
MESSAGE_REASONS_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
CATEGORY_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest"
REJECTED_REASONS_SYSTEM = "https://fhir.nhs.uk/CodeSystem/rejected-reasons-bars"
FLAG_CATEGORY_SYSTEM = "https://fhir.nhs.uk/CodeSystem/flag-categories-bars"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

# The referral as one Encounter everywhere: BaRS fixes its class at EMER.
ENCOUNTER_CLASS = {"system": ACT_CODE_SYSTEM, "code": "EMER", "display": "emergency"}

# navigator referral status → ServiceRequest.status. BaRS allows only active, revoked and
# entered-in-error (Referral-Payload): a referral that will not go ahead (cancelled by either
# side, or rejected) is `revoked`; every other status is `active`, and navigator's decision is
# carried by the Encounter (`ENCOUNTER_STATUS`).
SERVICE_REQUEST_STATUS = {
    "sent": "active",
    "accepted": "active",
    "on_hold": "active",
    "completed": "active",
    "cancelled": "revoked",
    "rejected": "revoked",
}
# navigator referral status → the receiver's Encounter.status (Response-Payload guidance,
# REFRESP02 cancelled, REFRESP03 planned): received and not yet decided is `triaged` (as the
# sender's own Encounter), accepted or on hold is `planned`, completed `finished`, rejected or
# cancelled `cancelled`.
ENCOUNTER_STATUS = {
    "sent": "triaged",
    "accepted": "planned",
    "on_hold": "planned",
    "completed": "finished",
    "rejected": "cancelled",
    "cancelled": "cancelled",
}

REFERENCE_PREFIX = "NAV"


def referral_reference(referral_id: str) -> str:
    """A reference people can read out: `NAV-3F2A-91C0-7B1D` (the referral id's first 48
    bits, upper case)."""
    digits = referral_id.replace("-", "").upper()[:12]
    return f"{REFERENCE_PREFIX}-{digits[:4]}-{digits[4:8]}-{digits[8:12]}"


def referral_identifier_system(fhir_base: str) -> str:
    """`{fhir_base}/Id/referral`, `fhir_base` being navigator's public `/fhir` base URL."""
    return f"{fhir_base.rstrip('/')}/Id/referral"


def referral_identifier(fhir_base: str, referral_id: str) -> dict[str, Any]:
    """The referral's one identifier, in every message and read: system
    `{fhir_base}/Id/referral`, value the human-readable `referral_reference`."""
    return {
        "system": referral_identifier_system(fhir_base),
        "value": referral_reference(referral_id),
        "use": "official",
        "type": {"text": "Referral reference"},
    }
