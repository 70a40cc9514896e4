"""The DTOC board: open delays by place; open, update and close episodes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.formatting import LABELS, age_on, label
from navigator.console.forms import (
    body_from_form,
    form_values,
    load_or_errors,
    parse_date,
    problem_errors,
    vocabulary_options,
)
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.reference import directory_index, service_names
from navigator.patients.audit import audit_record
from navigator.patients.models import Patient
from navigator.transitions.dtoc import (
    CARE_TYPES,
    RESPONSIBLE,
    episode_dict,
    load_episode,
    open_episode,
    update_episode,
)
from navigator.transitions.models import DtocEpisode
from navigator.transitions.schemas import DtocInSchema, DtocUpdateSchema

# NHS England SitRep wording for the DTOC reason codes (kept in `formatting.LABELS`).
REASON_LABELS = LABELS["dtoc_reasons"]
EPISODE_FIELDS = (
    "provider_ods",
    "site",
    "care_type",
    "clinically_ready_at",
    "mdt_ready_at",
    "safe_to_transfer_at",
    "reason",
    "responsible",
    "receiving_service_id",
    "expected_transfer_date",
)
UPDATE_FIELDS = (
    "reason",
    "responsible",
    "effective_at",
    "receiving_service_id",
    "receiving_accepted_at",
    "expected_transfer_date",
    "transferred_at",
    "destination",
    "pathway",
)


def _options() -> dict[str, Any]:
    index = directory_index()
    return {
        "names": service_names(),
        "reason_labels": REASON_LABELS,
        "reasons": list(REASON_LABELS.items()),
        "responsibles": [(code, label("dtoc_responsible", code)) for code in RESPONSIBLE],
        "care_types": [(code, label("care_types", code)) for code in CARE_TYPES],
        "receiving": sorted(
            ((e.id, e.record["name"]) for e in index.entries if e.active), key=lambda o: o[1]
        ),
        "places": vocabulary_options(VOCABULARY.get(), "places"),
    }


def _board(
    values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session, now, actor = current_session(), utcnow(), me().caller.label
    by_place: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with transaction(session):
        episodes = session.scalars(
            select(DtocEpisode)
            .where(DtocEpisode.transferred_at.is_(None))
            .order_by(DtocEpisode.ready_at)
        )
        for episode in episodes:
            patient = session.get(Patient, episode.patient_id)
            audit_record(session, episode, actor=actor, action="read", entity="dtoc")
            row = episode_dict(session, episode, now)
            row["patient_name"] = patient.name if patient else ""
            row["patient_age"] = age_on(patient.date_of_birth) if patient else ""
            by_place[episode.place or "outside_blmk"].append(row)
    return (
        render_template(
            "console/dtoc_board.jinja",
            title="DTOC board",
            by_place=dict(sorted(by_place.items())),
            values=values,
            errors=errors,
            **_options(),
        ),
        status,
    )


@bp.route("/dtoc")
@requires("manage_dtoc")
def dtoc_board() -> ResponseReturnValue:
    return _board({}, {})


def _patient_ref(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    patient = body_from_form(values, ("nhs_number", "name", "postcode"))
    if values.get("date_of_birth"):
        born = parse_date(values["date_of_birth"])
        if born is None:
            errors["date_of_birth"] = "Enter a real date of birth, for example 15/3/1940"
        else:
            patient["date_of_birth"] = born.isoformat()
    return {"patient": patient}


@bp.route("/dtoc", methods=["POST"])
@requires("manage_dtoc")
def dtoc_open() -> ResponseReturnValue:
    values = form_values()
    errors: dict[str, str] = {}
    body = body_from_form(values, EPISODE_FIELDS) | _patient_ref(values, errors)
    data, schema_errors = load_or_errors(DtocInSchema(), body)
    errors |= {key.removeprefix("patient."): message for key, message in schema_errors.items()}
    if data is None or errors:
        return _board(values, errors, 422)
    session = current_session()
    try:
        with transaction(session):
            episode = open_episode(
                session,
                data,
                caller=me().caller,
                gazetteer=GAZETTEER.get(),
                index=directory_index(),
                now=utcnow(),
            )
    except Problem as exc:
        found = problem_errors(exc, "reason")
        return _board(values, {k.removeprefix("patient."): v for k, v in found.items()}, 422)
    flash("Delay recorded.", "info")
    return redirect(url_for("console.dtoc_episode", episode_id=episode.id))


def _episode_page(
    episode_id: str, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session, now = current_session(), utcnow()
    with transaction(session):
        episode = load_episode(session, episode_id)
        audit_record(session, episode, actor=me().caller.label, action="read", entity="dtoc")
        data = episode_dict(session, episode, now)
        patient = session.get(Patient, episode.patient_id)
    return (
        render_template(
            "console/dtoc_episode.jinja",
            title="DTOC episode",
            episode=data,
            patient=patient,
            values=values,
            errors=errors,
            **_options(),
        ),
        status,
    )


@bp.route("/dtoc/<episode_id>")
@requires("manage_dtoc")
def dtoc_episode(episode_id: str) -> ResponseReturnValue:
    return _episode_page(episode_id, {}, {})


@bp.route("/dtoc/<episode_id>", methods=["POST"])
@requires("manage_dtoc")
def dtoc_update(episode_id: str) -> ResponseReturnValue:
    values = form_values()
    data, errors = load_or_errors(DtocUpdateSchema(), body_from_form(values, UPDATE_FIELDS))
    if data is None:
        return _episode_page(episode_id, values, errors, 422)
    session = current_session()
    try:
        with transaction(session):
            episode = load_episode(session, episode_id, for_update=True)
            update_episode(
                session, episode, data, caller=me().caller, index=directory_index(), now=utcnow()
            )
    except Problem as exc:
        if exc.status == 404:
            raise
        return _episode_page(episode_id, values, problem_errors(exc, "reason"), 422)
    flash(
        "Episode closed: transfer recorded." if "transferred_at" in data else "Episode updated.",
        "info",
    )
    return redirect(url_for("console.dtoc_episode", episode_id=episode_id))
