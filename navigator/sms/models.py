"""The SMS outbox (one row per message), replies, call-back tasks, and the observations care
homes send in their replies (a NEWS2 score)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow

# A message moves forward only: scheduled -> sending -> sent -> delivered | undelivered | failed.
# `cancelled` ends a scheduled message whose care home opted out before it was sent.
SCHEDULED, SENDING, SENT = "scheduled", "sending", "sent"
DELIVERED, UNDELIVERED, FAILED, CANCELLED = "delivered", "undelivered", "failed", "cancelled"
MESSAGE_STATUSES = (SCHEDULED, SENDING, SENT, DELIVERED, UNDELIVERED, FAILED, CANCELLED)
FINAL_STATUSES = (DELIVERED, UNDELIVERED, FAILED, CANCELLED)

# How a reply reads (navigator.sms.grammar): news2 and soft_signs since issue 17.
REPLY_KINDS = ("well", "call_back", "free_text", "stop", "start", "news2", "soft_signs")
TASK_OPEN, TASK_DONE = "open", "done"
TASK_REASONS = ("call_back", "free_text", "not_delivered", "news2", "soft_signs")

# The observation a care home's reply can carry: a NEWS2 total score (SNOMED CT
# 1104051000000101 |Royal College of Physicians National Early Warning Score 2 (NEWS2) total
# score|, UK clinical extension).
SNOMED_CT = "http://snomed.info/sct"
NEWS2_TOTAL_SCORE = "1104051000000101"
NEWS2_TOTAL_SCORE_DISPLAY = "NEWS2 total score"


class SmsMessage(Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        # One message per follow-up of a navigation, whatever retries or double scheduling.
        UniqueConstraint("navigation_id", "follow_up", name="uq_sms_messages_navigation_follow_up"),
        Index("ix_sms_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_sms_messages_to_number_created_at", "to_number", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # navigator's own id
    # NULL only for an automatic reply to a text that matched no follow-up (`reply_id`).
    navigation_id: Mapped[str | None] = mapped_column(ForeignKey("navigations.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("services.id"))  # the care home
    # The follow-up's id in the config file, or `reply-<id>` for an automatic reply.
    follow_up: Mapped[str] = mapped_column(String(60))
    # The reply (sms_replies.id) this message automatically answers (NEWS2 / soft signs): one
    # answer per reply. No foreign key: sms_replies already points here (message_id), and a
    # cycle of foreign keys would leave the tables with no order to create them in.
    reply_id: Mapped[int | None] = mapped_column(unique=True)
    to_number: Mapped[str] = mapped_column(String(20))  # E.164
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=SCHEDULED)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the sending lease
    twilio_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsReply(Base):
    """An inbound text, attached to the follow-up (and navigation) it answers when one matches."""

    __tablename__ = "sms_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    twilio_sid: Mapped[str] = mapped_column(String(40), unique=True)  # Twilio retries: once
    from_number: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(ForeignKey("sms_messages.id"), index=True)
    navigation_id: Mapped[str | None] = mapped_column(ForeignKey("navigations.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What the reply said besides its kind (navigator.sms.grammar): soft sign codes, and why
    # something that looked like a NEWS2 score was not read as one.
    soft_signs: Mapped[list[str] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(200))
    # A reply that matched no follow-up, linked to a call by a navigator: who and when.
    linked_by: Mapped[str | None] = mapped_column(String(200))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CallbackTask(Base):
    """A navigator must ring the care home: it replied `2` or in free text, or a follow-up was
    not delivered (so nobody else will notice)."""

    __tablename__ = "sms_callback_tasks"
    __table_args__ = (Index("ix_sms_callback_tasks_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("sms_replies.id"), unique=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("sms_messages.id"), unique=True)
    navigation_id: Mapped[str | None] = mapped_column(ForeignKey("navigations.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(20))  # see TASK_REASONS
    # NEWS2 of 5 or more, a soft sign, or a score that could not be read: top of the worklist.
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(10), default=TASK_OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(Text)


class CareHomeObservation(Base):
    """A clinical observation a care home sent by text: today only a NEWS2 total score
    (`code_system` SNOMED_CT, `code` NEWS2_TOTAL_SCORE, `value` 0–20, no unit).

    `effective_at` is when the text arrived: the home's own observation time is not in the
    text, and is at most minutes earlier. Linked to the reply it came in, the follow-up text
    it answered and the call (navigation) and resident (patient) that follow-up was about,
    when known; a navigator linking an unmatched reply to a call fills these in."""

    __tablename__ = "care_home_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("sms_replies.id"), unique=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("sms_messages.id"), index=True)
    navigation_id: Mapped[str | None] = mapped_column(ForeignKey("navigations.id"), index=True)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(String(100))  # the care home
    code_system: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(20))
    value: Mapped[int] = mapped_column()
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
