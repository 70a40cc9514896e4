"""`POST /fhir/$process-message`: a BaRS referral request (or its cancellation) received from
NHS 111 or another sender, turned into navigator's own records (issue 16).

The view (`messaging_views.py`) owns the units of work and runs the standard's checks in its
order (BaRS Core 1.5.0, Error-Handling, Bundle-Processing):

1. `request_ids`: `X-Request-Id` and `X-Correlation-Id` present and UUIDs, else 400
   `REC_BAD_REQUEST` (`required` / `invalid`);
2. the claim of the X-Request-Id (`navigator.bars.received.claim_request`): 409 `duplicate`
   once processed, 425 `REC_TOO_EARLY` while processing;
3. `check_accept`: a major version other than 1 in `Accept` → 406;
4. the Bundle (`bars_bundle.parse_bundle`, `read_message`): 400 `structure` / `value` /
   `invariant`;
5. what navigator does not support: 422 `REC_UNPROCESSABLE_ENTITY` (an unknown, inactive or
   unclassified target service, an unregistered sender endpoint, another workflow).

Then, in one unit of work, `receive_referral` (patient, navigation, referral, `BarsReferral`,
the Bundle kept, audit) or `receive_cancellation`, and the answer built by `response_bundle`.
These functions flush, never commit.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers

from navigator.auth.keys import Caller
from navigator.bars.endpoints import allowed_endpoint
from navigator.bars.received import find_bars_referral, mark_processed, record_bars_referral
from navigator.bars.terms import (
    CATEGORY_SYSTEM,
    ENCOUNTER_CLASS,
    ENCOUNTER_STATUS,
    MESSAGE_EVENTS_SYSTEM,
    SERVICE_REQUEST_STATUS,
    referral_identifier,
)
from navigator.core.errors import Problem
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER
from navigator.core.vocabulary import UNCLASSIFIED
from navigator.directory.index import DirectoryIndex, Entry
from navigator.fhir.bars_bundle import (
    BarsMessage,
    Clinical,
    clinical,
    flags,
    from_111,
    patient_data,
    unsupported,
)
from navigator.fhir.outcome import is_uuid
from navigator.navigation.models import Navigation
from navigator.navigation.service import NO_POSTCODE, facts_for, navigate_call
from navigator.patients.audit import audit
from navigator.referrals.models import Referral
from navigator.referrals.service import OPEN, change_status, create_referral, load_referral
from navigator.rules.reference import RULESET
from navigator.rules.ruleset import evaluate

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


def fhir_base(config: Mapping[str, Any]) -> str:
    """navigator's public `/fhir` base URL (`PUBLIC_BASE_URL` + `/fhir`)."""
    return str(config["PUBLIC_BASE_URL"]).rstrip("/") + "/fhir"


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


@dataclass(frozen=True)
class ReferralContent:
    """What a new referral says about its patient (`bars_bundle.patient_data`) and its
    clinical content (`bars_bundle.clinical`)."""

    patient: dict[str, Any]
    facts: Clinical


def referral_content(message: BarsMessage) -> ReferralContent:
    """The patient and clinical content of a new referral. Raises the Bundle's 400s (`value`
    for an invalid NHS number, `required` for a patient without a name): step 4 of the
    standard's order, so the view calls this before the target checks' 422s (review of issue
    16; BaRS Core 1.5.0 Error-Handling, Bundle-Processing)."""
    return ReferralContent(patient_data(message), clinical(message))


def _routable_need(body: dict[str, Any], entry: Entry) -> str | None:
    """The need the navigation is recorded with: none when the rules route the referral on
    its disposition alone (Dx02 → emergency department), else the first need of the target
    service that a rule covers. 422 when no rule covers the referral at all."""
    ruleset = RULESET.get()
    located = body.get("postcode") or NO_POSTCODE
    for need in (None, *sorted(entry.needs)):
        try:
            evaluate(ruleset, facts_for({**body, "need": need}, located))
        except LookupError:
            continue
        return need
    raise unsupported(
        "CarePlan.activity", "No routing rule covers this referral's disposition or service."
    )


