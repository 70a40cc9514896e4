"""The call page (`/calls/<navigation_id>`): the routing result, the patient, the timeline,
the call's referrals and, until the call is decided, the accept-or-override form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from navigator.bars.shown import BarsShown, call_shown
from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.calls.shared import service_name
from navigator.console.timeline import call_timeline
from navigator.core.clock import to_local
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.capacity import capacities, red_service_ids
from navigator.directory.reference import directory_index, stale_hours
from navigator.directory.search import render_item
from navigator.navigation.decisions import (
    OverrideOption,
    call_patient_id,
    call_referrals,
    override_options,
)
from navigator.navigation.models import Navigation
from navigator.navigation.service import get_navigation
from navigator.patients.audit import audit, audit_record
from navigator.patients.models import Patient
from navigator.referrals.service import open_referrals
from navigator.rules.reference import RULESET


@bp.route("/calls/<navigation_id>")
@requires("take_calls")
def call(navigation_id: str) -> ResponseReturnValue:
    return render_call_page(navigation_id, values={}, errors={})


def render_call_page(
    navigation_id: str, *, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    """The call page with the decision form's `values` and `errors` (the decision page shows
    it again when a decision is refused). Raises Problem 404 for an unknown call."""
    session, now = current_session(), utcnow()
    with transaction(session):
        navigation, patient = _read_call(navigation_id)
        timeline = call_timeline(session, navigation)
        referrals = call_referrals(session, navigation.id)
        open_to = {r.service_id: r.status for r in open_referrals(session, navigation.id)}
        # Only an undecided call has the hand-over form that lists them.
        options = [] if navigation.decision else _override_options(navigation, open_to, now)
        chosen = _chosen_service(navigation, now)
        bars = _read_bars(navigation.id)
    return (
        render_template(
            "console/call.jinja",
            title="Call",
            navigation=navigation,
            result=navigation.result,
            chosen=chosen,
            patient=patient,
            timeline=timeline,
            referrals=referrals,
            bars=bars,
            open_referrals=open_to,
            service_names={r.service_id: service_name(r.service_id) for r in referrals},
            values=values,
            errors=errors,
            vocab=VOCABULARY.get(),
            to_local=to_local,
            override_options=[(o.service_id, o.label) for o in options],
        ),
        status,
    )


def _read_call(navigation_id: str) -> tuple[Navigation, Patient | None]:
    """The call and its patient: the one recorded on the call, else its referral's (a referral
    made through the API carries the patient), so the console never asks for one again."""
    session, actor = current_session(), me().caller.label
    navigation = get_navigation(session, navigation_id, actor=actor)  # audits an NHS number
    patient_id = call_patient_id(session, navigation)
    patient = session.get(Patient, patient_id) if patient_id else None
    if patient is not None:
        audit_record(session, patient, actor=actor, action="read", entity="patient")
    return navigation, patient


def _read_bars(navigation_id: str) -> BarsShown | None:
    """What came with the call's referrals received by BaRS (flags, sender, 111's
    safety-netting); None when none came by BaRS. The flags are the patient's (safeguarding,
    reasonable adjustments), so each referral they came with is audited as read here, as the
    referral page audits its own."""
    session, actor = current_session(), me().caller.label
    bars = call_shown(session, navigation_id)
    for referral_id, patient_id in bars.referrals if bars else ():
        audit(
            session,
            actor=actor,
            action="read",
            entity="referral",
            entity_id=referral_id,
            patient_id=patient_id,
        )
    return bars


def _override_options(
    navigation: Navigation, open_referrals: dict[str, str], now: datetime
) -> list[OverrideOption]:
    """Every active service of the rule's types and fallbacks and the call's gap services,
    most suitable first (`override_options`), assessed now against live red capacity."""
    return override_options(
        navigation,
        index=directory_index(),
        ruleset=RULESET.get(),
        gazetteer=GAZETTEER.get(),
        vocab=VOCABULARY.get(),
        red=red_service_ids(current_session(), now),
        open_referrals=open_referrals,
        now=now,
    )


def _chosen_service(navigation: Navigation, now: datetime) -> dict[str, Any] | None:
    """After an override, the chosen service as the page shows a recommended one (contact,
    how to refer, opening, capacity now); None when the recommendation stands."""
    if navigation.decision != "overridden" or navigation.chosen_service_id is None:
        return None
    entry = directory_index().by_id.get(navigation.chosen_service_id)
    if entry is None:  # removed from the directory since: show what is known
        return None
    session = current_session()
    capacity = capacities(session, [entry.id], now, stale_hours())[entry.id]
    postcode = parse_postcode(navigation.postcode or "")
    located = GAZETTEER.get().locate(postcode) if postcode is not None else None
    return render_item(entry, capacity, now=now, located=located, professional=True)


# The new-call form's labels, to say on the call page which details a red-flag call was
# recorded without (its warnings name the API's fields).
FORM_LABELS = {
    "caller_role": "Who is calling",
    "need": "Need",
    "red_flags": "Red flags",
    "age": "Age",
    "age_days": "Age",
    "sex": "Sex",
    "postcode": "Postcode",
    "gp_practice_ods": "GP practice ODS code",
    "care_home_service_id": "Care home",
    "lives_in_care_home": "Care home",
    "case_ref": "Case reference",
    "nhs_number": "NHS number",
    "date_of_birth": "Date of birth",
    "name": "Full name",
    "caller_name": "Caller's name",
    "caller_phone": "Caller's phone number",
    "notes": "Notes",
    "at": "Time of the call",
}


# A template global, not a page variable: the "call 999 now" card (`_emergency.jinja`) is a
# partial the call page includes.
@bp.app_template_global()
def left_out_details(warnings: list[dict[str, str]]) -> str:
    """The details a call was recorded without, as the form labels them, each once:
    "Who is calling, Postcode, Age"."""
    labels: list[str] = []
    for warning in warnings:
        field = warning["field"].split(".")[0]
        label = FORM_LABELS.get(field, field.replace("_", " ").capitalize())
        if label not in labels:
            labels.append(label)
    return ", ".join(labels)
