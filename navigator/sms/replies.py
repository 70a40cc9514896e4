"""Inbound texts: attach each to the care home's latest follow-up, honour STOP and START, read
what it says (`navigator.sms.grammar`: 1, 2, a NEWS2 score, soft signs, free text), and put
anything that needs a person on the navigators' worklist, urgent first.

A NEWS2 score is kept as an observation (`CareHomeObservation`, SNOMED CT 1104051000000101).
A score of 5 or more, or a soft or emergency sign, opens an urgent call-back task and queues
one automatic reply through the SMS outbox to the same number (`AUTO_REPLY_URGENT`, or
`AUTO_REPLY_EMERGENCY` for 7 or more or an emergency sign), unless the number has opted out
or had one in the last 10 minutes (the reply's note then says so). Everything happens in the
caller's transaction, once per Twilio MessageSid: a retried webhook finds the reply already
recorded and does nothing more.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from navigator.core.identifiers import uk_mobile_e164
from navigator.sms.grammar import ParsedReply, parse_reply
from navigator.sms.models import (
    NEWS2_TOTAL_SCORE,
    SCHEDULED,
    SNOMED_CT,
    CareHomeObservation,
    SmsMessage,
    SmsReply,
)
from navigator.sms.recipients import homes_with_number, opt_out_number
from navigator.sms.worklist import create_callback_task

log = logging.getLogger(__name__)

# The automatic replies (issue 17 §5), to the sender's own number. `{ref}` is the reply's
# reference (`R` and its id), so two automatic replies to one number differ in body (the
# outbox finds a retried message at the provider by number and exact body). Worded so that
# `parse_reply` reads neither as a score or a sign (no NEWS, no "N" and digits, no sign
# phrase): a peer that echoes texts back cannot start a loop (tests/sms/test_replies.py).
AUTO_REPLY_URGENT = (
    "NHS BLMK care navigation, ref {ref}. A care navigator will call you. If the resident "
    "gets worse, call 111, or 999 in an emergency."
)
AUTO_REPLY_EMERGENCY = (
    "NHS BLMK care navigation, ref {ref}: from your text the resident may need emergency "
    "help. Call 999 now. A care navigator will also call you."
)
# At most one automatic reply per number in this time (the rest still open urgent tasks).
AUTO_REPLY_INTERVAL = timedelta(minutes=10)
# Why no automatic reply went, added to the reply's note for the worklist.
NO_REPLY_OPTED_OUT = "No automatic reply: this number has opted out of texts (STOP)"
NO_REPLY_RECENT = "No automatic reply: one went to this number in the last 10 minutes"
NO_REPLY_NUMBER = "No automatic reply: the sender's number cannot be texted"

# Sms sits below navigation in the layers, so the resident of a call is read from the
# navigations table by name (as referrals do), with only the columns used here;
# tests/sms/test_replies.py checks they exist in `Navigation`.
NAVIGATIONS = table("navigations", column("id"), column("patient_id"))


def normalise_sender(number: str) -> str:
    try:
        return uk_mobile_e164(number)
    except ValueError:
        return number.strip()[:20]


def latest_follow_up(
    session: Session, number: str, *, now: datetime, window: timedelta
) -> SmsMessage | None:
    """The most recent follow-up that went (or was going) to this number within the window.
    Automatic replies are not follow-ups: a reply is never attached to one."""
    return session.scalar(
        select(SmsMessage)
        .where(
            SmsMessage.to_number == number,
            SmsMessage.reply_id.is_(None),
            SmsMessage.sent_at.is_not(None),
            SmsMessage.sent_at >= now - window,
        )
        .order_by(SmsMessage.sent_at.desc(), SmsMessage.id.desc())
        .limit(1)
    )


def _task_reason(parsed: ParsedReply) -> tuple[str, bool] | None:
    """The call-back task a reply opens, as (reason, urgent), or None (1, STOP, START)."""
    if parsed.kind in ("well", "stop", "start"):
        return None
    if parsed.kind == "free_text":
        # A score the home tried to give but that could not be read is treated as urgent: the
        # home may be escalating, and a person must read it soon.
        return "free_text", parsed.unclear_score
    if parsed.kind == "call_back":
        return "call_back", False
    return parsed.kind, parsed.urgent or parsed.unclear_score


def patient_of(session: Session, navigation_id: str | None) -> str | None:
    """The resident (patient id) a call was about, if recorded."""
    if navigation_id is None:
        return None
    return session.scalar(select(NAVIGATIONS.c.patient_id).where(NAVIGATIONS.c.id == navigation_id))


def record_observation(
    session: Session, reply: SmsReply, score: int, *, now: datetime
) -> CareHomeObservation:
    """The reply's NEWS2 total score as an observation, effective when the text arrived."""
    observation = CareHomeObservation(
        reply_id=reply.id,
        message_id=reply.message_id,
        navigation_id=reply.navigation_id,
        patient_id=patient_of(session, reply.navigation_id),
        service_id=reply.service_id,
        code_system=SNOMED_CT,
        code=NEWS2_TOTAL_SCORE,
        value=score,
        effective_at=reply.received_at,
        recorded_at=now,
    )
    session.add(observation)
    return observation


