"""The call page (`/calls/<navigation_id>`): the routing result, the patient, the timeline,
the call's referrals and, until the call is decided, the accept-or-override form."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from navigator.bars.shown import BarsShown, call_shown
from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.calls.new_call import care_home_text, gp_practices
from navigator.console.calls.shared import named_red_flags, service_name
from navigator.console.formatting import age_days, label, place, when
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
from navigator.navigation.routing import NATIONAL_TYPES
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
            taken=taken_text(navigation),
            call_facts=call_facts(navigation, patient),
            reach=how_to_reach(
                chosen or navigation.result["recommendation"]["service"], navigation.caller_role
            ),
            reasons=[reason_text(r, now) for r in navigation.result["recommendation"]["reasons"]],
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


# A call recorded this long after (or before) the time it is for says so (issue 17 §2).
FOR_ANOTHER_TIME = timedelta(minutes=10)


def taken_text(navigation: Navigation) -> str:
    """When the call was taken, NHS style on the London clock ("Call taken Tuesday
    1 December, 11:46pm"); a call routed for another time says both ("Call for Wednesday
    2 December, 10am, made Tuesday 1 December, 11:46pm")."""
    made = when(navigation.created_at)
    if abs(navigation.called_at - navigation.created_at) > FOR_ANOTHER_TIME:
        return f"Call for {when(navigation.called_at)}, made {made}"
    return f"Call taken {made}"


def call_facts(navigation: Navigation, patient: Patient | None) -> list[tuple[str, str]]:
    """What the call was, to read back to the caller: (label, text) rows for who called, the
    patient, their age, sex, postcode or place, care home, GP practice, need, red flags and
    notes. A fact the call did not give reads "Not given"."""
    caller = ", ".join(
        part
        for part in (
            label("caller_roles", navigation.caller_role),
            navigation.caller_name or "",
            navigation.caller_phone or "",
        )
        if part
    )
    where = navigation.postcode or ""
    if navigation.place:
        where = f"{where} ({place(navigation.place)})" if where else place(navigation.place)
    rows = [
        ("Caller", caller),
        ("Patient", patient.name if patient else ""),
        ("Age", age_days(navigation.age_days)),
        ("Sex", label("patient_sexes", navigation.sex) if navigation.sex else ""),
        ("Where", where),
        ("Care home", care_home_text(navigation.care_home_service_id)),
        ("GP", _gp_practice_text(navigation.gp_practice_ods)),
        ("Need", label("needs", navigation.need)),
        (
            "Red flags",
            named_red_flags(navigation.red_flags) if navigation.red_flags else "No red flags",
        ),
        ("Notes", navigation.notes or ""),
    ]
    return [(key, text or "Not given") for key, text in rows]


def _gp_practice_text(ods: str | None) -> str:
    if not ods:
        return ""
    known = next((p.text for p in gp_practices() if p.value == ods), None)
    return f"{known} ({ods})" if known else ods


# The caller roles that may use a service's professional line (the directory's
# `contact.professional_phone`, "for clinicians, care homes and 111"); the public's number
# is for everyone.
PROFESSIONAL_ROLES = frozenset({"care_home", "professional", "nhs111"})


def how_to_reach(service: dict[str, Any], caller_role: str | None) -> list[tuple[str, str]]:
    """How to reach the service, first on the call page: the number this caller's role may
    use (the professional line for care homes, professionals and 111 when the service has
    one, else the public number), the line for the navigator when that differs, how to refer
    and when it is open. Capacity only for a service that reports it (not 999 or 111)."""
    contact = service.get("contact") or {}
    public, professional = contact.get("public_phone"), contact.get("professional_phone")
    caller_may = professional if caller_role in PROFESSIONAL_ROLES and professional else public
    role = label("caller_roles", caller_role) if caller_role else "role not given"
    rows = [(f"Phone for the caller ({role})", caller_may or "")]
    if professional and professional != caller_may:
        rows.append(("Professional line (for you, not the caller)", professional))
    method = label("referral_methods", service.get("referral_method"))
    info = service.get("referral_info")
    rows.append(("How to refer", f"{method}. {info}" if method and info else method or info or ""))
    rows.append(("Opening times", service.get("opening_summary") or ""))
    rows.append(("Provided by", (service.get("organisation") or {}).get("name") or ""))
    capacity = service.get("capacity")
    if capacity and service.get("service_type") not in NATIONAL_TYPES:
        rows.append(("Capacity", capacity_text(capacity)))
    return [(key, text or "Not given") for key, text in rows]


def capacity_text(capacity: dict[str, Any]) -> str:
    """A service's capacity (`search.render_item`'s `capacity`: status, note, updated_at,
    stale) in the directory's words (`LABELS["capacity"]`): "Taking patients", "Busy, still
    taking patients: short of staff", with "not confirmed recently" for a stale report;
    "Not reported" when the service never reported (its status is then only the default)."""
    if not capacity.get("updated_at"):
        return "Not reported"
    text = label("capacity", capacity.get("status"))
    if capacity.get("note"):
        text += f": {capacity['note']}"
    if capacity.get("stale"):
        text += " (not confirmed recently: check when you call)"
    return text


# An instant as the API writes it, inside a reason stored before reasons were written in
# words (issue 17): "opens at 2026-12-01T09:00:00+00:00".
_ISO_INSTANT = re.compile(
    r"(?:at )?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))"
)


@bp.app_template_global()
def reason_text(reason: str, now: datetime | None = None) -> str:
    """A stored routing reason as people read it: any ISO instant in it (calls routed before
    reasons were written in words) on the London clock, NHS style."""
    now = now or utcnow()
    return _ISO_INSTANT.sub(lambda m: when(m.group(1).replace("Z", "+00:00"), now=now), reason)


@bp.app_template_global()
def summary_rows(rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """(label, text) pairs as the NHS.UK summary list's rows."""
    return [{"key": {"text": key}, "value": {"text": text}} for key, text in rows]
