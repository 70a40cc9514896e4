"""Twilio's webhooks: delivery receipts and inbound texts. Unauthenticated except for the
`X-Twilio-Signature`, which is checked against PUBLIC_BASE_URL (a TLS-terminating proxy
changes `request.url`) before anything is read or recorded.

Bodies over MAX_REQUEST_BYTES are refused with 413 by `navigator.web.edge` before the
signature is even computed; form fields are read only after it, and NUL characters (which
PostgreSQL cannot store, and which the texter cannot correct) are dropped from them. Each
field is then checked against the column it is written to (InboundSmsSchema,
StatusCallbackSchema): too long is 422 naming the field, never a 500 in the database."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from twilio.request_validator import RequestValidator

from navigator.core.db import retry_on_conflict, transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.schemas import field_messages
from navigator.sms.clients.twilio import INBOUND_PATH, STATUS_PATH, delivery_status
from navigator.sms.outbox import apply_receipt
from navigator.sms.reference import FOLLOW_UP_PLAN
from navigator.sms.replies import record_reply
from navigator.web.access import signed

blp = Blueprint("twilio_webhooks", __name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# Twilio's SIDs are 34 characters; the columns hold 40 (SmsMessage/SmsReply.twilio_sid).
SID = validate.Length(min=1, max=40)


class _TwilioForm(Schema):
    class Meta:
        unknown = EXCLUDE  # Twilio sends many more fields than navigator reads


class InboundSmsSchema(_TwilioForm):
    """The fields of an inbound text that navigator keeps (`SmsReply`)."""

    MessageSid = fields.String(required=True, validate=SID)
    # A sender that is not a UK mobile is kept cut to the column's 20 characters
    # (`normalise_sender`) rather than refused: a text from an odd number must still reach
    # a person. 100 is far beyond any number or alphanumeric sender Twilio passes on.
    From = fields.String(required=True, validate=validate.Length(min=1, max=100))
    # Never refused for its length: `record_reply` keeps the first 1600 characters (Twilio's
    # longest message; the column is Text). The bound is the request body limit's default.
    Body = fields.String(load_default="", validate=validate.Length(max=1024 * 1024))


class StatusCallbackSchema(_TwilioForm):
    """The fields of a delivery receipt that navigator reads."""

    MessageSid = fields.String(validate=SID)
    MessageStatus = fields.String(validate=validate.Length(max=40))  # looked up, not kept
    ErrorCode = fields.String(validate=validate.Length(max=20))  # kept in last_error (200)


def twilio_form(schema: Schema, renames: dict[str, str]) -> dict[str, Any]:
    """The form's fields (NUL-free; `renames` gives the older names, `SmsSid` for
    `MessageSid`) loaded through `schema`; raises Problem 422 naming each wrong field."""
    values: dict[str, Any] = {}
    for name in schema.fields:
        text = form_text(name)
        if text is None and name in renames:
            text = form_text(renames[name])
        if text:
            values[name] = text
    try:
        return schema.load(values)
    except ValidationError as exc:
        errors = field_messages(exc)
        detail = "; ".join(f"{field}: {' '.join(texts)}" for field, texts in errors.items())
        raise Problem(422, detail, errors=errors) from exc


def signed_url() -> str:
    """The URL Twilio called, as it saw it: the public base URL, our path and the query."""
    query = request.query_string.decode("latin-1")
    return current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")


def form_text(name: str) -> str | None:
    """A form field from Twilio, without NUL characters; None when absent."""
    value = request.form.get(name)
    return None if value is None else value.replace("\x00", "")


# Who signs the webhooks (navigator.web.access): checked before anything is read.
TWILIO = "Twilio: X-Twilio-Signature with TWILIO_AUTH_TOKEN over PUBLIC_BASE_URL"


def require_twilio_signature() -> None:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        raise Problem(403, "Missing or invalid X-Twilio-Signature.")
    if not RequestValidator(token).validate(signed_url(), request.form, signature):
        raise Problem(403, "Missing or invalid X-Twilio-Signature.")


@blp.route(STATUS_PATH, methods=["POST"])
@signed(TWILIO, require_twilio_signature)
def status_callback() -> ResponseReturnValue:
    """A delivery receipt for a message navigator sent."""
    form = twilio_form(
        StatusCallbackSchema(), {"MessageSid": "SmsSid", "MessageStatus": "SmsStatus"}
    )
    receipt = delivery_status(form.get("MessageStatus", ""), form.get("ErrorCode"))
    if receipt is None:  # a status navigator does not track: nothing to record
        return Response(status=204)
    status, error = receipt
    session = current_session()
    with transaction(session):
        apply_receipt(
            session,
            message_id=request.args.get("message_id"),
            sid=form.get("MessageSid"),
            status=status,
            error=error,
            now=utcnow(),
        )
    return Response(status=204)


@blp.route(INBOUND_PATH, methods=["POST"])
@signed(TWILIO, require_twilio_signature)
def inbound() -> ResponseReturnValue:
    """A text from a care home; answered with empty TwiML (no automatic reply)."""
    if not (form_text("MessageSid") or form_text("SmsSid")) or not form_text("From"):
        raise Problem(400, "MessageSid and From are required.")
    form = twilio_form(InboundSmsSchema(), {"MessageSid": "SmsSid"})
    session, now = current_session(), utcnow()

    def once() -> None:
        record_reply(
            session,
            sid=form["MessageSid"],
            from_number=form["From"],
            body=form["Body"],
            now=now,
            window=FOLLOW_UP_PLAN.get().reply_window,
        )

    # Twilio retries a slow webhook, so the same MessageSid can arrive twice at once: the
    # loser of the unique twilio_sid reruns and finds the reply already recorded.
    retry_on_conflict(session, once)
    return Response(EMPTY_TWIML, mimetype="text/xml")