def receive_referral(
    session: Session,
    message: BarsMessage,
    *,
    caller: Caller,
    entry: Entry,
    index: DirectoryIndex,
    target_identifier: str,
    ids: RequestIds,
    claimed_at: datetime,
    body_text: str,
    config: Mapping[str, Any],
    now: datetime,
    content: ReferralContent | None = None,
) -> dict[str, Any]:
    """A new referral, in the caller's unit of work: the patient matched or created exactly as
    `/api/v1` does (NHS number when given, else a new record, never merged), a navigation from
    the message's clinical content, a referral to `entry`, the sender's `BarsReferral`, the
    request marked processed with its Bundle, and an audit event. Returns the 200 answer.
    `index`: the directory index `entry` was found in, used throughout (each
    `directory_index()` call reads the directory's revision: one round trip, ~1 ms on
    PostgreSQL, saved twice per referral). `content`: `referral_content(message)` when the
    caller has read it already (the view does, before the target checks), else read here.

    422 `not-supported`: `MessageHeader.source.endpoint` not registered
    (`BARS_SENDER_ENDPOINTS`), or no routing rule covers the referral. 409 `duplicate`: the
    sender's ServiceRequest was already received from this client (a new message, not an
    update); another client's ServiceRequest of the same id is not looked at (review of issue
    16: a 409 would tell one integrator that another's id exists)."""
    endpoint = message.sender_endpoint
    if not allowed_endpoint(endpoint, config["BARS_SENDER_ENDPOINTS"]):
        raise unsupported(
            "MessageHeader.source.endpoint",
            "Not a registered sender endpoint: status responses could not be returned to it.",
        )
    if find_bars_referral(session, caller.client_ref, message.service_request_id) is not None:
        raise Problem(
            409,
            "This ServiceRequest was already received; send reason 'update' to change it.",
            code="duplicate",
            errors={"ServiceRequest.id": ["Already received"]},
        )
    content = content or referral_content(message)
    patient, facts = content.patient, content.facts
    postcode = (
        parse_postcode(patient["postcode"], allow_outward=False) if patient["postcode"] else None
    )
    located = GAZETTEER.get().locate(postcode) if postcode else None
    born = patient["date_of_birth"]
    body: dict[str, Any] = {
        "caller_role": "nhs111" if from_111(message) else "professional",
        "red_flags": [],
        "age_days": (now.date() - born).days if born else None,
        "sex": patient["sex"],
        "postcode": located,
        "at": now,
        "disposition": facts.disposition,
        "symptom_group": facts.symptom_group,
        "symptom_discriminator": facts.symptom_discriminator,
        "gp_practice_ods": patient["gp_practice_ods"],
        "case_ref": facts.case_ref,
        "nhs_number": patient["nhs_number"],
        "warnings": [],
    }
    body["need"] = _routable_need(body, entry)
    # No autoflush: the audit events written on the way (the navigation's, the patient's, the
    # referral's) wait for the next explicit flush and go in one multi-row INSERT instead of
    # each being flushed by the next query (one round trip less, ~1 ms on PostgreSQL). The
    # queries in between read no audit events; every other row is flushed explicitly before
    # anything reads or references it (the patient, its source, the referral).
    with session.no_autoflush:
        navigation = navigate_call(
            session, body, created_by=caller.label, require_postcode=False, index=index
        )
        notes = f"Reason for referral: {facts.reason}"
        if facts.patient_instruction:
            notes += f"\nSafety-netting given to the patient: {facts.patient_instruction}"
        referral, _ = create_referral(
            session,
            {
                "navigation_id": navigation["id"],
                "service_id": entry.id,
                "patient": patient,
                "reason": facts.reason,
                "urgency": navigation["urgency"],
                "consent": True,  # BaRS referrals are for direct care (Consent DRC, REFREQ01)
                "notes": notes[:4000],
            },
            caller=caller,
            idempotency_key=f"bars:{message.service_request_id}"[:200],
            index=index,
            gazetteer=GAZETTEER.get(),
            ack_minutes=config["REFERRAL_ACK_MINUTES"],
            now=now,
            new_navigation=True,
        )
        recommended = navigation["recommendation"]["service"]["id"]
        session.execute(
            update(Navigation)
            .where(Navigation.id == navigation["id"])
            .values(
                notes=notes,
                patient_id=referral.patient_id,
                # The sender chose the service: recorded as the call's decision, so the call
                # page shows the referral and nobody is asked to decide the call again.
                decision="accepted" if recommended == entry.id else "overridden",
                chosen_service_id=entry.id,
                override_reason=None
                if recommended == entry.id
                else "Referred to this service by the sender (BaRS).",
                decided_by=caller.label,
                decided_at=now,
            )
        )
        record_bars_referral(
            session,
            referral_id=referral.id,
            correlation_id=ids.correlation_id,
            service_request_id=message.service_request_id,
            sender_endpoint=endpoint,
            sender_name=message.sender_name,
            sender_phone=message.sender_phone,
            request_message_id=message.message_id,
            target_identifier=target_identifier,
            flags=flags(message),
            patient_instruction=facts.patient_instruction,
            sender_updated_at=message.time,
            now=now,
        )
        _finish(session, message, referral, ids, claimed_at, body_text, caller, now)
    return response_bundle(message, referral, config=config, now=now)


