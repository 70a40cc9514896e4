"""Call-back tasks on the navigators' worklist, and what a navigation's follow-ups look like.

The console calls these (never the tables): `open_callback_tasks`, `complete_callback_task`,
`follow_ups_for` and `navigation_timeline`; `navigator.sms.recipients.set_opt_out` switches a
care home's texts off or on.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.errors import Problem
from navigator.directory.models import Service
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


def _reply_item(reply: SmsReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "received_at": reply.received_at.isoformat(),
        "kind": reply.kind,
        "body": reply.body,
    }


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
        "reply": _reply_item(reply) if reply else None,
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


def follow_ups_for(session: Session, navigation_id: str) -> list[dict[str, Any]]:
    """A navigation's follow-up texts, due order, each with its replies."""
    messages = session.scalars(
        select(SmsMessage)
        .where(SmsMessage.navigation_id == navigation_id)
        .order_by(SmsMessage.due_at, SmsMessage.id)
    ).all()
    replies: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for reply in session.scalars(
        select(SmsReply)
        .where(SmsReply.navigation_id == navigation_id)
        .order_by(SmsReply.received_at, SmsReply.id)
    ):
        replies[reply.message_id].append(_reply_item(reply))
    return [
        {
            "id": m.id,
            "due_at": m.due_at.isoformat(),
            "status": m.status,
            "to": m.to_number,
            "replies": replies[m.id],
        }
        for m in messages
    ]


def navigation_timeline(session: Session, navigation_id: str) -> list[dict[str, Any]]:
    """What happened after a call, in time order: each text scheduled, sent and finished,
    each reply, each call-back task opened and completed. Items are
    `{"at", "event", "message_id"?, "reply_id"?, "task_id"?, "detail"}`."""
    events: list[dict[str, Any]] = []
    for m in session.scalars(select(SmsMessage).where(SmsMessage.navigation_id == navigation_id)):
        events.append(
            {"at": m.created_at, "event": "text_scheduled", "message_id": m.id}
            | {"detail": f"{m.follow_up} due {m.due_at.isoformat()} to {m.to_number}"}
        )
        if m.sent_at:
            events.append({"at": m.sent_at, "event": "text_sent", "message_id": m.id})
            events[-1]["detail"] = f"attempt {m.attempts}"
        if m.finished_at:
            events.append(
                {"at": m.finished_at, "event": f"text_{m.status}", "message_id": m.id}
                | {"detail": m.last_error}
            )
    for reply in session.scalars(select(SmsReply).where(SmsReply.navigation_id == navigation_id)):
        events.append(
            {"at": reply.received_at, "event": f"reply_{reply.kind}", "reply_id": reply.id}
            | {"detail": reply.body}
        )
    for task in session.scalars(
        select(CallbackTask).where(CallbackTask.navigation_id == navigation_id)
    ):
        events.append(
            {"at": task.created_at, "event": "callback_opened", "task_id": task.id}
            | {"detail": task.reason}
        )
        if task.completed_at:
            events.append(
                {"at": task.completed_at, "event": "callback_completed", "task_id": task.id}
                | {"detail": f"{task.completed_by}: {task.outcome}"}
            )
    events.sort(key=lambda e: e["at"])
    return [e | {"at": e["at"].isoformat()} for e in events]


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
