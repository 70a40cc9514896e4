"""What the care navigator did with a recommendation: accepted it, or chose another service.

Both hand the case over as a referral. An override needs a reason in words, so that
supervisors can see on the dashboard where the rules and the navigators disagree.

A call is handed over to a service at most once (issue 13 §8, hazard H24): when the chosen
service already has an open referral for the call (made through the API, say), the decision
is recorded against that referral instead of sending a second one, and the call's patient is
the one already recorded (on the call or on its referral), never a new record.

The override list offers every active service of the rule's service types and fallbacks, plus
the services that failed exactly one criterion for the call (its gaps), most suitable first,
each with its place, distance and whether it is open now (or when it opens).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.clock_words import clock_time, spoken_time
from navigator.core.errors import Problem, field_error
from navigator.core.places import Gazetteer, Located, parse_postcode
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import Vocabulary
from navigator.directory.index import DirectoryIndex, Entry
from navigator.navigation.criteria import CRITERIA, Call, Memo, assess
from navigator.navigation.models import Navigation
from navigator.referrals.models import Referral
from navigator.referrals.service import create_referral, lock_navigation, open_referrals
from navigator.rules.ruleset import Facts, RuleSet

MIN_OVERRIDE_REASON = 10
# The reason becomes the referral's reason, which the API caps at 2,000 characters.
MAX_OVERRIDE_REASON = 2000
DECISIONS = ("accepted", "overridden")
ALREADY_DECIDED = "This call's recommendation has already been decided."
MAX_OVERRIDE_OPTIONS = 200  # a select longer than this helps nobody on a call


@dataclass(frozen=True)
class Handoff:
    """What a decision handed over: the referral (None for a national number) and whether
    this decision created it (False: the service already had an open referral for the call)."""

    referral: Referral | None
    created: bool


def call_referrals(session: Session, navigation_id: str) -> list[Referral]:
    """Every referral of the call, whoever made it (console or API), oldest first."""
    return list(
        session.scalars(
            select(Referral)
            .where(Referral.navigation_id == navigation_id)
            .order_by(Referral.created_at, Referral.id)
        )
    )


def call_patient_id(session: Session, navigation: Navigation) -> str | None:
    """The call's patient: the one recorded on the call, else the patient of its first
    referral (one made through the API carries its own patient); None when neither."""
    if navigation.patient_id is not None:
        return navigation.patient_id
    return session.scalar(
        select(Referral.patient_id)
        .where(Referral.navigation_id == navigation.id)
        .order_by(Referral.created_at, Referral.id)
        .limit(1)
    )


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
) -> Handoff:
    """Record the decision and make the referral (none when the answer is a national number).

    Flushes, never commits: the caller's one transaction holds the decision and its referral,
    so both land or neither does. The call's row is locked first (`lock_navigation`) and its
    decision read again, so of two decisions at the same moment (a double click, two tabs)
    the second waits for the first to commit and is refused with 409: one decision, one
    referral. The referral is made under the idempotency key `navigation:<id>` as well, so a
    call whose referral was recorded without its decision (by a release that committed the
    two apart) gets that referral back, not a second one.

    When the chosen service already has an open referral for this call, that referral is the
    hand-over (`created` False) and no second one is sent. Raises Problem 409 when the call
    was already decided, or when another request refers the call to the same service at the
    same moment (`open_referral_exists`); 422 naming `override_reason`, `service_id` or
    `patient_id`.
    """
    if navigation.decision is not None:
        raise Problem(409, ALREADY_DECIDED)
    chosen = service_id or navigation.recommended_service_id
    overriding = chosen != navigation.recommended_service_id
    reason = (override_reason or "").strip()
    if overriding and len(reason) < MIN_OVERRIDE_REASON:
        raise field_error(
            "override_reason",
            f"Say why you chose a different service (at least {MIN_OVERRIDE_REASON} characters)",
        )
    if overriding and len(reason) > MAX_OVERRIDE_REASON:
        raise field_error(
            "override_reason",
            f"The reason must be {MAX_OVERRIDE_REASON} characters or fewer",
        )
    # Held until the caller's transaction ends; then read what is committed, not the copy
    # loaded before another request's decision (READ COMMITTED on PostgreSQL; on SQLite the
    # UPDATE that takes the lock opens the write transaction, so the read is current).
    lock_navigation(session, navigation.id)
    if session.scalar(select(Navigation.decision).where(Navigation.id == navigation.id)):
        raise Problem(409, ALREADY_DECIDED)
    handoff = Handoff(None, False)
    if chosen is not None and chosen in index.by_id:
        patient_id = call_patient_id(session, navigation)
        if patient_id is None:
            raise field_error("patient_id", "Record the patient's details before referring")
        navigation.patient_id = patient_id
        if already := open_referrals(session, navigation.id, service_id=chosen):
            handoff = Handoff(already[0], False)
        else:
            referral, created = create_referral(
                session,
                {
                    "service_id": chosen,
                    "navigation_id": navigation.id,
                    "patient_id": patient_id,
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
            handoff = Handoff(referral, created)
    elif overriding:
        raise field_error("service_id", "No service with this id in the directory")
    navigation.decision = "overridden" if overriding else "accepted"
    navigation.chosen_service_id = chosen
    navigation.override_reason = reason if overriding else None
    navigation.decided_by = caller.label
    navigation.decided_at = now
    session.flush()
    return handoff


@dataclass(frozen=True)
class OverrideOption:
    """One service the navigator may refer to instead. `unsuitable` names the criterion it
    fails now (a gap), or says it fails several; None when it fits every criterion."""

    service_id: str
    name: str
    place: str  # where the service is: its place's label, else its postcode
    distance_km: float | None  # from the patient's postcode, when both are known
    open_now: bool
    closes_at: datetime | None  # when open now
    opens_at: datetime | None  # when closed now: its next opening within a week, if any
    unsuitable: str | None
    already_referred: str | None  # the status of the call's open referral to it, if any

    @property
    def label(self) -> str:
        """The option as the select shows it, e.g. "UCR Two – Bedford, 3.2 km – open now,
        closes 8pm"; times on the London clock in the NHS style."""
        parts = [self.name, self.place]
        if self.distance_km is not None:
            parts[-1] += f", {self.distance_km:.1f} km"
        if self.open_now:
            status = "open now"
            if self.closes_at is not None:
                status += f", closes {clock_time(self.closes_at)}"
        elif self.opens_at is not None:
            status = f"closed, opens {spoken_time(self.opens_at, now=self.opens_at)}"
        else:
            status = "closed"
        parts.append(status)
        text = " – ".join(parts)
        if self.unsuitable:
            text += f" – {self.unsuitable}"
        if self.already_referred:
            text += f" – already referred ({self.already_referred.replace('_', ' ')})"
        return text


