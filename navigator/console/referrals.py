"""Open and overdue referrals, and moving a referral along its lifecycle."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.bars.shown import deliveries, flag_markers, referral_shown
from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.formatting import label
from navigator.console.forms import body_from_form, form_values, load_or_errors, problem_errors
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.directory.reference import directory_index, service_names
from navigator.navigation.models import Navigation
from navigator.patients.audit import audit_record
from navigator.patients.models import Patient
from navigator.referrals.models import Referral
from navigator.referrals.schemas import ReferralUpdateSchema
from navigator.referrals.service import (
    NEXT,
    OPEN,
    REJECTION_REASONS,
    change_status,
    is_overdue,
    load_referral,
    referral_dict,
)


@bp.route("/referrals")
@requires("update_referrals")
def referrals() -> ResponseReturnValue:
    now, session, actor = utcnow(), current_session(), me().caller.label
    with transaction(session):
        rows = list(
            session.scalars(
                select(Referral)
                .where(Referral.status.in_(OPEN))
                .order_by(Referral.due_by)
                .limit(500)
            )
        )
        # The list names each patient, so each referral on it is a read of patient data
        # (console users see every referral; each read is audited, as on the referral page).
        patients = patients_of(session, rows)
        ages = call_ages(session, rows)
        for row in rows:
            audit_record(session, row, actor=actor, action="read", entity="referral")
        markers = flag_markers(session, [r.id for r in rows])
    overdue = [r for r in rows if is_overdue(r, now)]
    others = [r for r in rows if not is_overdue(r, now)]
    return render_template(
        "console/referrals.jinja",
        title="Referrals",
        overdue=overdue,
        others=others,
        patients=patients,
        call_ages=ages,
        # BaRS referrals with safeguarding or reasonable-adjustment flags (categories only).
        flag_markers=markers,
        names=service_names(),
        values={},
        errors={},
    )


def patients_of(session: Session, rows: list[Referral]) -> dict[str, Patient]:
    """The patients of these referrals by id, in one query."""
    ids = {row.patient_id for row in rows}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(ids)))}


def call_ages(session: Session, rows: list[Referral]) -> dict[str, int]:
    """The age in days given on each referral's call, by referral id (only where one was
    given): the age to show when the patient record has no date of birth, as when the caller
    gave only an age (fresh-eyes review of issue 17: every such referral read "Age not
    known")."""
    by_call = {row.navigation_id: row.id for row in rows if row.navigation_id}
    if not by_call:
        return {}
    found = session.execute(
        select(Navigation.id, Navigation.age_days).where(Navigation.id.in_(by_call))
    )
    return {by_call[nav_id]: days for nav_id, days in found if days is not None}


def _referral_page(
    referral_id: str, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session, now = current_session(), utcnow()
    with transaction(session):
        referral = load_referral(session, referral_id)
        audit_record(session, referral, actor=me().caller.label, action="read", entity="referral")
        data = referral_dict(session, referral, now, history=True)
        patient = session.get(Patient, referral.patient_id)
        call_age = call_ages(session, [referral]).get(referral.id)
        # Part of the referral read (and audited) above: None unless it came by BaRS.
        bars = referral_shown(session, referral.id)
        bars_deliveries = deliveries(session, referral.id) if bars else []
    entry = directory_index().by_id.get(referral.service_id)
    return (
        render_template(
            "console/referral.jinja",
            title="Referral",
            referral=data,
            bars=bars,
            bars_deliveries=bars_deliveries,
            patient=patient,
            call_age=call_age,
            service_name=entry.record["name"] if entry else referral.service_id,
            next_statuses=[(s, label("referral_statuses", s)) for s in NEXT[data["status"]]],
            reasons=[(r, label("rejection_reasons", r)) for r in REJECTION_REASONS],
            values=values,
            errors=errors,
        ),
        status,
    )


@bp.route("/referrals/<referral_id>")
@requires("update_referrals")
def referral(referral_id: str) -> ResponseReturnValue:
    return _referral_page(referral_id, {}, {})


@bp.route("/referrals/<referral_id>/status", methods=["POST"])
@requires("update_referrals")
def referral_status(referral_id: str) -> ResponseReturnValue:
    values = form_values()
    body, errors = load_or_errors(
        ReferralUpdateSchema(), body_from_form(values, ("status", "reason", "outcome", "note"))
    )
    if body is None:
        return _referral_page(referral_id, values, errors, 422)
    session = current_session()
    try:
        with transaction(session):
            row = load_referral(session, referral_id, for_update=True)
            change_status(session, row, body, actor=me().caller.label, now=utcnow())
    except Problem as exc:
        if exc.status == 404:
            raise
        return _referral_page(referral_id, values, problem_errors(exc, "status"), 422)
    flash(f"Referral is now {label('referral_statuses', body['status']).lower()}.", "info")
    return redirect(url_for("console.referral", referral_id=referral_id))
