"""The SMS outbox (one row per message), replies, and call-back tasks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow

# A message moves forward only: scheduled -> sending -> sent -> delivered | undelivered | failed.
# `cancelled` ends a scheduled message whose care home opted out before it was sent.
SCHEDULED, SENDING, SENT = "scheduled", "sending", "sent"
DELIVERED, UNDELIVERED, FAILED, CANCELLED = "delivered", "undelivered", "failed", "cancelled"
MESSAGE_STATUSES = (SCHEDULED, SENDING, SENT, DELIVERED, UNDELIVERED, FAILED, CANCELLED)
FINAL_STATUSES = (DELIVERED, UNDELIVERED, FAILED, CANCELLED)

REPLY_KINDS = ("well", "call_back", "free_text", "stop", "start")
TASK_OPEN, TASK_DONE = "open", "done"
TASK_REASONS = ("call_back", "free_text", "not_delivered")


class SmsMessage(Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        # One message per follow-up of a navigation, whatever retries or double scheduling.
        UniqueConstraint("navigation_id", "follow_up", name="uq_sms_messages_navigation_follow_up"),
        Index("ix_sms_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_sms_messages_to_number_created_at", "to_number", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # navigator's own id
    navigation_id: Mapped[str] = mapped_column(ForeignKey("navigations.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"))  # the care home
    follow_up: Mapped[str] = mapped_column(String(60))  # the follow-up's id in the config file
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
    status: Mapped[str] = mapped_column(String(10), default=TASK_OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(Text)
