"""The new-call page (`/calls/new`): the red-flag checklist, the caller, the patient and the
need, routed and recorded through the same service as the API; and the patient lookup
(`/calls/new/find`) that fills the form in from the patient record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask import session as signed_in
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.calls.shared import PATIENT_FIELDS
from navigator.console.formatting import label
from navigator.console.forms import (
    CallDetailsSchema,
    api_fields,
    body_from_form,
    form_values,
    load_or_errors,
    parse_date,
    problem_errors,
    vocabulary_options,
)
from navigator.core.clock import to_local
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.identifiers import normalise_nhs_number, normalise_phone
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.core.vocabulary import PATIENT_SEXES
from navigator.directory.index import DirectoryIndex, Entry
from navigator.directory.reference import directory_index
from navigator.navigation.models import Navigation
from navigator.navigation.red_flags import known_red_flags
from navigator.navigation.schemas import NavigationRequestSchema
from navigator.navigation.service import navigate_call
from navigator.patients.audit import audit_record
from navigator.patients.models import Patient
from navigator.patients.schemas import PatientInSchema
from navigator.patients.service import find_or_create_patient
from navigator.web.edge import sets_aside_bad_text

# The API's call facts, so a new one reaches the console's routing too (the form needs its
# control: tests/console/calls/test_new_call.py checks there is one for each), less these:
ROUTING_NOT_ON_FORM = {
    "age_days": "worked out from the date of birth (`_routing_body`); the form asks for years",
    "at": "a call taken on the console is routed at the time it is recorded",
    "lives_in_care_home": "set by `_routing_body` from its tick box or a chosen care home",
    "disposition": "an NHS Pathways code comes from 111's systems through the API",
}
ROUTING_FIELDS = api_fields(NavigationRequestSchema, not_on_form=ROUTING_NOT_ON_FORM)
CALL_DETAILS = ("caller_name", "caller_phone", "notes")  # the console's own: CallDetailsSchema


@dataclass(frozen=True)
class Choice:
    """A care home or GP practice as the form offers it: the value the form posts (the care
    home's directory id, the practice's ODS code), the text shown ("Greenacre, Dunstable
    LU6 1UU": two homes of one name told apart by town and postcode), unique among the
    choices (`_told_apart`), its postcode, and `short`, the name, town and postcode alone
    (what several choices may share)."""

    value: str
    text: str
    postcode: str
    short: str = ""


def _street(entry: Entry) -> str:
    """The first location's address less its town ("1 Brewers Hill Road, Dunstable" ->
    "1 Brewers Hill Road"); "" when it has only a town."""
    location = entry.record["locations"][0] if entry.record["locations"] else None
    parts = (location.get("address") or "").rsplit(",", 1) if location else []
    return parts[0].strip() if len(parts) == 2 else ""


def _location_name(entry: Entry) -> str:
    """The first location's name ("Nursing wing"); "" when it has none."""
    location = entry.record["locations"][0] if entry.record["locations"] else {}
    return str(location.get("name") or "")


def _told_apart(found: list[tuple[Entry, Choice]]) -> list[Choice]:
    """The choices with every shown text unique (case aside): two homes of one name, town and
    postcode (a nursing and a residential wing on one site) are told apart by the street, or
    else by the location's name ("Greenacre, Nursing wing, Dunstable LU6 1UU") and, when even
    those are the same, by their directory id; so the home a navigator picks from the list is
    the home recorded."""
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry, choice in found:
        groups[choice.text.casefold()].append(entry)
    told: list[Choice] = []
    for entry, choice in found:
        same = groups[choice.text.casefold()]
        if len(same) == 1:
            told.append(choice)
            continue
        extra = ""
        for detail in (_street, _location_name):
            mine = detail(entry).casefold()
            if mine and [detail(other).casefold() for other in same].count(mine) == 1:
                extra = detail(entry)
                break
        name, _, where = choice.text.partition(", ")
        if extra:
            text = ", ".join(part for part in (name, extra, where) if part)
        else:
            text = f"{choice.text} (directory id {entry.id})"
        told.append(replace(choice, text=text))
    return told


