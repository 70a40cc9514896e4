"""Create and read navigations: facts → rules → directory → a recorded recommendation."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from navigator.core.clock import local_month
from navigator.core.db import load_or_404, utcnow
from navigator.core.errors import Problem, field_error
from navigator.core.idempotency import KeyReused
from navigator.core.places import Located, Postcode
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import Vocabulary
from navigator.directory.capacity import capacities, red_service_ids
from navigator.directory.index import DirectoryIndex
from navigator.directory.reference import directory_index, stale_hours
from navigator.directory.search import render_item
from navigator.navigation.criteria import CRITERIA, Call
from navigator.navigation.models import Navigation, NavigationGap
from navigator.navigation.routing import Ranked, route
from navigator.patients.audit import audit
from navigator.rules.reference import RULESET
from navigator.rules.ruleset import Facts, RuleSet, evaluate
from navigator.sms.due import schedule_follow_ups
from navigator.sms.history import follow_ups_for
from navigator.sms.plan import FollowUpPlan
from navigator.sms.reference import FOLLOW_UP_PLAN

NAVIGATIONS = cast(Table, Navigation.__table__)
NAVIGATION_GAPS = cast(Table, NavigationGap.__table__)
# Built once: building an INSERT costs more than running it, and this runs on every call.
_INSERT_NAVIGATION, _INSERT_GAPS = insert(NAVIGATIONS), insert(NAVIGATION_GAPS)

# Last-resort answers when the directory itself has nothing (an empty or out-of-area directory):
# the national numbers are always a safe next step.
NATIONAL = {
    "ambulance_999": ("national-999", "Emergency ambulance (call 999)", "999"),
    "nhs_111": ("national-111", "NHS 111 (call 111)", "111"),
}


# A red-flag call is answered whatever else is missing (issue 13, hazard H10). Without a
# caller role it is routed as from a member of the public (`Facts.from_call` applies the rules'
# `CALLER_ROLE_IF_UNKNOWN`). Without a valid postcode it is routed from nowhere in particular
# (no place, no distance; the ambulance catch-all still answers) and recorded with an empty
# postcode.
NO_POSTCODE = Located.at(Postcode(text="", district="", inward=None), None, None, None)


def _national_item(service_type: str) -> dict[str, Any]:
    ident, name, phone = NATIONAL[service_type]
    return {
        "id": ident,
        "name": name,
        "public_name": name,
        "description": "National service, always available.",
        "organisation": {"name": "NHS England", "ods_code": None},
        "sector": "ambulance" if service_type == "ambulance_999" else "urgent_care",
        "service_type": service_type,
        "status": "active",
        "needs": [],
        "places": [],
        "location": None,
        "distance_km": None,
        "capacity": {"status": "green", "note": None, "updated_at": None, "stale": False},
        "open_now": True,
        "closes_at": None,
        "next_open": None,
        "opening_summary": "Open 24 hours, every day",
        "eligibility": {"min_age_days": 0, "max_age_days": None, "sex": "any", "caller_roles": []},
        "contact": {"public_phone": phone, "website": None, "professional_phone": None},
        "referral_method": "phone",
        "referral_info": None,
    }


def facts_for(body: Mapping[str, Any], located: Located) -> Facts:
    """The call's facts from what `NavigationRequestSchema` loaded (`age` in years, else
    `age_days`), at the place its postcode is in; defaults as `Facts.from_call`."""
    return Facts.from_call(
        need=body.get("need"),
        red_flags=body.get("red_flags"),
        caller_role=body.get("caller_role"),
        age_years=body.get("age"),
        age_days=body.get("age_days"),
        sex=body.get("sex"),
        place=located.place,
        at=body["at"],
        disposition=body.get("disposition"),
        lives_in_care_home=body.get("lives_in_care_home"),
    )


def _item(ranked: Ranked, at: datetime, located: Located) -> dict[str, Any]:
    """A service as the navigation shows it, **at the call's time `at`** (issue 13): `open_now`,
    `closes_at` and `next_open` say whether it is open at `at`, when it then closes, and when it
    next opens after `at`; the same instant every criterion and reason of the routing used.
    Capacity is the latest report, whatever `at` is."""
    assert ranked.capacity is not None
    item = render_item(ranked.entry, ranked.capacity, now=at, located=located, professional=True)
    closes_at = ranked.entry.schedule.closes_at(at) if item["open_now"] else None
    item["closes_at"] = closes_at.isoformat() if closes_at else None
    item["opens_at"] = ranked.opens_at.isoformat() if ranked.opens_at else None
    return item


@dataclass(frozen=True)
class Idempotency:
    """A navigation asked for under a client's `Idempotency-Key`: whose key
    (`Caller.client_ref`), the key, and the `request_hash` of the body as the client sent it."""

    client_ref: str
    key: str
    fingerprint: str


KEY_REUSED = KeyReused(
    "This Idempotency-Key was already used for a different navigation.", "idempotency_key_reused"
)


def replay_navigation(
    session: Session, idempotency: Idempotency, *, actor: str
) -> dict[str, Any] | None:
    """The navigation this client already made under this key, as `GET /navigations/{id}`
    shows it (the answer first given, follow-up texts as they are now), or None if the key is
    new. Raises Problem 409 `idempotency_key_reused` when the key came with another body.
    A replay is a read: audited like one when the call carries an NHS number.

    The unique constraint on (client_id, idempotency_key) settles a race between two sends of
    one key: the loser rolls back and, rerun by `core.db.retry_on_conflict`, replays."""
    existing = session.scalar(
        select(Navigation).where(
            Navigation.client_id == idempotency.client_ref,
            Navigation.idempotency_key == idempotency.key,
        )
    )
    if existing is None:
        return None
    if existing.request_hash != idempotency.fingerprint:  # `replay_or_conflict`'s rule
        raise Problem(409, KEY_REUSED.detail, code=KEY_REUSED.code)
    navigation = get_navigation(session, existing.id, actor=actor)
    return {
        "warnings": [],
        **navigation.result,
        "follow_ups": follow_ups_for(session, navigation.id),
    }


def navigate(  # returns the navigation as the API shows it
    session: Session,
    body: Mapping[str, Any],
    *,
    created_by: str,
    index: DirectoryIndex,
    ruleset: RuleSet,
    vocab: Vocabulary,
    now: datetime,
    stale_hours: int,
    follow_ups: FollowUpPlan | None = None,
    require_postcode: bool = True,
    idempotency: Idempotency | None = None,
) -> dict[str, Any]:
    """Route one call and record it, under `idempotency`'s key when given (the caller asks
    `replay_navigation` first). `body` is what `NavigationRequestSchema` loaded (its
    `warnings` go into the answer as they are). A call without a caller role or postcode is
    answered only when it has a red flag (the schema lets no other through); otherwise it is
    a 422 naming the field. `require_postcode=False`: a referral another system has already
    routed (a BaRS referral from NHS 111, issue 16) is recorded even when its patient's
    address gives no usable postcode, routed from nowhere in particular.

    `body` may also carry `symptom_group` and `symptom_discriminator` (NHS Pathways codes,
    e.g. SG1010, SD4389), stored on the navigation."""
    if not body.get("red_flags"):
        required = ("caller_role", "postcode") if require_postcode else ("caller_role",)
        for name in required:
            if body.get(name) is None:
                raise field_error(name, "Missing data for required field.")
    located: Located = body.get("postcode") or NO_POSTCODE
    care_home = body.get("care_home_service_id")
    if care_home is not None:
        entry = index.by_id.get(care_home)
        if entry is None or entry.service_type != "care_home":
            raise field_error("care_home_service_id", "Not a care home in the directory")
    in_care_home = bool(body.get("lives_in_care_home") or care_home)
    facts = facts_for({**body, "lives_in_care_home": in_care_home}, located)
    decision = evaluate(ruleset, facts)
    routing = route(
        index=index,
        ruleset=ruleset,
        decision=decision,
        call=Call(facts, located, body.get("gp_practice_ods")),
        red=red_service_ids(session, now),
        capacities=lambda ids: capacities(session, ids, now, stale_hours),
        vocab=vocab,
    )
    reasons = list(routing.reasons)
    if routing.best is not None:
        service = _item(routing.best, facts.at, located)
        reasons += routing.best.reasons
    else:
        national = "ambulance_999" if routing.urgency == "emergency" else "nhs_111"
        service = _national_item(national)
        reasons.append("No service in the directory can take this call; use the national number.")
    navigation_id = str(uuid.uuid4())
    fallback = routing.fallback or ("national" if routing.best is None else None)
    result: dict[str, Any] = {
        "id": navigation_id,
        "urgency": routing.urgency,
        "recommendation": {
            "service": service,
            "rule_id": decision.rule.id,
            "reasons": reasons,
            "fallback": fallback,
        },
        "alternatives": [
            {"service": _item(alt, facts.at, located), "reasons": alt.reasons}
            for alt in routing.alternatives
        ],
        "safety_netting": decision.rule.then.safety_netting,
        "gaps": [
            {
                "service_id": entry.id,
                "service_name": entry.record["name"],
                "criterion": criterion,
                "detail": CRITERIA[criterion],
            }
            for entry, criterion in routing.gaps
        ],
        "rules_version": ruleset.version,
        "rule_ids": list(decision.fired),
        "created_at": now.isoformat(),
        "warnings": list(body.get("warnings") or []),
    }
    values = dict(
        id=navigation_id,
        created_at=now,
        created_by=created_by,
        called_at=facts.at,
        local_month=local_month(facts.at),
        caller_role=facts.caller_role,
        need=facts.need,
        red_flags=sorted(facts.red_flags),
        age_days=facts.age_days,
        sex=facts.sex,
        postcode=located.postcode.text,
        place=located.place,
        gp_practice_ods=body.get("gp_practice_ods"),
        disposition=facts.disposition,
        symptom_group=body.get("symptom_group"),
        symptom_discriminator=body.get("symptom_discriminator"),
        lives_in_care_home=facts.lives_in_care_home,
        care_home_service_id=care_home,
        case_ref=body.get("case_ref"),
        client_id=idempotency.client_ref if idempotency else None,
        idempotency_key=idempotency.key if idempotency else None,
        request_hash=idempotency.fingerprint if idempotency else None,
        nhs_number=body.get("nhs_number"),
        urgency=routing.urgency,
        rules_version=ruleset.version,
        rule_id=decision.rule.id,
        rule_ids=list(decision.fired),
        recommended_service_id=service["id"],
        recommended_service_type=service["service_type"],
        fallback=fallback,
        result=result,
    )
    # Core inserts: one row and one batch of gaps, without the ORM unit-of-work overhead.
    # On the session's connection (same transaction), bypassing the ORM's bulk-insert layer.
    connection = session.connection()
    connection.execute(_INSERT_NAVIGATION, [values])
    if values["nhs_number"]:  # an NHS number makes the navigation patient-identifiable
        audit(
            session,
            actor=created_by,
            action="create",
            entity="navigation",
            entity_id=navigation_id,
            patient_id=None,
        )
    if routing.gaps:
        gaps = [
            {"navigation_id": navigation_id, "service_id": e.id, "criterion": c, "recorded_at": now}
            for e, c in routing.gaps
        ]
        connection.execute(_INSERT_GAPS, gaps)
    if follow_ups is not None:  # texts to the care home, in this same transaction
        result = result | {"follow_ups": schedule_follow_ups(session, follow_ups, values, now=now)}
    return result


def get_navigation(
    session: Session,
    navigation_id: str,
    *,
    actor: str,
    visible: Callable[[Navigation], bool] | None = None,
) -> Navigation:
    """The navigation (Problem 404 if unknown, or refused by `visible`, the caller's
    need-to-know rule, with the same words); reading one that carries an NHS number is
    audited."""
    navigation = load_or_404(session, Navigation, navigation_id, noun="navigation", visible=visible)
    if navigation.nhs_number:
        audit(
            session,
            actor=actor,
            action="read",
            entity="navigation",
            entity_id=navigation.id,
            patient_id=None,
        )
    return navigation


def gap_report(
    session: Session, start: datetime, end: datetime, index: DirectoryIndex
) -> list[dict[str, Any]]:
    """Gaps grouped by service and criterion, most frequent first."""
    query = (
        select(
            NavigationGap.service_id,
            NavigationGap.criterion,
            func.count().label("count"),
            func.max(NavigationGap.recorded_at).label("last_seen"),
        )
        .where(NavigationGap.recorded_at >= start, NavigationGap.recorded_at < end)
        .group_by(NavigationGap.service_id, NavigationGap.criterion)
        .order_by(func.count().desc(), NavigationGap.service_id, NavigationGap.criterion)
    )
    rows = []
    for service_id, criterion, count, last_seen in session.execute(query):
        entry = index.by_id.get(service_id)
        rows.append(
            {
                "service_id": service_id,
                "service_name": entry.record["name"] if entry else None,
                "service_type": entry.service_type if entry else None,
                "criterion": criterion,
                "detail": CRITERIA.get(criterion, criterion),
                "count": count,
                "last_seen": last_seen.isoformat()
                if isinstance(last_seen, datetime)
                else str(last_seen),
            }
        )
    return rows


def day_range(start: Any, end: Any) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC)."""
    from datetime import UTC

    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    finish = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return begin, finish


# The entry point views use: `navigate` bound to the running app's directory, rules, vocabulary
# and follow-up plan, so the API and the console route a call in exactly the same way.
def navigate_call(
    session: Session,
    body: Mapping[str, Any],
    *,
    created_by: str,
    require_postcode: bool = True,
    index: DirectoryIndex | None = None,
    idempotency: Idempotency | None = None,
) -> dict[str, Any]:
    """Route and record one call in the caller's transaction (follow-up texts included).
    `index`: the directory index the caller already has for this request (`directory_index`
    reads the directory's revision each time it is asked: a round trip saved)."""
    return navigate(
        session,
        body,
        created_by=created_by,
        index=index if index is not None else directory_index(),
        ruleset=RULESET.get(),
        vocab=VOCABULARY.get(),
        now=utcnow(),
        stale_hours=stale_hours(),
        follow_ups=FOLLOW_UP_PLAN.get(),
        require_postcode=require_postcode,
        idempotency=idempotency,
    )
