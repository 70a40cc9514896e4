"""`/api/v1/worklist`: open call-back tasks from care homes' replies and undelivered texts."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields, validate

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.schemas import StrictSchema
from navigator.sms.models import REPLY_KINDS, TASK_DONE, TASK_OPEN, TASK_REASONS
from navigator.sms.worklist import MAX_OUTCOME, complete_callback_task, open_callback_tasks
from navigator.web.auth import current_caller, require_roles
from navigator.web.openapi import ResponseSchema, problems

blp = Blueprint(
    "worklist", __name__, url_prefix="/api/v1", description="Call-back tasks for navigators"
)


class CareHomeRefSchema(ResponseSchema):
    id = fields.String()
    name = fields.String()
    phone = fields.String(allow_none=True)


class TaskReplySchema(ResponseSchema):
    id = fields.Integer()
    received_at = fields.String()
    kind = fields.String(validate=validate.OneOf(REPLY_KINDS))
    body = fields.String()
    soft_signs = fields.List(fields.String(), metadata={"description": "RESTORE2 soft signs"})
    note = fields.String(allow_none=True, metadata={"description": "Why a score was not read"})
    linked_by = fields.String(allow_none=True)
    linked_at = fields.String(allow_none=True)
    from_number = fields.String(
        metadata={"description": "The number the reply came from (E.164 for a UK mobile)"}
    )


class CallbackTaskSchema(ResponseSchema):
    id = fields.Integer()
    status = fields.String(validate=validate.OneOf((TASK_OPEN, TASK_DONE)))
    reason = fields.String(validate=validate.OneOf(TASK_REASONS))
    urgent = fields.Boolean(
        metadata={"description": "NEWS2 5 or more, a soft or emergency sign, or an unclear score"}
    )
    created_at = fields.String()
    navigation_id = fields.String(allow_none=True)
    service_id = fields.String(allow_none=True)
    care_home = fields.Nested(CareHomeRefSchema, allow_none=True)
    reply = fields.Nested(TaskReplySchema, allow_none=True)
    news2 = fields.Integer(allow_none=True, metadata={"description": "NEWS2 total score, 0-20"})
    emergency = fields.Boolean(
        metadata={"description": "NEWS2 7 or more, or an emergency sign: 999 advice"}
    )
    message_id = fields.String(allow_none=True)
    completed_at = fields.String(allow_none=True)
    completed_by = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)


class WorklistSchema(ResponseSchema):
    items = fields.List(fields.Nested(CallbackTaskSchema))


class CompleteTaskSchema(StrictSchema):
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=MAX_OUTCOME))


@blp.route("/worklist")
@require_roles("navigator", "admin")
@blp.response(200, WorklistSchema)
def worklist() -> ResponseReturnValue:
    """Open call-back tasks: urgent first, then oldest first."""
    return jsonify({"items": open_callback_tasks(current_session())})


@blp.route("/worklist/<int:task_id>/complete", methods=["POST"])
@require_roles("navigator", "admin")
@blp.arguments(CompleteTaskSchema())
@blp.response(200, CallbackTaskSchema)
@problems(409)
def complete(body: dict[str, Any], task_id: int) -> ResponseReturnValue:
    """Mark a call-back task done, saying what happened."""
    session = current_session()
    with transaction(session):
        task = complete_callback_task(
            session, task_id, by=current_caller().label, outcome=body["outcome"], now=utcnow()
        )
    return jsonify(task)
