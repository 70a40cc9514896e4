"""New call → routing result → accept or override → referral; and the calls list and timeline."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.forms import (
    CallDetailsSchema,
    body_from_form,
    form_values,
    load_or_errors,
    plain_options,
    problem_errors,
    vocabulary_options,
)
from navigator.console.timeline import call_timeline
from navigator.core.clock import to_local, to_utc
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.identifiers import normalise_nhs_number, normalise_phone
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.core.vocabulary import PATIENT_SEXES
from navigator.directory.capacity import capacities, red_service_ids
from navigator.directory.reference import directory_index, stale_hours
from navigator.directory.search import render_item
from navigator.navigation.decisions import (
    OverrideOption,
    call_patient_id,
    call_referrals,
    decide,
    override_options,
)
from navigator.navigation.models import Navigation
from navigator.navigation.red_flags import known_red_flags
from navigator.navigation.routing import red_flag_names
from navigator.navigation.schemas import NavigationRequestSchema
from navigator.navigation.service import get_navigation, navigate_call
from navigator.patients.access import DEMOGRAPHICS
from navigator.patients.audit import audit_record
from navigator.patients.models import Patient
from navigator.patients.schemas import PatientInSchema
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral
from navigator.referrals.service import OPEN
from navigator.rules.reference import RULESET
from navigator.web.edge import sets_aside_bad_text
from navigator.web.fields import in_year_range

ROUTING_FIELDS = (
    "caller_role",
    "need",
    "red_flags",
    "age",
    "sex",
    "postcode",
    "gp_practice_ods",
    "care_home_service_id",
    "case_ref",
    "nhs_number",
)
PATIENT_FIELDS = DEMOGRAPHICS  # the patient part of the form: what a client can send
CALL_DETAILS = ("caller_name", "caller_phone", "notes")  # the console's own: CallDetailsSchema
DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def parse_date(text: str) -> date | None:
    """`15/3/1940` (how people write it) or `1940-03-15`; None when it is not a real date
    or falls outside the years 1900-2200 (a day after 9999-12-31 cannot be computed)."""
    try:
        if match := DATE.match(text):
            day, month, year = (int(part) for part in match.groups())
            parsed = date(year, month, day)
        else:
            parsed = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if in_year_range(parsed) else None


def _form_options() -> dict[str, Any]:
    vocab, index = VOCABULARY.get(), directory_index()
    care_homes = sorted(
        (e.id, e.record["name"])
        for pos in index.by_type.get("care_home", ())
        for e in [index.entries[pos]]
    )
    return {
        "caller_roles": vocabulary_options(vocab, "caller_roles"),
        "needs": vocabulary_options(vocab, "needs"),
        "red_flags": vocabulary_options(vocab, "red_flags"),
        "sexes": plain_options(PATIENT_SEXES),
        "care_homes": sorted(care_homes, key=lambda item: item[1]),
    }


def _routing_body(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    body = body_from_form(values, ROUTING_FIELDS)
    if values.get("date_of_birth"):
        born = parse_date(values["date_of_birth"])
        if born is None or born > to_local(utcnow()).date():
            errors["date_of_birth"] = "Enter a real date of birth, for example 15/3/1940"
        elif "age" not in body:
            body["age_days"] = (to_local(utcnow()).date() - born).days
    if "lives_in_care_home" in values or values.get("care_home_service_id"):
        body["lives_in_care_home"] = True
    return body


def _patient_body(values: dict[str, Any]) -> dict[str, Any] | None:
    """The patient to record, when the navigator gave a name (the API's patient schema)."""
    if not values.get("name"):
        return None
    body = body_from_form(values, PATIENT_FIELDS)
    if "date_of_birth" in body:
        born = parse_date(body["date_of_birth"])
        body["date_of_birth"] = born.isoformat() if born else body["date_of_birth"]
    return body


@bp.route("/calls/new", methods=["GET", "POST"])
@sets_aside_bad_text  # a NUL in the notes must not stop a red-flag call being recorded (H10)
@requires("take_calls")
def new_call() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"red_flags": []}
    if request.method == "POST":
        values = form_values("red_flags")
        body = _routing_body(values, errors)
        facts, routing_errors = load_or_errors(NavigationRequestSchema(), body)
        errors |= routing_errors
        details, details_errors = load_or_errors(
            CallDetailsSchema(), body_from_form(values, CALL_DETAILS)
        )
        errors |= details_errors
        patient_body = _patient_body(values)
        patient_data = None
        if patient_body is not None:
            patient_data, patient_errors = load_or_errors(PatientInSchema(), patient_body)
            errors |= patient_errors
        # A known red flag is recorded however unfinished the form (issue 13, hazard H10):
        # the schema has turned what is missing or not valid into warnings, the form's own
        # errors join them, and the call page shows 999 with the flags and what was left out.
        red_flag = facts is not None and bool(facts["red_flags"])
        if facts is not None and (red_flag or not errors):
            if red_flag:
                facts["warnings"] = [*facts["warnings"], *_left_out_of_form(errors)]
                if patient_body is not None and patient_data is None:
                    facts["warnings"].append(PATIENT_NOT_MADE)
            try:
                try:
                    navigation_id = _record_call(facts, patient_data, details or {})
                except Problem as exc:
                    if not (red_flag and patient_data is not None):
                        raise
                    # The patient record could not be made: the 999 advice is recorded
                    # without it (the transaction rolled back; nothing half-written).
                    facts["warnings"] += [
                        *_left_out_of_form(problem_errors(exc, "name")),
                        PATIENT_NOT_MADE,
                    ]
                    navigation_id = _record_call(facts, None, details or {})
            except Problem as exc:
                errors |= problem_errors(exc, "need")
            else:
                return redirect(url_for("console.call", navigation_id=navigation_id))
    return _new_call_page(values, errors)


