"""Call-back tasks on the navigators' worklist: opened for a reply or an undelivered text,
listed, completed.

The API and the console call these (never the tables): `open_callback_tasks` and
`complete_callback_task`; what was texted and replied for one call is `sms/history.py`, and
`navigator.sms.recipients.set_opt_out` switches a care home's texts off or on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.errors import Problem
from navigator.directory.models import Service
from navigator.sms.history import reply_item
from navigator.sms.models import TASK_DONE, TASK_OPEN, CallbackTask, SmsMessage, SmsReply

# What happened on a call-back, as said by the API and the console's worklist alike.
MAX_OUTCOME = 2000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def create_callback_task(
    session: Session,
    *,
    reason: str,
    now: datetime,
    navigation_id: str | None,
    service_id: str | None,
    reply_id: int | None = None,
    message_id: str | None = None,
) -> CallbackTask:
    """A task for a navigator, in the caller's transaction (one per reply or per message)."""
    task = CallbackTask(
        reason=reason,
        status=TASK_OPEN,
        created_at=now,
        navigation_id=navigation_id,
        service_id=service_id,
        reply_id=reply_id,
        message_id=message_id,
    )
    session.add(task)
    session.flush()
    return task


def task_item(task: CallbackTask, reply: SmsReply | None, home: Service | None) -> dict[str, Any]:
    return {
        "id": task.id,
        "status": task.status,
        "reason": task.reason,
        "created_at": task.created_at.isoformat(),
        "navigation_id": task.navigation_id,
        "care_home": {"id": home.id, "name": home.name, "phone": home.public_phone}
        if home
        else None,
        "reply": reply_item(reply) if reply else None,
        "message_id": task.message_id,
        "completed_at": _iso(task.completed_at),
        "completed_by": task.completed_by,
        "outcome": task.outcome,
    }


def _tasks(session: Session, *where: Any) -> list[dict[str, Any]]:
    query = (
        select(CallbackTask, SmsReply, Service)
        .outerjoin(SmsReply, SmsReply.id == CallbackTask.reply_id)
        .outerjoin(Service, Service.id == CallbackTask.service_id)
        .where(*where)
        .order_by(CallbackTask.created_at, CallbackTask.id)
    )
    return [task_item(task, reply, home) for task, reply, home in session.execute(query)]


def open_callback_tasks(session: Session) -> list[dict[str, Any]]:
    """Every open call-back task, oldest first (the worklist)."""
    return _tasks(session, CallbackTask.status == TASK_OPEN)


def complete_callback_task(
    session: Session, task_id: int, *, by: str, outcome: str, now: datetime
) -> dict[str, Any]:
    """Mark a task done with what happened, in the caller's transaction. 404 for an unknown
    task; 409 if it was already completed."""
    task = session.get(CallbackTask, task_id, with_for_update=True)
    if task is None:
        raise Problem(404, f"No call-back task {task_id}.")
    if task.status == TASK_DONE:
        raise Problem(409, f"Call-back task {task_id} was already completed.")
    task.status, task.completed_at, task.completed_by, task.outcome = TASK_DONE, now, by, outcome
    session.flush()
    return _tasks(session, CallbackTask.id == task_id)[0]


def task_for_message(
    session: Session, message: SmsMessage, *, reason: str, now: datetime
) -> CallbackTask:
    """A task about a message (not delivered), once: callers create it only when their
    conditional status change won, and the unique message_id refuses a second."""
    existing = session.scalar(select(CallbackTask).where(CallbackTask.message_id == message.id))
    if existing is not None:
        return existing
    return create_callback_task(
        session,
        reason=reason,
        now=now,
        navigation_id=message.navigation_id,
        service_id=message.service_id,
        message_id=message.id,
    )
