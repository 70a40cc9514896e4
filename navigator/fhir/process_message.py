"""`POST /fhir/$process-message`: a BaRS referral request (or its cancellation) received from
NHS 111 or another sender, turned into navigator's own records (issue 16).

`receive_message` is the operation without its request (the view, `messaging_views.py`, only
reads the request and answers): it owns the units of work and runs the standard's checks in its
order (BaRS Core 1.5.0, Error-Handling, Bundle-Processing):

1. `bars_headers.request_ids`: `X-Request-Id` and `X-Correlation-Id` present and UUIDs, else
   400 `REC_BAD_REQUEST` (`required` / `invalid`);
2. the claim of the X-Request-Id (`navigator.bars.received.claim_request`): 409 `duplicate`
   once processed, 425 `REC_TOO_EARLY` while processing;
3. `bars_headers.check_accept`: a major version other than 1 in `Accept` → 406; then
   `check_content_type`: a body that is not JSON → 415;
4. the Bundle (`bars_bundle.parse_bundle`, `bars_message.read_message`,
   `bars_content.referral_content`): 400 `structure` / `value` / `invariant` / `required`;
5. what navigator does not support: 422 `REC_UNPROCESSABLE_ENTITY` (an unknown, inactive or
   unclassified target service, an unregistered sender endpoint, another workflow).

Then, in one unit of work, `receive_referral` (patient, navigation, referral, `BarsReferral`,
the Bundle kept, audit) or `receive_cancellation`, and the answer built by
`bars_answer.response_bundle`. These two flush, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers

from navigator.auth.keys import Caller
from navigator.bars.endpoints import allowed_endpoint
from navigator.bars.received import (
    claim_request,
    find_bars_referral,
    mark_processed,
    record_bars_referral,
    release_request,
)
from navigator.core.db import retry_on_conflict, transaction
from navigator.core.errors import Problem
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER
from navigator.directory.index import DirectoryIndex, Entry, get_index
from navigator.fhir.bars_answer import response_bundle
from navigator.fhir.bars_bundle import parse_bundle, unsupported
from navigator.fhir.bars_content import ReferralContent, flags, from_111, referral_content
from navigator.fhir.bars_headers import (
    TARGET_HEADER,
    RequestIds,
    check_accept,
    check_content_type,
    request_ids,
    target_service,
)
from navigator.fhir.bars_message import BarsMessage, read_message
from navigator.fhir.codesystems import service_id_system
from navigator.navigation.models import Navigation
from navigator.navigation.service import NO_POSTCODE, facts_for, navigate_call
from navigator.patients.audit import audit
from navigator.referrals.models import Referral
from navigator.referrals.service import OPEN, change_status, create_referral, load_referral
from navigator.rules.reference import RULESET
from navigator.rules.ruleset import evaluate


def receive_message(
    session: Session,
    *,
    headers: Mapping[str, str] | Headers,
    body: bytes,
    mimetype: str,
    caller: Caller,
    config: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """One BaRS message received: the 200 answer (`bars_answer.response_bundle`), or a
    `Problem` in the standard's order (module docstring). `headers`: the request's;
    `body`: its bytes as sent; `mimetype`: its `Content-Type` without parameters; `config`:
    the app's (`BARS_*`, `MAX_JSON_DEPTH`, `PUBLIC_BASE_URL`, `REFERRAL_ACK_MINUTES`).

    Owns its units of work. The X-Request-Id claim is committed in a transaction of its own
    before the message is read, so a concurrent retry sees it (425 while processing, 409 once
    processed). Any refusal after the claim (406, 415, 400, 404, 409 conflict, 422, or an
    unexpected error) releases it in another short transaction, so a corrected retry with the
    same id is judged afresh; the message itself is processed in one unit of work, run again
    (and then refused as a duplicate) if a concurrent message for the same ServiceRequest won
    the referral's unique key."""
    ids = request_ids(headers)
    with transaction(session):
        claimed_at = claim_request(
            session,
            request_id=ids.request_id,
            correlation_id=ids.correlation_id,
            client_id=caller.client_ref,
            now=now,
            lease_seconds=config["BARS_PROCESSING_LEASE_SECONDS"],
        )
    try:
        check_accept(headers.get("Accept"))
        check_content_type(mimetype)
        bundle, _ = parse_bundle(body, max_depth=config.get("MAX_JSON_DEPTH", 32))
        message = read_message(bundle)
        # Every fault of the Bundle (400) before anything navigator does not support (422).
        content = None if message.is_cancellation else referral_content(message)
        text = body.decode("utf-8")
        if message.is_cancellation:
            answer = retry_on_conflict(
                session,
                lambda: receive_cancellation(
                    session,
                    message,
                    caller=caller,
                    ids=ids,
                    claimed_at=claimed_at,
                    body_text=text,
                    config=config,
                    now=now,
                ),
            )
        else:
            index = get_index(session, GAZETTEER.get())
            entry, target = target_service(headers.get(TARGET_HEADER), index, service_id_system())
            answer = retry_on_conflict(
                session,
                lambda: receive_referral(
                    session,
                    message,
                    caller=caller,
                    entry=entry,
                    index=index,
                    target_identifier=target,
                    ids=ids,
                    claimed_at=claimed_at,
                    body_text=text,
                    config=config,
                    now=now,
                    content=content,
                ),
            )
    except BaseException:
        with transaction(session):
            release_request(session, ids.request_id, claimed_at)
        raise
    return answer


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
    caller has read it already (`receive_message` does, before the target checks), else read here.

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
            key_is_new=True,  # find_bars_referral above: not received from this client
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
