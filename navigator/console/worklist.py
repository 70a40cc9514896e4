"""The navigators' worklist: care homes asking for a call back or reporting a resident's
deterioration (a NEWS2 score, RESTORE2 soft signs), and texts that never arrived. Urgent tasks
first. A reply that matched no call says so, with the home's recent calls to link it to; done
tasks have their own page; the navigation bar counts open tasks on every page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.console.access import can, me, requires
from navigator.console.blueprint import bp
from navigator.console.formatting import LABELS
from navigator.console.forms import form_values
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.navigation.models import Navigation
from navigator.patients.audit import audit
from navigator.patients.models import Patient
from navigator.sms.grammar import NEWS2_EMERGENCY, soft_sign_label
from navigator.sms.worklist import (
    MAX_OUTCOME,
    callback_task,
    complete_callback_task,
    completed_callback_tasks,
    link_reply_to_call,
    open_callback_tasks,
    open_task_counts,
)

# Why each task was opened, in the words the call timeline uses too (one table).
REASONS = LABELS["task_reasons"]
# The calls an unmatched reply may be linked to: the home's calls of the last fortnight (the
# follow-ups' reply window is a week; a fortnight covers a late reply), newest first.
RECENT_CALL_DAYS = 14
RECENT_CALLS_SHOWN = 10


def call_summaries(session: Session, navigation_ids: set[str]) -> dict[str, dict[str, Any]]:
    """For each call id: `{"id", "called_at", "case_ref", "need", "patient_id",
    "resident", "born", "age_days"}` (the resident's name and date of birth when the call
    recorded a patient)."""
    if not navigation_ids:
        return {}
    rows = session.execute(
        select(
            Navigation.id,
            Navigation.called_at,
            Navigation.case_ref,
            Navigation.need,
            Navigation.patient_id,
            Navigation.age_days,
            Patient.name,
            Patient.date_of_birth,
        )
        .outerjoin(Patient, Patient.id == Navigation.patient_id)
        .where(Navigation.id.in_(sorted(navigation_ids)))
    )
    return {
        row.id: {
            "id": row.id,
            "called_at": row.called_at,
            "case_ref": row.case_ref,
            "need": row.need,
            "patient_id": row.patient_id,
            "resident": row.name,
            "born": row.date_of_birth,
            "age_days": row.age_days,
        }
        for row in rows
    }


def recent_calls_for_home(
    session: Session, service_id: str | None, *, now: datetime
) -> list[dict[str, Any]]:
    """The care home's calls (residents of that home) in the last RECENT_CALL_DAYS, newest
    first, at most RECENT_CALLS_SHOWN, as `call_summaries` gives them."""
    if not service_id:
        return []
    ids = session.scalars(
        select(Navigation.id)
        .where(
            Navigation.care_home_service_id == service_id,
            Navigation.called_at >= now - timedelta(days=RECENT_CALL_DAYS),
        )
        .order_by(Navigation.called_at.desc(), Navigation.id)
        .limit(RECENT_CALLS_SHOWN)
    ).all()
    summaries = call_summaries(session, set(ids))
    return [summaries[i] for i in ids]


def with_calls(
    session: Session, tasks: list[dict[str, Any]], *, now: datetime, choices: bool
) -> list[dict[str, Any]]:
    """Each task with `call` (the call it concerns, or None) and, when `choices` and the
    task's reply matched no call, `recent_calls` to choose from."""
    calls = call_summaries(session, {t["navigation_id"] for t in tasks if t["navigation_id"]})
    out = []
    for task in tasks:
        extra: dict[str, Any] = {"call": calls.get(task["navigation_id"]), "recent_calls": []}
        if choices and task["reply"] and not task["navigation_id"]:
            extra["recent_calls"] = recent_calls_for_home(session, task["service_id"], now=now)
        out.append(task | extra)
    return out


def _audit_shown(session: Session, tasks: list[dict[str, Any]]) -> None:
    """A care home's text may name or describe the resident, and a task names the resident
    of its call: each reply, and each resident shown, is an audited read."""
    actor = me().caller.label
    for task in tasks:
        call = task["call"]
        patient_id = call["patient_id"] if call else None
        if task["reply"]:
            audit(
                session,
                actor=actor,
                action="read",
                entity="sms_reply",
                entity_id=str(task["reply"]["id"]),
                patient_id=patient_id,
            )
        elif patient_id:
            audit(
                session,
                actor=actor,
                action="read",
                entity="navigation",
                entity_id=call["id"],
                patient_id=patient_id,
            )
        for choice in task["recent_calls"]:
            if choice["patient_id"]:
                audit(
                    session,
                    actor=actor,
                    action="read",
                    entity="navigation",
                    entity_id=choice["id"],
                    patient_id=choice["patient_id"],
                )


