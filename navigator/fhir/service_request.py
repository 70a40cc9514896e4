"""`GET /fhir/ServiceRequest/{id}`: a navigator referral as BaRS shows a referral, with its
current status (issue 16).

A referral received through BaRS is shown as its sender sent it: the ServiceRequest of the
latest message kept for it (`BarsRequest.bundle`), under navigator's referral id, with the
status navigator holds now. A referral made through `/api/v1` or the console is built from
navigator's own record. Either way the result parses with fhir.resources.

Status: BaRS allows only `active`, `revoked` and `entered-in-error` on a ServiceRequest
(Referral-Payload pages): sent, accepted, on hold and completed → `active`; cancelled and
rejected → `revoked` (a referral that will not go ahead, as SERVREQ01 shows a cancelled one).
navigator's decision is the referral's Encounter's status (`navigator.bars.terms`), which the
status responses carry; the identifier and the Encounter reference are the same referral
identity as in every message (`terms.referral_identifier`, `Encounter/<referral id>`).
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.bars.received import latest_bundle
from navigator.bars.terms import CATEGORY_SYSTEM, SERVICE_REQUEST_STATUS, referral_identifier
from navigator.directory.index import DirectoryIndex
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
    other id is 404 with the same words. The read is audited. A stored `meta` of null (valid
    FHIR JSON, kept as received) is read as absent (review of issue 16)."""
    referral = load_referral(session, referral_id, visible=lambda r: may_read(caller, r, index))
    audit_record(session, referral, actor=caller.label, action="read", entity="referral")
    sent = _as_sent(session, referral)
    resource = sent if sent is not None else _from_record(referral, base_url)
    resource["id"] = referral.id
    resource["status"] = SERVICE_REQUEST_STATUS[referral.status]
    if sent is not None:  # the sender's identifiers, then navigator's referral reference
        ours = referral_identifier(f"{base_url.rstrip('/')}/fhir", referral.id)
        theirs = [i for i in _list(sent.get("identifier")) if i != ours]
        resource["identifier"] = [*theirs, ours]
    meta = resource.get("meta")
    resource["meta"] = {
        **(meta if isinstance(meta, dict) else {}),
        "lastUpdated": referral.updated_at.isoformat(),
    }
    return ServiceRequest.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _as_sent(session: Session, referral: Referral) -> dict[str, Any] | None:
    """The focus ServiceRequest of the latest message kept for the referral, as sent. The
    JSON was read as FHIR when received, but a null may stand for any element (`"resource":
    null`, `"focus": [null]`): each level is read as absent unless it has the right shape."""
    text = latest_bundle(session, referral.id)
    if text is None:
        return None
    bundle = json.loads(text)
    entries = [e for e in _list(bundle.get("entry")) if isinstance(e, dict)]
    header = _dict(entries[0].get("resource")) if entries else {}
    focus = _dict(next(iter(_list(header.get("focus"))), None)).get("reference")
    for entry in entries:
        resource = _dict(entry.get("resource"))
        if resource.get("resourceType") != "ServiceRequest":
            continue
        names = {entry.get("fullUrl"), f"ServiceRequest/{resource.get('id')}"}
        if focus in names:
            return dict(resource)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _from_record(referral: Referral, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [referral_identifier(f"{base_url.rstrip('/')}/fhir", referral.id)],
        "intent": "plan",
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "referral"}]}],
        "priority": PRIORITY.get(referral.urgency, "routine"),
        "subject": {"reference": f"Patient/{referral.patient_id}"},
        "authoredOn": referral.created_at.isoformat(),
        "performer": [{"reference": f"HealthcareService/{referral.service_id}"}],
        "reasonCode": [{"text": referral.reason}],
    }
    # The referral's Encounter, as every BaRS message names it (id = the referral id).
    resource["encounter"] = {"reference": f"Encounter/{referral.id}"}
    if referral.notes:
        resource["note"] = [{"text": referral.notes}]
    return resource