def override_types(navigation: Navigation, ruleset: RuleSet) -> tuple[str, ...]:
    """The service types the call's rule names, then its fallbacks, then the types actually
    offered (a catch-all's NHS 111 or ambulance), in that order of preference."""
    types: list[str] = []
    rule = ruleset.by_id.get(navigation.rule_id)
    if rule is not None:  # None when the rule set has changed since the call
        types += [*rule.then.service_types, *rule.then.fallbacks]
    offered = [navigation.recommended_service_type] + [
        alt["service"]["service_type"] for alt in navigation.result.get("alternatives", [])
    ]
    types += [t for t in offered if t]
    return tuple(dict.fromkeys(types))


def _call_for(navigation: Navigation, located: Located, now: datetime) -> Call:
    """The call's facts, at `now`: an override is a referral made now."""
    facts = Facts.from_call(
        need=None if navigation.red_flags else navigation.need,
        red_flags=navigation.red_flags,
        caller_role=navigation.caller_role,
        age_days=navigation.age_days,
        sex=navigation.sex,
        place=navigation.place,
        at=now,
        disposition=navigation.disposition,
        lives_in_care_home=navigation.lives_in_care_home,
    )
    return Call(facts, located, navigation.gp_practice_ods)


def _service_place(entry: Entry, gazetteer: Gazetteer, vocab: Vocabulary) -> str:
    for location in entry.record["locations"]:
        postcode = parse_postcode(location.get("postcode") or "", allow_outward=False)
        if postcode is None:
            continue
        place = gazetteer.locate(postcode).place
        return vocab.label("places", place) if place else postcode.text
    return "no address given"


