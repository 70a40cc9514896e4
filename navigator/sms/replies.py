"""Inbound texts: attach each to the care home's latest follow-up, honour STOP and START, and
put anything that needs a person (a `2`, or words) on the navigators' worklist."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.identifiers import uk_mobile_e164
from navigator.sms.models import SmsMessage, SmsReply
from navigator.sms.recipients import homes_with_number, opt_out_number
from navigator.sms.worklist import create_callback_task

log = logging.getLogger(__name__)

# The keywords carriers and Twilio treat as opt-out and opt-in (upper-cased, trimmed).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})


def classify(body: str) -> str:
    """`well` (1), `call_back` (2), `stop`, `start`, or `free_text`."""
    text = body.strip().rstrip(".!").strip().upper()
    if text == "1":
        return "well"
    if text == "2":
        return "call_back"
    if text in STOP_WORDS:
        return "stop"
    if text in START_WORDS:
        return "start"
    return "free_text"


def normalise_sender(number: str) -> str:
    try:
        return uk_mobile_e164(number)
    except ValueError:
        return number.strip()[:20]


def latest_follow_up(
    session: Session, number: str, *, now: datetime, window: timedelta
) -> SmsMessage | None:
    """The most recent follow-up that went (or was going) to this number within the window."""
    return session.scalar(
        select(SmsMessage)
        .where(
            SmsMessage.to_number == number,
            SmsMessage.sent_at.is_not(None),
            SmsMessage.sent_at >= now - window,
        )
        .order_by(SmsMessage.sent_at.desc(), SmsMessage.id.desc())
        .limit(1)
    )


def record_reply(
    session: Session,
    *,
    sid: str,
    from_number: str,
    body: str,
    now: datetime,
    window: timedelta,
) -> SmsReply:
    """Record an inbound text once (Twilio may retry the webhook) and act on it, in the
    caller's transaction."""
    existing = session.scalar(select(SmsReply).where(SmsReply.twilio_sid == sid))
    if existing is not None:
        return existing
    number = normalise_sender(from_number)
    kind = classify(body)
    message = latest_follow_up(session, number, now=now, window=window)
    homes = homes_with_number(session, number)
    service_id = message.service_id if message else (homes[0].id if homes else None)
    reply = SmsReply(
        twilio_sid=sid,
        from_number=number,
        body=body[:1600],
        kind=kind,
        message_id=message.id if message else None,
        navigation_id=message.navigation_id if message else None,
        service_id=service_id,
        received_at=now,
    )
    session.add(reply)
    session.flush()
    if kind in ("stop", "start"):
        opt_out_number(session, number, opted_out=kind == "stop", by=f"sms:{kind}", now=now)
    elif kind in ("call_back", "free_text"):
        # Even with no matching follow-up (or an unknown number) a person must see it.
        create_callback_task(
            session,
            reason=kind,
            now=now,
            navigation_id=reply.navigation_id,
            service_id=service_id,
            reply_id=reply.id,
        )
    log.info("sms reply %s: %s, matched=%s", reply.id, kind, message is not None)
    return reply
