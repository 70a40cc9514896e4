"""What was texted and replied for one call (a navigation): its follow-up texts with their
replies (`follow_ups_for`, in `GET /api/v1/navigations/{id}`), and everything that happened
after the call in time order, texts, replies and the call-back tasks they opened
(`navigation_timeline`, on the console's call page). Read-only; the console and the API call
these, never the tables."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.sms.models import CallbackTask, SmsMessage, SmsReply


def reply_item(reply: SmsReply) -> dict[str, Any]:
    """A reply as the API and the console show it: `{"id", "received_at", "kind", "body",
    "soft_signs", "note", "linked_by", "linked_at"}` (soft sign codes from
    `navigator.sms.grammar.SOFT_SIGNS`, a list, empty if none; the others null if not set)."""
    return {
        "id": reply.id,
        "received_at": reply.received_at.isoformat(),
        "kind": reply.kind,
        "body": reply.body,
        "soft_signs": list(reply.soft_signs or []),
        "note": reply.note,
        "linked_by": reply.linked_by,
        "linked_at": reply.linked_at.isoformat() if reply.linked_at else None,
    }


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
        replies[reply.message_id].append(reply_item(reply))
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
    `{"at" (ISO), "event", "message_id"?, "reply_id"?, "task_id"?}` and the event's facts:
    `follow_up` (the follow-up's id, `reply-<id>` for an automatic reply), `due_at` (aware),
    `to` (text scheduled); `attempts` (text sent); `error` (text failed or delivered);
    `body` (reply); `reason` (task opened); `actor`, `outcome` (task completed). The console
    words them (`console/timeline.py`)."""
    events: list[dict[str, Any]] = []
    for m in session.scalars(select(SmsMessage).where(SmsMessage.navigation_id == navigation_id)):
        events.append(
            {"at": m.created_at, "event": "text_scheduled", "message_id": m.id}
            | {"follow_up": m.follow_up, "due_at": m.due_at, "to": m.to_number}
        )
        if m.sent_at:
            events.append(
                {"at": m.sent_at, "event": "text_sent", "message_id": m.id, "attempts": m.attempts}
            )
        if m.finished_at:
            events.append(
                {"at": m.finished_at, "event": f"text_{m.status}", "message_id": m.id}
                | {"error": m.last_error}
            )
    for reply in session.scalars(select(SmsReply).where(SmsReply.navigation_id == navigation_id)):
        events.append(
            {"at": reply.received_at, "event": f"reply_{reply.kind}", "reply_id": reply.id}
            | {"body": reply.body}
        )
    for task in session.scalars(
        select(CallbackTask).where(CallbackTask.navigation_id == navigation_id)
    ):
        events.append(
            {"at": task.created_at, "event": "callback_opened", "task_id": task.id}
            | {"reason": task.reason}
        )
        if task.completed_at:
            events.append(
                {"at": task.completed_at, "event": "callback_completed", "task_id": task.id}
                | {"actor": task.completed_by, "outcome": task.outcome}
            )
    events.sort(key=lambda e: e["at"])
    return [e | {"at": e["at"].isoformat()} for e in events]
