"""`GET /fhir/ServiceRequest/{id}`: a navigator referral as BaRS shows a referral, with its
current status (issue 16).

A referral received through BaRS is shown as its sender sent it: the ServiceRequest of the
latest message kept for it (`BarsRequest.bundle`), under navigator's referral id, with the
status navigator holds now. A referral made through `/api/v1` or the console is built from
navigator's own record. Either way the result parses with fhir.resources.

Status (FHIR request-status): sent and accepted → `active`; on hold → `on-hold`; completed →
`completed`; cancelled and rejected → `revoked` (a referral that will not go ahead, as the
BaRS examples show a cancelled or not-attended one: SERVREQ01, REFRESP01).
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.bars.received import latest_bundle
from navigator.directory.index import DirectoryIndex
from navigator.fhir.process_message import (
    CATEGORY_SYSTEM,
    SERVICE_REQUEST_STATUS,
    identifier_system,
    referral_reference,
)
from navigator.patients.audit import audit_record
from navigator.referrals.models import Referral
from navigator.referrals.need_to_know import may_read
from navigator.referrals.service import load_referral

# navigator urgency → ServiceRequest.priority (FHIR request-priority).
PRIORITY = {
    "emergency": "stat",
    "urgent": "urgent",
    "same_day": "urgent",
    "within_72h": "routine",
    "routine": "routine",
}


def read_service_request(
    session: Session, referral_id: str, *, caller: Caller, index: DirectoryIndex, base_url: str
) -> dict[str, Any]:
    """The referral as a ServiceRequest (JSON), for a caller allowed to read it (`may_read`:
    navigators and admins all, providers their organisation's, integrators their own); any
    other id is 404 with the same words. The read is audited."""
    referral = load_referral(session, referral_id, visible=lambda r: may_read(caller, r, index))
    audit_record(session, referral, actor=caller.label, action="read", entity="referral")
    sent = _as_sent(session, referral)
    resource = sent if sent is not None else _from_record(referral, base_url)
    resource["id"] = referral.id
    resource["status"] = SERVICE_REQUEST_STATUS[referral.status]
    resource["meta"] = {**resource.get("meta", {}), "lastUpdated": referral.updated_at.isoformat()}
    return ServiceRequest.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _as_sent(session: Session, referral: Referral) -> dict[str, Any] | None:
    """The focus ServiceRequest of the latest message kept for the referral, as sent."""
    text = latest_bundle(session, referral.id)
    if text is None:
        return None
    bundle = json.loads(text)
    entries = bundle.get("entry") or []
    header = entries[0].get("resource", {}) if entries else {}
    focus = ((header.get("focus") or [{}])[0]).get("reference")
    for entry in entries:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "ServiceRequest":
            continue
        names = {entry.get("fullUrl"), f"ServiceRequest/{resource.get('id')}"}
        if focus in names:
            return dict(resource)
    return None


def _from_record(referral: Referral, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [
            {
                "system": identifier_system(base_url, "referral"),
                "value": referral_reference(referral.id),
                "use": "official",
            }
        ],
        "intent": "plan",
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "referral"}]}],
        "priority": PRIORITY.get(referral.urgency, "routine"),
        "subject": {"reference": f"Patient/{referral.patient_id}"},
        "authoredOn": referral.created_at.isoformat(),
        "performer": [{"reference": f"HealthcareService/{referral.service_id}"}],
        "reasonCode": [{"text": referral.reason}],
    }
    if referral.navigation_id:
        resource["encounter"] = {"reference": f"Encounter/{referral.navigation_id}"}
    if referral.notes:
        resource["note"] = [{"text": referral.notes}]
    return resource
