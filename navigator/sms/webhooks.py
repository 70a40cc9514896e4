"""Twilio's webhooks: delivery receipts and inbound texts. Unauthenticated except for the
`X-Twilio-Signature`, which is checked against PUBLIC_BASE_URL (a TLS-terminating proxy
changes `request.url`) before anything is read or recorded.

Bodies over MAX_REQUEST_BYTES are refused with 413 by `navigator.api.edge` before the
signature is even computed; form fields are read only after it, and NUL characters (which
PostgreSQL cannot store, and which the texter cannot correct) are dropped from them."""

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


def form_text(name: str) -> str | None:
    """A form field from Twilio, without NUL characters; None when absent."""
    value = request.form.get(name)
    return None if value is None else value.replace("\x00", "")


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
            sid=form_text("MessageSid") or form_text("SmsSid"),
            twilio_status=form_text("MessageStatus") or form_text("SmsStatus") or "",
            error_code=form_text("ErrorCode"),
            now=utcnow(),
        )
    return Response(status=204)


@blp.route(INBOUND_PATH, methods=["POST"])
def inbound() -> ResponseReturnValue:
    """A text from a care home; answered with empty TwiML (no automatic reply)."""
    require_twilio_signature()
    sid = form_text("MessageSid") or form_text("SmsSid")
    from_number = form_text("From")
    if not sid or not from_number:
        raise Problem(400, "MessageSid and From are required.")
    session = current_session()
    with transaction(session):
        record_reply(
            session,
            sid=sid,
            from_number=from_number,
            body=form_text("Body") or "",
            now=utcnow(),
            window=current_follow_ups().reply_window,
        )
    return Response(EMPTY_TWIML, mimetype="text/xml")
