"""One call's story in time order: routed, decided, referred, and what happened next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.console.formatting import label, person, when, words
from navigator.directory.reference import service_names
from navigator.navigation.models import Navigation
from navigator.referrals.models import Referral, ReferralEvent
from navigator.sms.history import navigation_timeline

# A title for each follow-up text event of `sms.history.navigation_timeline`: "text_" and a
# final message status, "reply_" and a reply kind (`sms.models.REPLY_KINDS`: a test checks
# every kind has one), the call-back task's two.
SMS_TITLES = {
    "text_scheduled": "Follow-up text scheduled",
    "text_sent": "Follow-up text sent",
    "text_delivered": "Follow-up text delivered",
    "text_undelivered": "Follow-up text NOT delivered",
    "text_failed": "Follow-up text FAILED",
    "text_cancelled": "Follow-up text cancelled",
    "reply_well": "Care home replied: resident well",
    "reply_call_back": "Care home replied: please call back",
    "reply_free_text": "Care home replied",
    "reply_news2": "Care home sent a NEWS2 score",
    "reply_soft_signs": "Care home reported soft signs of deterioration",
    "reply_stop": "Care home replied STOP",
    "reply_start": "Care home replied START",
    "callback_opened": "Call-back task opened",
    "callback_completed": "Call-back task completed",
}


@dataclass(frozen=True)
class Moment:
    """One line of a call's story: when (an aware instant), what, the detail in words, and who
    did it by name (`formatting.person`; None for what the system did by itself)."""

    at: datetime
    title: str
    detail: str
    by: str | None = None


def _sms_detail(item: dict[str, Any]) -> str:
    """A follow-up text's timeline detail (`sms.history.navigation_timeline`) in words: times
    on the London clock, codes by label, people by name."""
    event = item["event"]
    if event == "text_scheduled":
        # The follow-up's id ("ucr-4h") is configuration, not words for a navigator.
        what = "Automatic reply" if item["follow_up"].startswith("reply-") else "Follow-up text"
        return f"{what} due {when(item['due_at'])} to {item['to']}"
    if event == "text_sent":
        return f"Attempt {item['attempts']}"
    if event == "callback_opened":
        return label("task_reasons", item["reason"])
    if event == "callback_completed":
        return f"{person(item['actor'])}: {item['outcome'] or 'no outcome recorded'}"
    return item.get("error") or item.get("body") or ""


def call_timeline(session: Session, navigation: Navigation) -> list[Moment]:
    """The call's moments in time order, every code by its label and every service and person
    by name (issue 17): routed, decided, each referral status change, each follow-up text."""
    names = service_names()

    def service(service_id: str | None) -> str:
        return names.get(service_id or "", "") or "another service"

    result = navigation.result
    moments = [
        Moment(
            navigation.created_at,
            "Call routed",
            f"{label('urgencies', result['urgency'])}: "
            f"{result['recommendation']['service']['name']}",
            person(navigation.created_by),
        )
    ]
    if navigation.decided_at is not None:
        if navigation.decision == "overridden":
            detail = f"Chose {service(navigation.chosen_service_id)}: {navigation.override_reason}"
        else:
            detail = "Accepted the recommendation"
        moments.append(
            Moment(
                navigation.decided_at,
                f"Recommendation {label('decisions', navigation.decision).lower()}",
                detail,
                person(navigation.decided_by),
            )
        )
    events = session.execute(
        select(ReferralEvent, Referral.service_id)
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(Referral.navigation_id == navigation.id)
    )
    for event, service_id in events:
        to_status = label("referral_statuses", event.to_status)
        if event.from_status:
            # "Sent to on hold" read as "sent to a service" (second-look review of issue 17).
            change = (
                f"status changed from {label('referral_statuses', event.from_status).lower()} "
                f"to {to_status.lower()}"
            )
        else:
            change = to_status
        detail = f"{service(service_id)}: {change}"
        reason = label("rejection_reasons", event.reason) if event.reason else None
        extra = [text for text in (reason, event.note, event.outcome) if text]
        if extra:
            detail += f" ({'; '.join(extra)})"
        moments.append(
            Moment(event.at, f"Referral {to_status.lower()}", detail, person(event.actor))
        )
    for item in navigation_timeline(session, navigation.id):
        title = SMS_TITLES.get(item["event"], words(item["event"]))
        moments.append(Moment(datetime.fromisoformat(item["at"]), title, _sms_detail(item), None))
    return sorted(moments, key=lambda moment: moment.at)