PATIENT_NOT_MADE = {
    "field": "name",
    "message": "The patient record was not made: some of its details are not valid.",
}


def _left_out_of_form(errors: dict[str, str]) -> list[dict[str, str]]:
    """The form's own errors (date of birth, the patient's details) as warnings of a
    red-flag call recorded without them (the patient record is then not made)."""
    return [{"field": name, "message": f"{message} Left out."} for name, message in errors.items()]


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


@bp.app_template_global()
def named_red_flags(codes: list[str]) -> str:
    """Red-flag codes in plain words ("Chest pain and Possible sepsis"), as the API's
    reasons name them."""
    return red_flag_names(codes, VOCABULARY.get())


def _new_call_page(values: dict[str, Any], errors: dict[str, str]) -> ResponseReturnValue:
    # A red flag is shown as "call 999 now" even when the rest of the form is incomplete:
    # the navigator must never be held up by a missing field in an emergency.
    flags, _ = known_red_flags(values.get("red_flags") or [])
    return (
        render_template(
            "console/new_call.jinja",
            title="New call",
            values=values,
            errors=errors,
            emergency=bool(values.get("red_flags")),
            emergency_flags=flags,
            **_form_options(),
        ),
        422 if errors else 200,
    )


@bp.route("/calls/new/find", methods=["POST"])
@requires("take_calls")
def find_patient() -> ResponseReturnValue:
    """Prefill the new-call form from the patient record (POST: no NHS number in URLs/logs)."""
    errors: dict[str, str] = {}
    found = _prefill_from_nhs_number(request.form.get("nhs_number", ""), errors)
    return _new_call_page({"red_flags": [], **found}, errors)


def _prefill_from_nhs_number(raw: str, errors: dict[str, str]) -> dict[str, Any]:
    nhs_number = normalise_nhs_number(raw)
    if nhs_number is None:
        errors["nhs_number"] = "Enter a valid 10-digit NHS number"
        return {"nhs_number": raw}
    session = current_session()
    with transaction(session):
        patient = session.scalar(select(Patient).where(Patient.nhs_number == nhs_number))
        if patient is None:
            flash("No patient with this NHS number yet: enter their details.", "info")
            return {"nhs_number": nhs_number}
        audit_record(session, patient, actor=me().caller.label, action="read", entity="patient")
        return {
            "nhs_number": nhs_number,
            "name": patient.name,
            "date_of_birth": patient.date_of_birth.strftime("%d/%m/%Y")
            if patient.date_of_birth
            else "",
            "sex": patient.sex,
            "postcode": patient.postcode or "",
            "gp_practice_ods": patient.gp_practice_ods or "",
            "care_home_service_id": patient.care_home_service_id or "",
        }


def _record_call(
    facts: dict[str, Any], patient_data: dict[str, Any] | None, details: dict[str, Any]
) -> str:
    """Record the call; `details` is the loaded CallDetailsSchema ({} when it was not valid:
    a red-flag call is then recorded without them)."""
    session, actor = current_session(), me().caller.label
    with transaction(session):
        patient_id = None
        if patient_data is not None:
            patient_id = find_or_create_patient(
                session,
                patient_data,
                actor=actor,
                gazetteer=GAZETTEER.get(),
                client_ref=me().caller.client_ref,  # need-to-know: who supplied what
            ).patient.id
        result = navigate_call(session, facts, created_by=actor)
        session.execute(
            update(Navigation)
            .where(Navigation.id == result["id"])
            .values(
                caller_name=details.get("caller_name") or None,
                # A number in ASCII when it is one; else kept as typed (a note to read,
                # never matched), so an emergency call is never held up by this box.
                caller_phone=_caller_phone(details.get("caller_phone")),
                notes=details.get("notes") or None,
                patient_id=patient_id,
            )
        )
    return str(result["id"])


