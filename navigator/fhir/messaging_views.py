"""BaRS messaging under `/fhir/` (issue 16): `POST /fhir/$process-message` and
`GET /fhir/ServiceRequest/{id}`. Thin views: the checks and records are in
`process_message.py`, `bars_bundle.py`, `service_request.py` and `navigator.bars.received`.

The X-Request-Id claim is committed in a transaction of its own before the message is read,
so a concurrent retry sees it (425 while processing, 409 once processed). Any refusal after
the claim (406, 400, 404, 409 conflict, 422, or an unexpected error) releases it in another
short transaction, so a corrected retry with the same id is judged afresh; the message itself
is processed in one unit of work, run again (and then refused as a duplicate) if a concurrent
message for the same ServiceRequest won the referral's unique key.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from navigator.bars.received import claim_request, release_request
from navigator.core.db import retry_on_conflict, transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.directory.reference import directory_index
from navigator.fhir.bars_bundle import parse_bundle, read_message
from navigator.fhir.codesystems import service_id_system
from navigator.fhir.outcome import fhir_response, is_uuid
from navigator.fhir.process_message import (
    TARGET_HEADER,
    check_accept,
    receive_cancellation,
    receive_referral,
    referral_content,
    request_ids,
    target_service,
)
from navigator.fhir.service_request import read_service_request
from navigator.web.auth import current_caller, require_roles
from navigator.web.edge import answers_bad_fields_with

blp = Blueprint("fhir_messaging", __name__, url_prefix="/fhir")
# A bad query string (a NUL) is 400 here, as everywhere under /fhir/ (FHIR's convention).
answers_bad_fields_with(blp, 400)

# The media types a Bundle is read in (parameters such as charset or fhirVersion aside):
# anything else, text/plain, a form, multipart or none, is 415 (review of issue 16; BaRS API
# 1.4.0 sends `Content-Type: application/fhir+json`).
JSON_TYPES = frozenset({"application/fhir+json", "application/json"})


@blp.post("/$process-message")
@require_roles("integrator")
def process_message() -> ResponseReturnValue:
    """Receive a BaRS referral request or its cancellation; 200 with navigator's ids."""
    session, caller, config = current_session(), current_caller(), current_app.config
    ids = request_ids(request.headers)
    now = utcnow()
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
        check_accept(request.headers.get("Accept"))
        if request.mimetype not in JSON_TYPES:
            raise Problem(
                415,
                "Send the Bundle as application/fhir+json.",
                code="not-supported",
                errors={"Content-Type": ["application/fhir+json"]},
            )
        body = request.get_data(cache=True)
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
            index = directory_index()
            entry, target = target_service(
                request.headers.get(TARGET_HEADER), index, service_id_system()
            )
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
    return fhir_response(answer, 200)


@blp.get("/ServiceRequest/<string:referral_id>")
@require_roles("integrator", "navigator", "admin", "provider")
def read_service_request_view(referral_id: str) -> ResponseReturnValue:
    """A referral as a BaRS ServiceRequest, with its current status."""
    if not is_uuid(referral_id):  # BaRS: the id in the path must be a UUID
        raise Problem(
            400, "The id must be a UUID.", code="value", errors={"id": ["Must be a UUID."]}
        )
    session = current_session()
    with transaction(session):
        resource = read_service_request(
            session,
            referral_id,
            caller=current_caller(),
            index=directory_index(),
            base_url=current_app.config["PUBLIC_BASE_URL"],
        )
    return fhir_response(resource, 200)
