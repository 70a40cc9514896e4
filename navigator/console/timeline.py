"""One call's story in time order: routed, decided, referred, and what happened next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.navigation.models import Navigation
from navigator.referrals.models import Referral, ReferralEvent
from navigator.sms.history import navigation_timeline

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
    "reply_stop": "Care home replied STOP",
    "reply_start": "Care home replied START",
    "callback_opened": "Call-back task opened",
    "callback_completed": "Call-back task completed",
}


@dataclass(frozen=True)
class Moment:
    at: datetime
    title: str
    detail: str
    by: str | None = None


def call_timeline(session: Session, navigation: Navigation) -> list[Moment]:
    result = navigation.result
    moments = [
        Moment(
            navigation.created_at,
            "Call routed",
            f"{result['urgency'].replace('_', ' ')}: "
            f"{result['recommendation']['service']['name']} (rule {navigation.rule_id})",
            navigation.created_by,
        )
    ]
    if navigation.decided_at is not None:
        if navigation.decision == "overridden":
            detail = f"Chose {navigation.chosen_service_id}: {navigation.override_reason}"
        else:
            detail = "Accepted the recommendation"
        moments.append(
            Moment(
                navigation.decided_at,
                f"Recommendation {navigation.decision}",
                detail,
                navigation.decided_by,
            )
        )
    events = session.execute(
        select(ReferralEvent, Referral.service_id)
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(Referral.navigation_id == navigation.id)
    )
    for event, service_id in events:
        detail = f"{service_id}: {event.from_status or 'new'} → {event.to_status}"
        extra = [text for text in (event.reason, event.note, event.outcome) if text]
        if extra:
            detail += f" ({'; '.join(extra)})"
        moments.append(Moment(event.at, "Referral " + event.to_status, detail, event.actor))
    for item in navigation_timeline(session, navigation.id):
        title = SMS_TITLES.get(item["event"], item["event"].replace("_", " ").capitalize())
        moments.append(
            Moment(datetime.fromisoformat(item["at"]), title, item.get("detail") or "", None)
        )
    return sorted(moments, key=lambda moment: moment.at)
