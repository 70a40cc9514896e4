"""The navigators' worklist: care homes asking for a call back, and texts that never arrived."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.forms import form_values
from navigator.core.clock import to_local
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.navigation.models import Navigation
from navigator.patients.audit import audit
from navigator.sms.worklist import MAX_OUTCOME, complete_callback_task, open_callback_tasks

REASONS = {
    "call_back": "Asked for a call back (replied 2)",
    "free_text": "Sent a message",
    "not_delivered": "Follow-up text not delivered: ring the care home",
}


def _page(errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    session = current_session()
    with transaction(session):
        tasks = open_callback_tasks(session)
        _audit_replies_shown(session, tasks)
    for task in tasks:
        task["created_at"] = to_local(datetime.fromisoformat(task["created_at"]))
    return render_template(
        "console/worklist.jinja",
        title="Worklist",
        tasks=tasks,
        reasons=REASONS,
        errors=errors,
        values={},
    ), status


def _audit_replies_shown(session: Session, tasks: list[dict[str, Any]]) -> None:
    """A care home's free text may name or describe the resident: showing it is audited."""
    ids = sorted({t["navigation_id"] for t in tasks if t["reply"] and t["navigation_id"]})
    query = select(Navigation.id, Navigation.patient_id).where(Navigation.id.in_(ids))
    patients = {navigation_id: patient_id for navigation_id, patient_id in session.execute(query)}
    for task in tasks:
        if task["reply"]:
            audit(
                session,
                actor=me().caller.label,
                action="read",
                entity="sms_reply",
                entity_id=str(task["reply"]["id"]),
                patient_id=patients.get(task["navigation_id"]),
            )


@bp.route("/worklist")
@requires("take_calls")
def worklist() -> ResponseReturnValue:
    return _page({})


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
