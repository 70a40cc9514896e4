"""When texts are due: which follow-ups a navigation gets and when each is due, never in quiet
hours (Europe/London); written to the outbox in the navigation's own transaction (persist
first, send second). The outbox (`navigator.sms.outbox`) uses the same quiet-hours rule for
retries; the process that sends what is due is `navigator.sms.worker`."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from navigator.core.clock import to_local, to_utc
from navigator.sms.models import SCHEDULED, SmsMessage
from navigator.sms.plan import REF_MAX, FollowUpPlan, QuietHours
from navigator.sms.recipients import sms_recipient

PLAIN_REF = re.compile(rf"^[A-Za-z0-9/-]{{1,{REF_MAX}}}$")


def in_quiet_hours(at: datetime, quiet: QuietHours) -> bool:
    """Whether `at` (aware) falls in the quiet hours on the Europe/London wall clock."""
    local = to_local(at)
    return quiet.contains(local.hour * 60 + local.minute)


def out_of_quiet_hours(at: datetime, quiet: QuietHours) -> datetime:
    """`at`, or the end of the quiet hours it falls in (Europe/London wall clock, so 08:00 is
    08:00 GMT in winter and 08:00 BST in summer)."""
    if not in_quiet_hours(at, quiet):
        return at
    local = to_local(at)
    minute = local.hour * 60 + local.minute
    day = local.date()
    if quiet.start > quiet.end and minute >= quiet.start:  # evening: the end is tomorrow
        day += timedelta(days=1)
    end = datetime(day.year, day.month, day.day, quiet.end // 60, quiet.end % 60)
    return to_utc(end)


def reference(navigation: Mapping[str, Any]) -> str:
    """What the text calls the navigation: a short plain case reference, else the id's start."""
    case_ref = navigation.get("case_ref")
    if case_ref and PLAIN_REF.match(case_ref):
        return str(case_ref)
    return str(navigation["id"])[:8].upper()


def schedule_follow_ups(
    session: Session, plan: FollowUpPlan, navigation: Mapping[str, Any], *, now: datetime
) -> list[dict[str, Any]]:
    """Outbox rows for a just-recorded navigation (a care-home resident's), in the caller's
    transaction; returns them as the API lists them."""
    if not navigation.get("lives_in_care_home"):
        return []
    home = sms_recipient(session, navigation.get("care_home_service_id"))
    if home is None:
        return []
    rules = plan.rules_for(
        urgency=navigation["urgency"], service_type=navigation.get("recommended_service_type")
    )
    ref = reference(navigation)
    rows = []
    for rule in rules:
        due = out_of_quiet_hours(now + rule.after, plan.quiet_hours)
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "navigation_id": navigation["id"],
                "service_id": home.id,
                "follow_up": rule.id,
                "to_number": home.sms_number,
                "body": plan.render(rule, ref),
                "status": SCHEDULED,
                "due_at": due,
                "next_attempt_at": due,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        session.execute(insert(SmsMessage), rows)
    return [
        {
            "id": r["id"],
            "due_at": r["due_at"].isoformat(),
            "status": SCHEDULED,
            "to": r["to_number"],
        }
        | {"replies": []}
        for r in rows
    ]
