"""What the care navigator did with a recommendation: accepted it, or chose another service.

Both hand the case over as a referral. An override needs a reason in words, so that
supervisors can see on the dashboard where the rules and the navigators disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.directory.index import DirectoryIndex
from navigator.directory.places import Gazetteer
from navigator.errors import Problem, field_error
from navigator.metrics.cisp import OUT_OF_AREA
from navigator.navigation.models import Navigation
from navigator.referrals.models import Referral
from navigator.referrals.service import create_referral

MIN_OVERRIDE_REASON = 10
DECISIONS = ("accepted", "overridden")


def decide(
    session: Session,
    navigation: Navigation,
    *,
    service_id: str | None,
    override_reason: str | None,
    caller: Caller,
    index: DirectoryIndex,
    gazetteer: Gazetteer,
    ack_minutes: Mapping[str, int],
    now: datetime,
) -> Referral | None:
    """Record the decision and make the referral; None when the answer is a national number.

    The referral commits first under the idempotency key `navigation:<id>`, so a repeated
    click (or a retry after a crash between the two commits) never makes a second referral.
    """
    if navigation.decision is not None:
        raise Problem(409, "This call's recommendation has already been decided.")
    chosen = service_id or navigation.recommended_service_id
    overriding = chosen != navigation.recommended_service_id
    reason = (override_reason or "").strip()
    if overriding and len(reason) < MIN_OVERRIDE_REASON:
        raise field_error(
            "override_reason",
            f"Say why you chose a different service (at least {MIN_OVERRIDE_REASON} characters)",
        )
    referral = None
    if chosen is not None and chosen in index.by_id:
        if navigation.patient_id is None:
            raise field_error("patient_id", "Record the patient's details before referring")
        referral, _ = create_referral(
            session,
            {
                "service_id": chosen,
                "navigation_id": navigation.id,
                "patient_id": navigation.patient_id,
                "urgency": navigation.urgency,
                "reason": reason if overriding else _accepted_reason(navigation),
                "notes": navigation.notes,
            },
            caller=caller,
            idempotency_key=f"navigation:{navigation.id}",
            index=index,
            gazetteer=gazetteer,
            ack_minutes=ack_minutes,
            now=now,
        )
    elif overriding:
        raise field_error("service_id", "No service with this id in the directory")
    navigation.decision = "overridden" if overriding else "accepted"
    navigation.chosen_service_id = chosen
    navigation.override_reason = reason if overriding else None
    navigation.decided_by = caller.label
    navigation.decided_at = now
    session.commit()
    return referral


def _accepted_reason(navigation: Navigation) -> str:
    need = (navigation.need or "red flag").replace("_", " ")
    return f"Care navigation ({need}): recommended by rule {navigation.rule_id}"


def override_counts(session: Session, months: tuple[str, str]) -> dict[tuple[str, str], int]:
    """Overrides per (place, month), for the dashboard."""
    rows = session.execute(
        select(Navigation.place, Navigation.local_month, func.count())
        .where(
            Navigation.decision == "overridden",
            Navigation.local_month.between(*months),
        )
        .group_by(Navigation.place, Navigation.local_month)
    )
    return {(place or OUT_OF_AREA, month): count for place, month, count in rows}


def recent_overrides(session: Session, *, limit: int = 50) -> list[Navigation]:
    return list(
        session.scalars(
            select(Navigation)
            .where(Navigation.decision == "overridden")
            .order_by(Navigation.decided_at.desc())
            .limit(limit)
        )
    )