def _where(entry: Entry) -> tuple[str, str]:
    """(town, postcode) of a service's first location: the town is the address's last part
    ("Brewers Hill Road, Dunstable" -> "Dunstable"); either may be ""."""
    location = entry.record["locations"][0] if entry.record["locations"] else None
    if location is None:
        return "", ""
    town = (location.get("address") or "").rsplit(",", 1)[-1].strip()
    return town, location.get("postcode") or ""


def _choices(index: DirectoryIndex, service_type: str, *, by_ods: bool) -> list[Choice]:
    """Every active service of `service_type`, by name then town; by ODS code (`by_ods`:
    GP practices, whose code is their organisation's; those without one are left out, as
    the form asks for the code) or by directory id."""
    found: list[tuple[Entry, Choice]] = []
    for position in index.by_type.get(service_type, ()):
        entry = index.entries[position]
        value = (entry.organisation.get("ods_code") or "") if by_ods else entry.id
        if not value or not entry.active:
            continue
        town, postcode = _where(entry)
        text = ", ".join(
            part for part in (entry.record["name"], f"{town} {postcode}".strip()) if part
        )
        found.append((entry, Choice(value, text, postcode, short=text)))
    return sorted(_told_apart(found), key=lambda choice: (choice.text, choice.value))


def care_homes() -> list[Choice]:
    """The care homes the new-call form offers, by name, town and postcode."""
    return _choices(directory_index(), "care_home", by_ods=False)


def gp_practices() -> list[Choice]:
    """The GP practices the new-call form suggests for the ODS code, by name, town and
    postcode."""
    return _choices(directory_index(), "gp_practice", by_ods=True)


# One "not known" for sex: the blank choice is the API's default, "unknown" (so "Unknown" is
# not offered a second time); female, male and other by their labels.
SEXES_OFFERED = tuple(code for code in PATIENT_SEXES if code != "unknown")


def _form_options() -> dict[str, Any]:
    vocab = VOCABULARY.get()
    return {
        "caller_roles": vocabulary_options(vocab, "caller_roles"),
        "needs": vocabulary_options(vocab, "needs"),
        "red_flags": vocabulary_options(vocab, "red_flags"),
        "sexes": [(code, label("patient_sexes", code)) for code in SEXES_OFFERED],
        "care_homes": care_homes(),
        "gp_practices": gp_practices(),
    }


AMBIGUOUS_CARE_HOME = "Select the care home from the list: more than one home has this name"


def resolve_care_home(values: dict[str, Any], errors: dict[str, str]) -> None:
    """The care home as typed or picked (`care_home_service_id`: a home's text as the list
    shows it, its name, town and postcode when no other home shares them, or its directory
    id) made its id, in `values`; an error naming the field when it is none of these, or
    when the text fits more than one home (`AMBIGUOUS_CARE_HOME`: never a guess at which).
    With no postcode given, the home's postcode is the patient's (they are there): one field
    fewer on a care-home call."""
    typed = (values.get("care_home_service_id") or "").strip()
    if not typed:
        return
    homes = care_homes()
    match = next((h for h in homes if typed in (h.value, h.text)), None)
    if match is None:
        fits = [h for h in homes if typed.casefold() in (h.text.casefold(), h.short.casefold())]
        if len(fits) > 1:
            errors["care_home_service_id"] = AMBIGUOUS_CARE_HOME
            return
        match = fits[0] if fits else None
    if match is None:
        errors["care_home_service_id"] = (
            "Choose the care home from the list, or leave it blank if the patient is not in one"
        )
        values["care_home_service_id"] = ""
        return
    values["care_home_service_id"] = match.value
    if not values.get("postcode") and match.postcode:
        values["postcode"] = match.postcode


