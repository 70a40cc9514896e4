"""`/api/v1/navigations` and `/api/v1/gaps`."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.directory.reference import directory_index
from navigator.navigation.need_to_know import may_see_navigation
from navigator.navigation.schemas import (
    GapQuerySchema,
    GapReportSchema,
    NavigationRequestSchema,
    NavigationSchema,
)
from navigator.navigation.service import day_range, gap_report, get_navigation, navigate_call
from navigator.sms.history import follow_ups_for
from navigator.web.auth import current_caller, require_roles
from navigator.web.edge import sets_aside_bad_text

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
def create_navigation(body: dict[str, Any]) -> ResponseReturnValue:
    """Recommend a service for a call, with reasons, alternatives and safety-netting.

    A call naming a known red flag is always answered 201 `emergency` / `ambulance_999`,
    whatever else is missing or not valid: those facts are listed in `warnings`, not refused
    (issue 13). A flag is read from its code or its label in any case or spacing
    (`"Chest pain"`, `"CHEST-PAIN"`), from a comma-separated string, a nested list or an object
    `{"chest_pain": true}`, each such reading warned about. Text with a NUL or a lone surrogate
    is left out of a red-flag call with a warning. Without a red flag, a missing or invalid
    fact is a 422 naming the field (text with a NUL or a lone surrogate too).
    """
    session = current_session()
    with transaction(session):
        result = navigate_call(session, body, created_by=current_caller().label)
    response = jsonify(result)
    response.status_code = 201
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