def _page(errors: dict[str, str], status: int = 200, *, done: bool = False) -> ResponseReturnValue:
    """The open tasks (with the home's recent calls to link an unmatched reply to), or the
    completed ones; every resident shown is audited as read."""
    session, now = current_session(), utcnow()
    with transaction(session):
        found = completed_callback_tasks(session) if done else open_callback_tasks(session)
        tasks = with_calls(session, found, now=now, choices=not done)
        _audit_shown(session, tasks)
    return render_template(
        "console/worklist.jinja",
        title="Completed tasks" if done else "Worklist",
        tasks=tasks,
        done=done,
        reasons=REASONS,
        soft_sign_label=soft_sign_label,
        emergency_score=NEWS2_EMERGENCY,
        errors=errors,
        values={},
    ), status


@bp.route("/worklist")
@requires("take_calls")
def worklist() -> ResponseReturnValue:
    return _page({})


@bp.route("/worklist/completed")
@requires("take_calls")
def completed_tasks() -> ResponseReturnValue:
    return _page({}, done=True)


@bp.route("/worklist/<int:task_id>", methods=["POST"])
@requires("take_calls")
def complete_task(task_id: int) -> ResponseReturnValue:
    outcome = form_values().get("outcome", "")
    if not outcome:
        return _page({f"outcome-{task_id}": "Say what happened when you called back"}, 422)
    if len(outcome) > MAX_OUTCOME:  # the same limit as the API's CompleteTaskSchema
        return _page({f"outcome-{task_id}": f"Use {MAX_OUTCOME} characters or fewer"}, 422)
    try:
        with transaction(current_session()):
            complete_callback_task(
                current_session(), task_id, by=me().caller.label, outcome=outcome, now=utcnow()
            )
    except Problem as exc:
        if exc.status == 404:
            raise
        return _page({f"outcome-{task_id}": exc.detail or exc.title}, exc.status)
    flash("Call-back recorded.", "info")
    return redirect(url_for("console.worklist"))


def link_task_to_call(
    session: Session, task_id: int, navigation_id: str, *, by: str, now: datetime
) -> dict[str, Any]:
    """Link the reply of an open task that matched no call to one of its care home's recent
    calls (`recent_calls_for_home`), audited as an update of the reply for that resident. In
    the caller's transaction. 404 for an unknown task; 422 for a call that is not one of the
    home's recent calls; 409 as `link_reply_to_call` says."""
    task = callback_task(session, task_id)
    allowed = {c["id"]: c for c in recent_calls_for_home(session, task["service_id"], now=now)}
    if navigation_id not in allowed:
        raise Problem(422, "Choose one of the care home's recent calls")
    patient_id = allowed[navigation_id]["patient_id"]
    linked = link_reply_to_call(
        session, task_id, navigation_id=navigation_id, patient_id=patient_id, by=by, now=now
    )
    audit(
        session,
        actor=by,
        action="update",
        entity="sms_reply",
        entity_id=str(linked["reply"]["id"]),
        patient_id=patient_id,
    )
    return linked


@bp.route("/worklist/<int:task_id>/call", methods=["POST"])
@requires("take_calls")
def link_task(task_id: int) -> ResponseReturnValue:
    navigation_id = form_values().get("navigation_id", "")
    field = f"navigation-{task_id}"
    if not navigation_id:
        return _page({field: "Choose the call this reply is about"}, 422)
    try:
        with transaction(current_session()):
            link_task_to_call(
                current_session(), task_id, navigation_id, by=me().caller.label, now=utcnow()
            )
    except Problem as exc:
        if exc.status == 404:
            raise
        return _page({field: exc.detail or exc.title}, exc.status)
    flash("Reply linked to the call.", "info")
    return redirect(url_for("console.worklist") + f"#task-{task_id}")


def with_task_counter(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The navigation bar's items, the worklist's with its count of open tasks (and of urgent
    ones): one count query on the tasks' status index, only for users who see the worklist."""
    if not can("take_calls"):
        return items
    href = url_for("console.worklist")
    out = []
    for item in items:
        if item.get("href") == href:
            total, urgent = open_task_counts(current_session())
            tag = "nhsuk-tag--red" if urgent else "nhsuk-tag--white"
            hidden = f" open tasks, {urgent} urgent" if urgent else " open tasks"
            item = item | {
                "html": Markup(
                    '{} <span class="nhsuk-tag {} app-nav-count">{}'
                    '<span class="nhsuk-u-visually-hidden">{}</span></span>'
                ).format(item["text"], tag, total, hidden)
            }
        out.append(item)
    return out


@bp.app_context_processor
def worklist_globals() -> dict[str, Any]:
    return {"with_task_counter": with_task_counter}
