"""Call-back tasks on the navigators' worklist: opened for a reply or an undelivered text,
listed (urgent first), linked to a call, completed.

The API and the console call these (never the tables): `open_callback_tasks`,
`completed_callback_tasks`, `open_task_counts`, `link_reply_to_call` and
`complete_callback_task`; what was texted and replied for one call is `sms/history.py`, and
`navigator.sms.recipients.set_opt_out` switches a care home's texts off or on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from navigator.core.errors import Problem
from navigator.directory.models import Service
from navigator.sms.grammar import is_emergency
from navigator.sms.history import reply_item
from navigator.sms.models import (
    TASK_DONE,
    TASK_OPEN,
    CallbackTask,
    CareHomeObservation,
    SmsMessage,
    SmsReply,
)

# What happened on a call-back, as said by the API and the console's worklist alike.
MAX_OUTCOME = 2000
# The completed tasks a page shows, most recent first.
COMPLETED_SHOWN = 100


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
    urgent: bool = False,
) -> CallbackTask:
    """A task for a navigator, in the caller's transaction (one per reply or per message)."""
    task = CallbackTask(
        reason=reason,
        status=TASK_OPEN,
        urgent=urgent,
        created_at=now,
        navigation_id=navigation_id,
        service_id=service_id,
        reply_id=reply_id,
        message_id=message_id,
    )
    session.add(task)
    session.flush()
    return task


def task_item(
    task: CallbackTask,
    reply: SmsReply | None,
    home: Service | None,
    observation: CareHomeObservation | None = None,
) -> dict[str, Any]:
    """A task as the API and the console show it. `news2` is the score the reply carried
    (0–20) or null; `emergency`: NEWS2 7 or more or an emergency sign (the 999 advice);
    `service_id` is the care home's id even when it is not in the directory; the reply
    carries `from_number` (E.164 when it was a UK mobile), the only way to ring back a
    sender not in the directory."""
    return {
        "id": task.id,
        "status": task.status,
        "reason": task.reason,
        "urgent": task.urgent,
        "created_at": task.created_at.isoformat(),
        "navigation_id": task.navigation_id,
        "service_id": task.service_id,
        "care_home": {"id": home.id, "name": home.name, "phone": home.public_phone}
        if home
        else None,
        "reply": reply_item(reply) | {"from_number": reply.from_number} if reply else None,
        "news2": observation.value if observation else None,
        "emergency": bool(
            reply and is_emergency(observation.value if observation else None, reply.soft_signs)
        ),
        "message_id": task.message_id,
        "completed_at": _iso(task.completed_at),
        "completed_by": task.completed_by,
        "outcome": task.outcome,
    }


def _tasks(
    session: Session, *where: Any, order: tuple[Any, ...], limit: int | None = None
) -> list[dict[str, Any]]:
    query = (
        select(CallbackTask, SmsReply, Service, CareHomeObservation)
        .outerjoin(SmsReply, SmsReply.id == CallbackTask.reply_id)
        .outerjoin(Service, Service.id == CallbackTask.service_id)
        .outerjoin(CareHomeObservation, CareHomeObservation.reply_id == CallbackTask.reply_id)
        .where(*where)
        .order_by(*order)
        .limit(limit)
    )
    return [task_item(task, reply, home, obs) for task, reply, home, obs in session.execute(query)]


def open_callback_tasks(session: Session) -> list[dict[str, Any]]:
    """Every open call-back task: urgent ones first, then oldest first (the worklist)."""
    return _tasks(
        session,
        CallbackTask.status == TASK_OPEN,
        order=(CallbackTask.urgent.desc(), CallbackTask.created_at, CallbackTask.id),
    )


def completed_callback_tasks(
    session: Session, *, limit: int = COMPLETED_SHOWN
) -> list[dict[str, Any]]:
    """The most recently completed call-back tasks, newest first, with who completed each,
    when, and what happened."""
    return _tasks(
        session,
        CallbackTask.status == TASK_DONE,
        order=(CallbackTask.completed_at.desc(), CallbackTask.id.desc()),
        limit=limit,
    )


def open_task_counts(session: Session) -> tuple[int, int]:
    """(open tasks, of which urgent), in one query on the status index: the console's
    navigation bar asks on every page."""
    total, urgent = session.execute(
        select(func.count(), func.coalesce(func.sum(case((CallbackTask.urgent, 1), else_=0)), 0))
        .select_from(CallbackTask)
        .where(CallbackTask.status == TASK_OPEN)
    ).one()
    return int(total), int(urgent)


def callback_task(session: Session, task_id: int) -> dict[str, Any]:
    """One task as `task_item` gives it; 404 for an unknown id."""
    found = _tasks(session, CallbackTask.id == task_id, order=(CallbackTask.id,))
    if not found:
        raise Problem(404, f"No call-back task {task_id}.")
    return found[0]


def link_reply_to_call(
    session: Session,
    task_id: int,
    *,
    navigation_id: str,
    patient_id: str | None,
    by: str,
    now: datetime,
) -> dict[str, Any]:
    """Attach the reply of a task that matched no call to the call a navigator chose (whose
    care home the caller has checked), with the resident: the task, the reply and any
    observation it carried. In the caller's transaction. 404 for an unknown task; 409 for a
    task with no reply, one already completed, or a reply already attached to a call."""
    task = session.get(CallbackTask, task_id, with_for_update=True)
    if task is None:
        raise Problem(404, f"No call-back task {task_id}.")
    reply = session.get(SmsReply, task.reply_id) if task.reply_id is not None else None
    if reply is None:
        raise Problem(409, f"Call-back task {task_id} is not about a reply.")
    if task.status == TASK_DONE:
        raise Problem(409, f"Call-back task {task_id} was already completed.")
    if reply.navigation_id is not None:
        raise Problem(409, f"The reply of call-back task {task_id} is already linked to a call.")
    reply.navigation_id, reply.linked_by, reply.linked_at = navigation_id, by, now
    task.navigation_id = navigation_id
    observation = session.scalar(
        select(CareHomeObservation).where(CareHomeObservation.reply_id == reply.id)
    )
    if observation is not None:
        observation.navigation_id, observation.patient_id = navigation_id, patient_id
    session.flush()
    return callback_task(session, task_id)


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
    return callback_task(session, task_id)


def task_for_message(
    session: Session, message: SmsMessage, *, reason: str, now: datetime
) -> CallbackTask:
    """A task about a message (not delivered), once: callers create it only when their
    conditional status change won, and the unique message_id refuses a second. An automatic
    reply that was not delivered is urgent: it answered an urgent reply."""
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
        urgent=message.reply_id is not None,
    )
