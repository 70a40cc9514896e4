"""BaRS messaging under `/fhir/` (issue 16): `POST /fhir/$process-message` and
`GET /fhir/ServiceRequest/{id}`. Thin views: they read the request and answer. The operation,
with its units of work (the X-Request-Id claim, the message, the claim's release), is
`process_message.receive_message`; the read is `service_request.read_service_request`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.directory.reference import directory_index
from navigator.fhir.outcome import fhir_response, is_uuid
from navigator.fhir.process_message import receive_message
from navigator.fhir.service_request import read_service_request
from navigator.web.auth import current_caller, require_roles
from navigator.web.edge import answers_bad_fields_with

blp = Blueprint("fhir_messaging", __name__, url_prefix="/fhir")
# A bad query string (a NUL) is 400 here, as everywhere under /fhir/ (FHIR's convention).
answers_bad_fields_with(blp, 400)


@blp.post("/$process-message")
@require_roles("integrator")
def process_message() -> ResponseReturnValue:
    """Receive a BaRS referral request or its cancellation; 200 with navigator's ids."""
    answer = receive_message(
        current_session(),
        headers=request.headers,
        # Read and cached by the edge before any view (navigator.web.edge.check_request).
        body=request.get_data(cache=True),
        mimetype=request.mimetype,
        caller=current_caller(),
        config=current_app.config,
        now=utcnow(),
    )
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
