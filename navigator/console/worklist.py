"""The navigators' worklist: care homes asking for a call back, and texts that never arrived."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.forms import form_values
from navigator.db import transaction, utcnow
from navigator.directory.opening import to_local
from navigator.errors import Problem
from navigator.extensions import current_session
from navigator.sms.worklist import complete_callback_task, open_callback_tasks

REASONS = {
    "call_back": "Asked for a call back (replied 2)",
    "free_text": "Sent a message",
    "not_delivered": "Follow-up text not delivered: ring the care home",
}


def _page(errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    with transaction(current_session()):
        tasks = open_callback_tasks(current_session())
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
