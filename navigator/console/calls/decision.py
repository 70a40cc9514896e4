"""The decision (`POST /calls/<navigation_id>/decision`): accept the recommendation or
override it with a reason, and hand the call over (a referral unless the answer is a national
number). A refused decision shows the call page again with the form's errors."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.calls.call_page import render_call_page
from navigator.console.calls.shared import PATIENT_FIELDS, service_name
from navigator.console.forms import body_from_form, form_values, load_or_errors, problem_errors
from navigator.core.db import retry_on_conflict, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.directory.reference import directory_index
from navigator.navigation.decisions import Handoff, call_patient_id, decide
from navigator.navigation.models import Navigation
from navigator.patients.schemas import PatientInSchema
from navigator.patients.service import find_or_create_patient


@bp.route("/calls/<navigation_id>/decision", methods=["POST"])
@requires("take_calls")
def decide_call(navigation_id: str) -> ResponseReturnValue:
    values = form_values()
    action = values.get("action")
    service_id = values.get("service_id") if action == "override" else None
    errors: dict[str, str] = {}
    if action == "override" and not service_id:
        errors["service_id"] = "Choose the service you are referring to instead"
    if action not in ("accept", "override"):
        errors["action"] = "Accept the recommendation or choose another service"
    if errors:
        return render_call_page(navigation_id, values=values, errors=errors, status=422)
    session = current_session()

    try:
        # This page owns the unit of work (the services flush). A second decision at the same
        # moment waits on the call's row lock in `decide` and then gets 409; should a unique
        # constraint still be lost (the referral's idempotency key), the whole unit, with any
        # patient made at hand-over, is rolled back and run again.
        message = retry_on_conflict(
            session, lambda: _decide(session, navigation_id, values, service_id)
        )
    except Problem as exc:  # rolled back: nothing of the decision is left
        if exc.status == 404:  # no such call: the error page, not the call page
            raise
        return render_call_page(
            navigation_id,
            values=values,
            errors=problem_errors(exc, "action"),
            status=exc.status if exc.status in (409, 422) else 422,
        )
    flash(message, "info")
    return redirect(url_for("console.call", navigation_id=navigation_id))


def _decide(
    session: Session, navigation_id: str, values: dict[str, Any], service_id: str | None
) -> str:
    """Record the decision and hand the call over in the caller's unit of work; what to tell
    the navigator. Raises Problem 404 for an unknown call, 422 naming `patient_name` when the
    patient cannot be recorded, and `decide`'s 409 and 422."""
    navigation = session.get(Navigation, navigation_id)
    if navigation is None:
        raise Problem(404, "No such call.")
    # Never a new patient when the call has one, on the call or on a referral made for it
    # through the API (issue 13 §8): a second record without the NHS number splits a person.
    if call_patient_id(session, navigation) is None and values.get("patient_name"):
        navigation.patient_id = _patient_from_call(session, navigation, values["patient_name"])
    handoff = decide(
        session,
        navigation,
        service_id=service_id,
        override_reason=values.get("override_reason"),
        caller=me().caller,
        index=directory_index(),
        gazetteer=GAZETTEER.get(),
        ack_minutes=current_app.config["REFERRAL_ACK_MINUTES"],
        now=utcnow(),
    )
    return _handed_over(handoff)


def _handed_over(handoff: Handoff) -> str:
    """What the navigator is told: the referral sent, or the open one that stands for it."""
    referral = handoff.referral
    if referral is None:
        return "Decision recorded."
    name = service_name(referral.service_id)
    if handoff.created:
        step = _next_step(referral.service_id, referral.id[:8])
        done = f"Referral recorded for {name}" if step else f"Referral sent to {name}"
        return f"{done}: reference {referral.id[:8]}.{step}"
    return (
        f"{name} already had an open referral for this call (reference {referral.id[:8]}, "
        f"{referral.status.replace('_', ' ')}): no second referral was sent. Decision "
        "recorded."
    )


def _next_step(service_id: str, reference: str) -> str:
    """What the navigator must still do by the service's way of taking referrals: a service
    that takes them by phone is rung, and a walk-in or self-referral service needs none (the
    fresh-eyes review of issue 17: "Referral sent" to a phone-only service read as handed
    over, and the case waited until it was overdue). "" for the other ways."""
    entry = directory_index().by_id.get(service_id)
    if entry is None:
        return ""
    method = (entry.record.get("referral") or {}).get("method")
    contact = entry.record.get("contact") or {}
    if method == "phone":
        number = contact.get("professional_phone") or contact.get("public_phone")
        ring = f"phone {number}" if number else "phone them"
        return f" Nothing is sent to them by navigator: {ring} now and give reference {reference}."
    if method in ("walk_in", "self_referral"):
        return (
            " They take no referrals: tell the caller how to go there or refer themselves "
            "(see How to reach, above)."
        )
    return ""


def _patient_from_call(session: Session, navigation: Navigation, name: str) -> str:
    """A patient record from what the call already says (name given at hand-over); its id.
    Raises Problem 422 naming `patient_name` when those details are not a valid patient."""
    data, errors = load_or_errors(
        PatientInSchema(),
        body_from_form(
            {
                "name": name,
                "nhs_number": navigation.nhs_number,
                "sex": navigation.sex,
                "postcode": navigation.postcode if " " in navigation.postcode else None,
                "gp_practice_ods": navigation.gp_practice_ods,
                "care_home_service_id": navigation.care_home_service_id,
            },
            PATIENT_FIELDS,
        ),
    )
    if data is None:
        raise Problem(
            422,
            "The patient's details are not valid.",
            errors={"patient_name": list(errors.values())},
        )
    result = find_or_create_patient(
        session,
        data,
        actor=me().caller.label,
        gazetteer=GAZETTEER.get(),
        client_ref=me().caller.client_ref,  # need-to-know: who supplied what
    )
    return result.patient.id
