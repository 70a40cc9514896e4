"""`/api/v1/navigations` and `/api/v1/gaps`."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from navigator.core.db import retry_on_conflict, transaction
from navigator.core.extensions import current_session
from navigator.core.idempotency import request_hash
from navigator.directory.reference import directory_index
from navigator.navigation.need_to_know import may_see_navigation
from navigator.navigation.schemas import (
    GapQuerySchema,
    GapReportSchema,
    NavigationRequestSchema,
    NavigationSchema,
)
from navigator.navigation.service import (
    Idempotency,
    day_range,
    gap_report,
    get_navigation,
    navigate_call,
    replay_navigation,
)
from navigator.sms.history import follow_ups_for
from navigator.web.auth import current_caller, require_roles
from navigator.web.edge import sets_aside_bad_text
from navigator.web.idempotency import idempotency_key
from navigator.web.openapi import problems

blp = Blueprint(
    "navigations", __name__, url_prefix="/api/v1", description="Routing a call to a service"
)


@blp.route("/navigations", methods=["POST"])
@sets_aside_bad_text  # a NUL in a note must not block the 999 answer (issue 13, H10)
@require_roles("integrator", "navigator", "admin")
@blp.arguments(
    NavigationRequestSchema(),
    example={
        "caller_role": "nhs111",
        "need": "fall_no_injury",
        "age": 84,
        "postcode": "MK42 9DJ",
        "lives_in_care_home": False,
    },
)
@blp.response(201, NavigationSchema)
@blp.alt_response(
    200, schema=NavigationSchema, description="A retry with the same Idempotency-Key and body"
)
@problems(409)
def create_navigation(body: dict[str, Any]) -> ResponseReturnValue:
    """Recommend a service for a call, with reasons, alternatives and safety-netting.

    A call naming a known red flag is always answered 201 `emergency` / `ambulance_999`,
    whatever else is missing or not valid: those facts are listed in `warnings`, not refused
    (issue 13). A flag is read from its code or its label in any case or spacing
    (`"Chest pain"`, `"CHEST-PAIN"`), from a comma-separated string, a nested list or an object
    `{"chest_pain": true}`, each such reading warned about. Text with a NUL or a lone surrogate
    is left out of a red-flag call with a warning. Without a red flag, a missing or invalid
    fact is a 422 naming the field (text with a NUL or a lone surrogate too).

    Send an `Idempotency-Key` header (1 to 200 characters, unique per call) so a retry is
    safe: the same key with the same body answers 200 with the navigation first made; with
    another body, 409 `idempotency_key_reused`.
    """
    key = idempotency_key()
    session, caller = current_session(), current_caller()
    idempotency = None
    if key is not None:  # the fingerprint of what the client sent, before any reading of it
        idempotency = Idempotency(caller.client_ref, key, request_hash(request.get_json()))

    def once() -> tuple[dict[str, Any], bool]:
        if idempotency is not None and (
            replayed := replay_navigation(session, idempotency, actor=caller.label)
        ):
            return replayed, False
        made = navigate_call(session, body, created_by=caller.label, idempotency=idempotency)
        return made, True

    # A concurrent send of the same key can win the unique constraint: rerun, replay it.
    result, created = retry_on_conflict(session, once)
    response = jsonify(result)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/navigations/{result['id']}"
    return response


@blp.route("/navigations/<string:navigation_id>")
@require_roles("integrator", "navigator", "admin")
@blp.response(200, NavigationSchema)
def read_navigation(navigation_id: str) -> ResponseReturnValue:
    """A navigation exactly as it was first returned, with its follow-up texts as they are now."""
    session, caller = current_session(), current_caller()
    with transaction(session):
        # Need-to-know: another client's call is answered like an unknown id.
        navigation = get_navigation(
            session,
            navigation_id,
            actor=caller.label,
            visible=lambda navigation: may_see_navigation(caller, navigation),
        )
        result = navigation.result
        # Navigations recorded before `warnings` existed had none.
        result = {"warnings": [], **result, "follow_ups": follow_ups_for(session, navigation_id)}
    return jsonify(result)


@blp.route("/gaps")
@require_roles("navigator", "admin")
@blp.arguments(GapQuerySchema(), location="query")
@blp.response(200, GapReportSchema)
def gaps(args: dict[str, Any]) -> ResponseReturnValue:
    """Services that failed exactly one criterion, grouped by service and criterion."""
    start, end = day_range(args["from_"], args["to"])
    items = gap_report(current_session(), start, end, directory_index())
    return jsonify(
        {"from": args["from_"].isoformat(), "to": args["to"].isoformat(), "items": items}
    )
