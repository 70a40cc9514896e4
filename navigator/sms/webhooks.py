"""Twilio's webhooks: delivery receipts and inbound texts. Unauthenticated except for the
`X-Twilio-Signature`, which is checked against PUBLIC_BASE_URL (a TLS-terminating proxy
changes `request.url`) before anything is read or recorded."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from twilio.request_validator import RequestValidator

from navigator.db import transaction, utcnow
from navigator.errors import Problem
from navigator.extensions import current_session
from navigator.sms.config import current_follow_ups
from navigator.sms.replies import record_reply
from navigator.sms.sender import INBOUND_PATH, STATUS_PATH, apply_status_callback

blp = Blueprint("twilio_webhooks", __name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signed_url() -> str:
    """The URL Twilio called, as it saw it: the public base URL, our path and the query."""
    query = request.query_string.decode("latin-1")
    return current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")


def require_twilio_signature() -> None:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        raise Problem(403, "Missing or invalid X-Twilio-Signature.")
    if not RequestValidator(token).validate(signed_url(), request.form, signature):
        raise Problem(403, "Missing or invalid X-Twilio-Signature.")


@blp.route(STATUS_PATH, methods=["POST"])
def status_callback() -> ResponseReturnValue:
    """A delivery receipt for a message navigator sent."""
    require_twilio_signature()
    session = current_session()
    with transaction(session):
        apply_status_callback(
            session,
            message_id=request.args.get("message_id"),
            sid=request.form.get("MessageSid") or request.form.get("SmsSid"),
            twilio_status=request.form.get("MessageStatus") or request.form.get("SmsStatus", ""),
            error_code=request.form.get("ErrorCode"),
            now=utcnow(),
        )
    return Response(status=204)


@blp.route(INBOUND_PATH, methods=["POST"])
def inbound() -> ResponseReturnValue:
    """A text from a care home; answered with empty TwiML (no automatic reply)."""
    require_twilio_signature()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    if not sid or not request.form.get("From"):
        raise Problem(400, "MessageSid and From are required.")
    session = current_session()
    with transaction(session):
        record_reply(
            session,
            sid=sid,
            from_number=request.form["From"],
            body=request.form.get("Body", ""),
            now=utcnow(),
            window=current_follow_ups().reply_window,
        )
    return Response(EMPTY_TWIML, mimetype="text/xml")