def override_options(
    navigation: Navigation,
    *,
    index: DirectoryIndex,
    ruleset: RuleSet,
    gazetteer: Gazetteer,
    vocab: Vocabulary,
    red: set[str],
    open_referrals: Mapping[str, str],
    now: datetime,
) -> list[OverrideOption]:
    """Every active service the navigator may choose instead of the recommendation, most
    suitable first.

    Candidates: the active services of `override_types` and the call's gap services (those
    that failed exactly one criterion when it was routed), but not the recommended one. Each
    is assessed now with the routing's own criteria (`red`: services reporting red capacity
    now), and sorted by: fits every criterion (or opens within the urgency window), then
    fails one (named), then fails several; within each, the rule's order of types, the
    patient's home place first, nearest, then name. `open_referrals` maps service id to the
    status of the call's open referral to it.
    """
    types = override_types(navigation, ruleset)
    candidates: dict[str, Entry] = {}
    for service_type in types:
        for pos in sorted(index.by_type.get(service_type, ())):
            entry = index.entries[pos]
            candidates[entry.id] = entry
    for gap in navigation.result.get("gaps", []):
        if (gap_entry := index.by_id.get(gap["service_id"])) is not None:
            candidates.setdefault(gap_entry.id, gap_entry)
    postcode = parse_postcode(navigation.postcode or "")
    located = gazetteer.locate(postcode) if postcode is not None else None
    window = timedelta(minutes=ruleset.window_minutes(navigation.urgency))
    memo = Memo()
    call = _call_for(navigation, located, now) if located is not None else None
    ranked: list[tuple[tuple[int, int, int, float, str], OverrideOption]] = []
    for entry in candidates.values():
        if not entry.active or entry.id == navigation.recommended_service_id:
            continue
        assessment = assess(entry, call, window, red, memo) if call is not None else None
        if assessment is None:
            tier, unsuitable = 2, "fails several of the call's criteria"
        elif assessment.failures:
            tier, unsuitable = 1, f"{CRITERIA[assessment.failures[0]]}"
        else:
            tier, unsuitable = 0, None
        distance = entry.distance_to(located) if located is not None else None
        home = bool(navigation.place and navigation.place in entry.coverage_places)
        open_now = entry.schedule.is_open(now)
        option = OverrideOption(
            service_id=entry.id,
            name=entry.record["name"],
            place=_service_place(entry, gazetteer, vocab),
            distance_km=distance,
            open_now=open_now,
            closes_at=entry.schedule.closes_at(now) if open_now else None,
            opens_at=None if open_now else entry.schedule.next_open(now),
            unsuitable=unsuitable,
            already_referred=open_referrals.get(entry.id),
        )
        type_rank = types.index(entry.service_type) if entry.service_type in types else len(types)
        key = (
            tier,
            type_rank,
            0 if home else 1,
            float("inf") if distance is None else distance,
            option.name,
        )
        ranked.append((key, option))
    ranked.sort(key=lambda pair: pair[0])
    return [option for _, option in ranked[:MAX_OVERRIDE_OPTIONS]]


def _accepted_reason(navigation: Navigation) -> str:
    """The referral's reason when the recommendation is accepted, in words the receiving
    service reads: "Care navigation: Fall, no injury. Recommended by the BLMK routing rules."
    (the rule's id stays on the call, `Navigation.rule_id`, for audit). The app's vocabulary
    (`VOCABULARY`), so `decide`'s callers need not pass it."""
    what = (
        VOCABULARY.get().label("needs", navigation.need) if navigation.need else "red flag reported"
    )
    return f"Care navigation: {what}. Recommended by the BLMK routing rules."