def care_home_text(service_id: str | None) -> str:
    """The care home's text as the list shows it, for the form's box; "" when none."""
    if not service_id:
        return ""
    return next((h.text for h in care_homes() if h.value == service_id), service_id)


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
    if request.method == "GET" and request.args.get("same_caller"):
        values |= _last_caller()
    if request.method == "POST":
        values = form_values("red_flags")
        resolve_care_home(values, errors)
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
                signed_in[LAST_CALL] = navigation_id  # "Same caller as your last call"
                return redirect(url_for("console.call", navigation_id=navigation_id))
    return _new_call_page(values, errors)


# The id of the navigator's last call this sign-in (Flask's session holds only the id: the
# caller's name and number stay in the database).
LAST_CALL = "last_call_id"
CALLER_DETAILS = ("caller_role", "caller_name", "caller_phone", "care_home_service_id")


def _last_call() -> Navigation | None:
    """The navigator's last call this sign-in, when they recorded it (never another's)."""
    navigation_id = signed_in.get(LAST_CALL)
    if not navigation_id:
        return None
    navigation = current_session().get(Navigation, navigation_id)
    if navigation is None or navigation.created_by != me().caller.label:
        return None
    return navigation


def _last_caller() -> dict[str, Any]:
    """The caller of the navigator's last call (who, their name and number, the care home
    and, with a home, its postcode), to start a call from the same caller; {} when none."""
    with transaction(current_session()):
        navigation = _last_call()
        if navigation is None:
            return {}
        found = {name: getattr(navigation, name) or "" for name in CALLER_DETAILS}
        if navigation.care_home_service_id and navigation.postcode:
            found["postcode"] = navigation.postcode
        return found


def _last_caller_text() -> str:
    """The last call's caller in a few words for the "Same caller" link ("Jo Carer, Care
    home staff, Greenacre, Dunstable LU6 1UU"); "" when there is none."""
    with transaction(current_session()):
        navigation = _last_call()
        if navigation is None:
            return ""
        parts = [
            navigation.caller_name or "",
            label("caller_roles", navigation.caller_role),
            care_home_text(navigation.care_home_service_id),
        ]
    return ", ".join(part for part in parts if part)


PATIENT_NOT_MADE = {
    "field": "name",
    "message": "The patient record was not made: some of its details are not valid.",
}


def _left_out_of_form(errors: dict[str, str]) -> list[dict[str, str]]:
    """The form's own errors (date of birth, the patient's details) as warnings of a
    red-flag call recorded without them (the patient record is then not made)."""
    return [{"field": name, "message": f"{message} Left out."} for name, message in errors.items()]


def _new_call_page(values: dict[str, Any], errors: dict[str, str]) -> ResponseReturnValue:
    # A red flag is shown as "call 999 now" even when the rest of the form is incomplete:
    # the navigator must never be held up by a missing field in an emergency.
    flags, _ = known_red_flags(values.get("red_flags") or [])
    # The care home's box shows the home as the list does, not its directory id.
    shown = values | {"care_home_service_id": care_home_text(values.get("care_home_service_id"))}
    return (
        render_template(
            "console/new_call.jinja",
            title="New call",
            values=shown,
            last_caller=_last_caller_text(),
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
    # What the navigator had already entered (call.js sends the call form's fields with the
    # look-up) is kept: a red flag ticked before the look-up must still be ticked after it
    # (fresh-eyes review of issue 17: the look-up wiped a ticked "Possible sepsis"). The
    # record fills in the patient's details it holds, over what was typed.
    typed = {
        name: request.form.getlist(name) if name == "red_flags" else request.form.get(name, "")
        for name in request.form
        if name not in ("csrf_token", "nhs_number")
    }
    held = {name: value for name, value in found.items() if value}
    return _new_call_page({"red_flags": [], **typed, **held}, errors)


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
    """Record the call (and its patient) in one unit of work this page owns, and return its
    navigation id; a Problem rolls all of it back. `details` is the loaded CallDetailsSchema
    ({} when it was not valid: a red-flag call is then recorded without them)."""
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