def receive_cancellation(
    session: Session,
    message: BarsMessage,
    *,
    caller: Caller,
    ids: RequestIds,
    claimed_at: datetime,
    body_text: str,
    config: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The sender cancels its referral (reason update or delete, ServiceRequest revoked or
    entered-in-error): the referral is cancelled, the version kept. Returns the 200 answer.

    404 `not-found` (REC_NOT_FOUND) when navigator holds no referral for this ServiceRequest
    from this client: the standard answers an unknown referenced message so (its
    servicerequest-response case), and a 404 tells the sender to look at its own records
    rather than change the message. 409 `conflict` (REC_CONFLICT) when the referral is
    already closed, when the message is older than the sender's last version, or when
    navigator changed the referral after the message was built ("local data updates conflict
    with the updates in the message")."""
    bars = find_bars_referral(
        session, caller.client_ref, message.service_request_id, for_update=True
    )
    held = session.get(Referral, bars.referral_id) if bars is not None else None
    if bars is None or held is None or held.client_id != caller.client_ref:
        raise Problem(
            404,
            "navigator holds no referral for this ServiceRequest from this sender.",
            code="not-found",
            errors={"ServiceRequest.id": ["Unknown referral"]},
        )
    referral = load_referral(session, held.id, for_update=True)
    if referral.status not in OPEN:
        raise _conflict(f"The referral is already {referral.status.replace('_', ' ')}.")
    if message.time < bars.sender_updated_at:
        raise _conflict("The message is older than the sender's last version of the referral.")
    changed_here = referral.updated_at > referral.created_at
    if changed_here and referral.updated_at > message.time:
        raise _conflict(
            "Information received has been updated locally after this message was built."
        )
    sender = message.sender_name or "the sender"
    change_status(
        session,
        referral,
        {
            "status": "cancelled",
            "note": f"Cancelled by the sender through BaRS "
            f"(ServiceRequest {message.service_request.status}).",
        },
        actor=f"{caller.label} (BaRS: {sender})"[:200],
        now=now,
        by_bars_sender=True,  # the sender's own cancellation: its answer is this 200
    )
    bars.sender_updated_at = message.time
    _finish(session, message, referral, ids, claimed_at, body_text, caller, now)
    return response_bundle(message, referral, config=config, now=now)


def _conflict(detail: str) -> Problem:
    return Problem(409, detail, code="conflict", errors={"ServiceRequest": [detail]})


def _finish(
    session: Session,
    message: BarsMessage,
    referral: Referral,
    ids: RequestIds,
    claimed_at: datetime,
    body_text: str,
    caller: Caller,
    now: datetime,
) -> None:
    """Keep the Bundle as received with the processed request, and audit the message (it
    carries patient data)."""
    mark_processed(
        session,
        ids.request_id,
        claimed_at,
        now=now,
        event=message.event,
        reason=message.reason,
        referral_id=referral.id,
        bundle=body_text,
    )
    audit(
        session,
        actor=caller.label,
        action="create" if message.reason == "new" else "update",
        entity="bars_message",
        entity_id=ids.request_id,
        patient_id=referral.patient_id,
    )
    session.flush()


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