def _caller_phone(typed: str | None) -> str | None:
    return (normalise_phone(typed) or typed) if typed else None


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


@bp.route("/calls/<navigation_id>")
@requires("take_calls")
def call(navigation_id: str) -> ResponseReturnValue:
    return _call_page(navigation_id, values={}, errors={})


def _call_page(
    navigation_id: str, *, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session, now = current_session(), utcnow()
    with transaction(session):
        navigation, patient = _read_call(navigation_id)
        timeline = call_timeline(session, navigation)
        referrals = call_referrals(session, navigation.id)
        open_referrals = {r.service_id: r.status for r in referrals if r.status in OPEN}
        # Only an undecided call has the hand-over form that lists them.
        options = [] if navigation.decision else _override_options(navigation, open_referrals, now)
        chosen = _chosen_service(navigation, now)
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
            open_referrals=open_referrals,
            service_names={r.service_id: _service_name(r.service_id) for r in referrals},
            values=values,
            errors=errors,
            vocab=VOCABULARY.get(),
            to_local=to_local,
            override_options=[(o.service_id, o.label) for o in options],
        ),
        status,
    )


def _service_name(service_id: str) -> str:
    entry = directory_index().by_id.get(service_id)
    return entry.record["name"] if entry else service_id


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
        return _call_page(navigation_id, values=values, errors=errors, status=422)
    session = current_session()
    navigation = session.get(Navigation, navigation_id)
    if navigation is None:
        raise Problem(404, "No such call.")
    try:
        # Never a new patient when the call has one, on the call or on a referral made for it
        # through the API (issue 13 §8): a second record without the NHS number splits a person.
        if call_patient_id(session, navigation) is None and values.get("patient_name"):
            navigation.patient_id = _patient_from_call(navigation, values["patient_name"])
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
    except Problem as exc:
        session.rollback()
        return _call_page(
            navigation_id,
            values=values,
            errors=problem_errors(exc, "action"),
            status=exc.status if exc.status in (409, 422) else 422,
        )
    referral: Referral | None = handoff.referral
    if referral is None:
        flash("Decision recorded.", "info")
    elif handoff.created:
        name = _service_name(referral.service_id)
        flash(f"Referral sent to {name}: reference {referral.id[:8]}.", "info")
    else:
        name = _service_name(referral.service_id)
        flash(
            f"{name} already had an open referral for this call (reference {referral.id[:8]}, "
            f"{referral.status.replace('_', ' ')}): no second referral was sent. Decision "
            "recorded.",
            "info",
        )
    return redirect(url_for("console.call", navigation_id=navigation_id))


def _patient_from_call(navigation: Navigation, name: str) -> str:
    """A patient record from what the call already says (name given at hand-over)."""
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
        current_session(),
        data,
        actor=me().caller.label,
        gazetteer=GAZETTEER.get(),
        client_ref=me().caller.client_ref,  # need-to-know: who supplied what
    )
    return result.patient.id


@bp.route("/calls", methods=["GET", "POST"])
@requires("take_calls")
def calls() -> ResponseReturnValue:
    """Today's calls; search (POSTed, so NHS numbers stay out of URLs and access logs)."""
    errors: dict[str, str] = {}
    args = {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}
    query = select(Navigation).order_by(Navigation.called_at.desc()).limit(200)
    searched_nhs = False
    if args.get("nhs_number"):
        nhs_number = normalise_nhs_number(args["nhs_number"])
        if nhs_number is None:
            errors["nhs_number"] = "Enter a valid 10-digit NHS number"
        else:
            query = query.where(Navigation.nhs_number == nhs_number)
            searched_nhs = True
    if args.get("case_ref"):
        query = query.where(Navigation.case_ref == args["case_ref"])
    day_text = args.get("date") or ("" if searched_nhs or args.get("case_ref") else "today")
    if day_text:
        day = to_local(utcnow()).date() if day_text == "today" else parse_date(day_text)
        if day is None:
            errors["date"] = "Enter a real date, for example 23/11/2026"
        else:
            start = to_utc(datetime.combine(day, time()))
            end = to_utc(datetime.combine(day + timedelta(days=1), time()))
            query = query.where(Navigation.called_at >= start, Navigation.called_at < end)
            args["date"] = day.strftime("%d/%m/%Y")
    session = current_session()
    rows: list[Navigation] = []
    with transaction(session):
        if not errors:
            rows = list(session.scalars(query))
            if searched_nhs:  # a search by NHS number reads patient-identifiable records
                for navigation in rows:
                    audit_record(
                        session,
                        navigation,
                        actor=me().caller.label,
                        action="read",
                        entity="navigation",
                    )
    return render_template(
        "console/calls.jinja",
        title="Calls",
        rows=rows,
        values=args,
        errors=errors,
        vocab=VOCABULARY.get(),
        to_local=to_local,
    ), (422 if errors else 200)