def auto_reply_text(reply: SmsReply, *, emergency: bool) -> str:
    """The automatic reply's body for a reply (with its reference `R<id>`)."""
    return (AUTO_REPLY_EMERGENCY if emergency else AUTO_REPLY_URGENT).format(ref=f"R{reply.id}")


def _opted_out(session: Session, number: str) -> bool:
    """A home with this number has opted out (STOP, or the console's switch)."""
    return any(home.sms_opted_out_at is not None for home in homes_with_number(session, number))


def no_auto_reply_because(session: Session, number: str, *, now: datetime) -> str | None:
    """Why no automatic reply may go to `number` now (NO_REPLY_*), or None if one may."""
    try:
        number = uk_mobile_e164(number)
    except ValueError:
        return NO_REPLY_NUMBER
    if _opted_out(session, number):
        return NO_REPLY_OPTED_OUT
    recent = session.scalar(
        select(SmsMessage.id)
        .where(
            SmsMessage.to_number == number,
            SmsMessage.reply_id.is_not(None),
            SmsMessage.created_at > now - AUTO_REPLY_INTERVAL,
        )
        .limit(1)
    )
    return NO_REPLY_RECENT if recent is not None else None


def queue_auto_reply(
    session: Session, reply: SmsReply, *, emergency: bool, now: datetime
) -> SmsMessage | None:
    """One automatic reply to the reply's sender, in the outbox, due now (quiet hours do not
    apply: the home has just texted). None, with the reason added to the reply's note, when
    the sender is not a UK mobile number (an alphanumeric or foreign sender cannot be
    answered), has opted out (STOP), or had an automatic reply in the last
    AUTO_REPLY_INTERVAL (no loop with an echoing peer, no flood); the urgent task stands
    either way. The unique `reply_id` refuses a second for the same reply."""
    why = no_auto_reply_because(session, reply.from_number, now=now)
    if why is not None:
        reply.note = "; ".join(filter(None, (why, reply.note)))[:200]
        return None
    number = uk_mobile_e164(reply.from_number)
    message = SmsMessage(
        id=str(uuid.uuid4()),
        navigation_id=reply.navigation_id,
        service_id=reply.service_id,
        follow_up=f"reply-{reply.id}",
        reply_id=reply.id,
        to_number=number,
        body=auto_reply_text(reply, emergency=emergency),
        status=SCHEDULED,
        due_at=now,
        next_attempt_at=now,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    return message


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
    parsed = parse_reply(body)
    message = latest_follow_up(session, number, now=now, window=window)
    homes = homes_with_number(session, number)
    service_id = message.service_id if message else (homes[0].id if homes else None)
    reply = SmsReply(
        twilio_sid=sid,
        from_number=number,
        body=body[:1600],
        kind=parsed.kind,
        soft_signs=list(parsed.soft_signs) or None,
        note=parsed.note[:200] if parsed.note else None,
        message_id=message.id if message else None,
        navigation_id=message.navigation_id if message else None,
        service_id=service_id,
        received_at=now,
    )
    session.add(reply)
    session.flush()
    if parsed.kind in ("stop", "start"):
        opt_out_number(
            session, number, opted_out=parsed.kind == "stop", by=f"sms:{parsed.kind}", now=now
        )
    if (task := _task_reason(parsed)) is not None:
        # Even with no matching follow-up (or an unknown number) a person must see it.
        reason, urgent = task
        create_callback_task(
            session,
            reason=reason,
            urgent=urgent,
            now=now,
            navigation_id=reply.navigation_id,
            service_id=service_id,
            reply_id=reply.id,
        )
    if parsed.news2 is not None:
        record_observation(session, reply, parsed.news2, now=now)
    if parsed.urgent:
        queue_auto_reply(session, reply, emergency=parsed.emergency, now=now)
    session.flush()
    log.info(
        "sms reply %s: %s, matched=%s, urgent=%s",
        reply.id,
        parsed.kind,
        message is not None,
        parsed.urgent,
    )
    return reply
