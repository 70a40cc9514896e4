"""Choose and rank services for a rule's outcome, DoS-style, and never return nothing.

For each of the rule's service types in order, the services filed for the caller's area are
checked against every DoS criterion (`navigation.criteria`): those that pass are ranked by the
rule's order of service types, then home place before out-of-place, then distance; those that
fail exactly one are *gaps* for commissioners. When nothing fits, the rule's fallbacks are
tried, then the catch-all (`navigation.catch_all`: an ambulance for emergencies, else the 111
entry for the postcode, never an emergency department; an NHS 111 A&E disposition from outside
BLMK is sent to the nearest A&E). Every service offered carries the reasons it is offered.

**The call's need.** Of each service type, only services that list the call's need are
considered when any near the postcode does; otherwise (the directory files GP practices, for
example, without per-need lists) every service of the type is, and each one offered carries a
reason saying it does not list the need and why it is offered. So a bereavement charity is
not offered for loneliness when a befriending service for loneliness is near.

**Times.** Every reason reads the call's time `facts.at`, not the server's clock: "open now"
means open at the time of the call.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from navigator.core.clock import LONDON
from navigator.core.clock_words import clock_time, spoken_time
from navigator.core.places import Located
from navigator.core.vocabulary import Vocabulary
from navigator.directory.capacity import Capacity
from navigator.directory.index import DirectoryIndex, Entry
from navigator.navigation.catch_all import catch_all_entries, catch_all_name, nearest_ed_entry
from navigator.navigation.criteria import Assessment, Call, Memo, assess
from navigator.rules.ruleset import RED_FLAGS_PLACEHOLDER, Decision, Facts, Outcome, RuleSet

MAX_ALTERNATIVES = 4
# Services that are a national number, always answered: capacity is never reported for them.
NATIONAL_TYPES = frozenset({"ambulance_999", "nhs_111"})


@dataclass(slots=True)
class Ranked:
    entry: Entry
    distance_km: float | None
    home: bool
    type_rank: int
    opens_at: datetime | None
    capacity: Capacity | None
    reasons: list[str] = field(default_factory=list)
    # False for a catch-all answer, which was not checked against the call's criteria.
    assessed: bool = True

    def key(self) -> tuple[int, int, float, str]:
        return _order(self.type_rank, self.home, self.distance_km, self.entry.id)


def _order(
    type_rank: int, home: bool, distance_km: float | None, service_id: str
) -> tuple[int, int, float, str]:
    """Ranking: the rule's type order, home place first, nearest, then id (deterministic)."""
    distance = math.inf if distance_km is None else distance_km
    return (type_rank, 0 if home else 1, distance, service_id)


@dataclass
class Routing:
    urgency: str
    decision: Decision
    best: Ranked | None
    alternatives: list[Ranked]
    gaps: list[tuple[Entry, str]]
    fallback: str | None  # None, "fallback" or "catch_all"
    reasons: list[str]


def _pool(
    index: DirectoryIndex, types: Iterable[str], located: Located, need: str | None
) -> list[Entry]:
    """Services of these types filed for the postcode's area; of them, only those listing
    `need` when any does (see the module docstring)."""
    pool = [index.entries[p] for p in sorted(index.covering_types(located, types))]
    if need is None:
        return pool
    serving = [e for e in pool if need in e.needs]
    return serving or pool


def _routed_need(facts: Facts) -> str | None:
    """The need services are matched against: none with a red flag, which routes by the flag."""
    return None if facts.red_flags else facts.need


def _rank(assessments: list[Assessment], types: tuple[str, ...], call: Call) -> list[Ranked]:
    """The best MAX_ALTERNATIVES + 1, in order. In a city hundreds of services of a type can
    fit, so the ranking key is computed for each but a Ranked is only built for the best."""
    place = call.facts.place

    def key(a: Assessment) -> tuple[int, int, float, str]:
        home = bool(place and place in a.entry.coverage_places)
        return _order(types.index(a.entry.service_type), home, a.distance_km, a.entry.id)

    return [
        Ranked(a.entry, a.distance_km, rank[1] == 0, rank[0], a.opens_at, a.capacity)
        for rank, a in heapq.nsmallest(
            MAX_ALTERNATIVES + 1, ((key(a), a) for a in assessments), key=lambda pair: pair[0]
        )
    ]


def _unassessed(entries: list[Entry], call: Call) -> list[Ranked]:
    """Catch-all entries as ranked items, home place first, then nearest: they were not
    checked against the call's criteria, so none carries an opening or capacity answer."""
    located = call.located
    place = call.facts.place
    items = [
        Ranked(
            e,
            e.distance_to(located),
            bool(place in e.coverage_places),
            0,
            None,
            None,
            assessed=False,
        )
        for e in entries
    ]
    items.sort(key=Ranked.key)
    return items


def _opening_reason(item: Ranked, at: datetime) -> str:
    """Whether the service is open at the call's time `at` (the "now" of every reason), its
    times in words on the London clock ("opens Tuesday 1 December, 9am")."""
    if item.assessed:
        if item.opens_at is not None:
            closes_at = item.entry.schedule.closes_at(at)
            if closes_at is not None:  # open, but closing within 30 minutes: say so, not "closed"
                return (
                    f"Open now but closes at {clock_time(closes_at)}, within 30 minutes; opens "
                    f"again {spoken_time(item.opens_at, now=at)}, within the urgency window."
                )
            return (
                f"Closed now; opens {spoken_time(item.opens_at, now=at)}, within the urgency "
                "window."
            )
        return "Open now and not closing within 30 minutes."
    schedule = item.entry.schedule  # a catch-all answer: say what is true, whatever it is
    if schedule.is_open(at):
        closes_at = schedule.closes_at(at)
        return "Open now." if closes_at is None else f"Open now; closes {_closing(closes_at, at)}."
    opens_at = schedule.next_open(at)
    return (
        "Closed now." if opens_at is None else f"Closed now; opens {spoken_time(opens_at, now=at)}."
    )


def _closing(closes_at: datetime, at: datetime) -> str:
    """When a service closes, said from the call's time `at`: "at 6:30pm" the same London
    day, else the day and time ("Wednesday 2 December, 8am")."""
    if closes_at.astimezone(LONDON).date() == at.astimezone(LONDON).date():
        return f"at {clock_time(closes_at)}"
    return spoken_time(closes_at, now=at)


def need_reason(item: Ranked, need: str, outcome: Outcome, vocab: Vocabulary) -> str:
    """Why a service that does not list the call's need is offered all the same."""
    need_label = vocab.label("needs", need)
    type_label = vocab.label("service_types", item.entry.service_type)
    if not item.assessed:
        why = "it is the catch-all when nothing in the directory fits this call"
    else:
        named = "names" if item.entry.service_type in outcome.service_types else "falls back to"
        why = (
            f"this call's rule {named} {type_label} services for it, and no {type_label} "
            "service near the postcode lists it"
        )
    return f"Does not list the need {need_label!r} among those it serves; offered because {why}."


def _service_reasons(item: Ranked, facts: Facts, outcome: Outcome, vocab: Vocabulary) -> list[str]:
    reasons = []
    label = vocab.label("service_types", item.entry.service_type)
    if item.assessed:
        reasons.append(f"{label}: accepts this caller, sees this patient and covers this postcode.")
    else:
        # Named, not typed: an advice entry's type ("GP access hub") would mislead here.
        reasons.append(f"The catch-all for this call: {item.entry.record['name']}.")
    need = _routed_need(facts)
    if need is not None and need not in item.entry.needs:
        reasons.append(need_reason(item, need, outcome, vocab))
    reasons.append(_opening_reason(item, facts.at))
    if item.capacity is not None:
        if item.capacity.status == "amber":
            reasons.append("Capacity is amber (busy but accepting).")
        # Never "check capacity" on a national number (999, 111): nobody reports it.
        if item.capacity.stale and item.entry.service_type not in NATIONAL_TYPES:
            reasons.append(
                "Capacity has not been confirmed in the last 24 hours: check when you call."
            )
    if item.distance_km is not None:
        reasons.append(f"{item.distance_km:.1f} km from the patient's postcode.")
    return reasons


def _why_lower(item: Ranked, best: Ranked, vocab: Vocabulary) -> str:
    if item.type_rank != best.type_rank:
        return (
            f"{vocab.label('service_types', item.entry.service_type)} is a less preferred type of "
            f"service for this call than {vocab.label('service_types', best.entry.service_type)}."
        )
    if item.home != best.home:
        return "Outside the patient's home place."
    if (
        item.distance_km is not None
        and best.distance_km is not None
        and item.distance_km > best.distance_km
    ):
        return f"Further away ({item.distance_km:.1f} km against {best.distance_km:.1f} km)."
    return "Equally suitable; listed after by name."


def route(
    *,
    index: DirectoryIndex,
    ruleset: RuleSet,
    decision: Decision,
    call: Call,
    red: set[str],
    capacities: Callable[[list[str]], dict[str, Capacity]],
    vocab: Vocabulary,
) -> Routing:
    """Pick the best service and alternatives for `decision`.

    `red` is the set of services reporting red capacity now (read live); `capacities` reads
    full live capacity for the few services shown.
    """
    outcome = decision.rule.then
    window = timedelta(minutes=ruleset.window_minutes(outcome.urgency))
    reasons = [rule_reason(decision, call.facts, vocab)]
    need = _routed_need(call.facts)
    if not call.located.postcode.text:  # a red-flag call without a valid postcode
        reasons.append(NO_POSTCODE_REASON)
    elif call.located.place is None:
        reasons.append(out_of_area_reason(call.located))

    def try_types(types: tuple[str, ...]) -> tuple[list[Ranked], list[Assessment]]:
        """Assess the types in the rule's order. Once enough services of the preferred types
        fit to fill the answer, less preferred types cannot rank in it, so they are not
        assessed (nor recorded as gaps): a gap is a near miss among the services considered."""
        memo = Memo()
        assessed: list[Assessment] = []
        passing: list[Assessment] = []
        for service_type in types:
            pool = _pool(index, (service_type,), call.located, need)
            found = [a for e in pool if (a := assess(e, call, window, red, memo)) is not None]
            assessed += found
            passing += [a for a in found if not a.failures]
            if len(passing) > MAX_ALTERNATIVES:
                break
        return _rank(passing, types, call), assessed

    ranked, assessed = try_types(outcome.service_types)
    gaps = [(a.entry, a.failures[0]) for a in assessed if len(a.failures) == 1]
    fallback = None
    # A 111 disposition sending the patient to A&E, from outside BLMK: no BLMK department fits,
    # and the rule's 111 fallback would send them back to 111; they go to their nearest A&E.
    to_nearest_ed = (
        not ranked
        and outcome.urgency != "emergency"
        and "emergency_department" in outcome.service_types
        and call.located.place is None
    )
    if to_nearest_ed:
        nearest = nearest_ed_entry(index)
        if nearest is not None:
            ranked = [Ranked(nearest, None, False, 0, None, None, assessed=False)]
            fallback = "catch_all"
            reasons.append(
                "NHS 111 has advised A&E and no emergency department in this directory serves "
                "this postcode: go to the nearest A&E (emergency department), not back to 111."
            )
    if not ranked and outcome.fallbacks and not to_nearest_ed:
        for position, fallback_type in enumerate(outcome.fallbacks):
            ranked, _ = try_types((fallback_type,))
            if ranked:
                fallback = "fallback"
                tried = ", ".join(vocab.label("service_types", t) for t in outcome.service_types)
                reasons.append(
                    f"No {tried} service fits this call now; using fallback {position + 1}: "
                    f"{vocab.label('service_types', fallback_type)}."
                )
                break
    if not ranked:
        ranked = _unassessed(catch_all_entries(index, call.located, outcome.urgency), call)
        if ranked:  # else the caller answers with the built-in national number ("national")
            fallback = "catch_all"
            kind = (
                "an ambulance (999)"
                if outcome.urgency == "emergency"
                else catch_all_name(ranked[0].entry)
            )
            reasons.append(
                f"Nothing in the directory fits this call; the catch-all is {kind}, "
                "regardless of capacity."
            )
    shown = ranked[: MAX_ALTERNATIVES + 1]
    caps = capacities([r.entry.id for r in shown]) if shown else {}
    for item in shown:
        item.capacity = caps[item.entry.id]
        item.reasons = _service_reasons(item, call.facts, outcome, vocab)
    best = ranked[0] if ranked else None
    alternatives = ranked[1 : MAX_ALTERNATIVES + 1]
    if best is not None:
        for item in alternatives:
            item.reasons.insert(0, _why_lower(item, best, vocab))
    return Routing(outcome.urgency, decision, best, alternatives, gaps, fallback, reasons)


def red_flag_names(codes: Iterable[str], vocab: Vocabulary) -> str:
    """The red flags in plain words, in the vocabulary's (the console form's) order:
    "Chest pain", "Chest pain and Possible sepsis", "Chest pain, Seizure (fit) and Possible
    sepsis". An unknown code is shown as itself."""
    order = {code: position for position, code in enumerate(vocab.codes("red_flags"))}
    labels = [
        vocab.label("red_flags", code)
        for code in sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))
    ]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} and {labels[-1]}"


def rule_reason(decision: Decision, facts: Facts, vocab: Vocabulary) -> str:
    """The applied rule's `reason`, its `{red_flags}` replaced by the flags the rule matched."""
    reason = decision.rule.then.reason
    if RED_FLAGS_PLACEHOLDER not in reason:
        return reason
    fired = decision.rule.when.matched_red_flags(facts)
    return reason.replace(RED_FLAGS_PLACEHOLDER, red_flag_names(fired, vocab))


# A red-flag call is answered even without a valid postcode (issue 13); this says why no
# place, distance or local service could be chosen.
NO_POSTCODE_REASON = (
    "No valid postcode was given, so no place or distance could be worked out: "
    "call 999 wherever the patient is."
)


def out_of_area_reason(located: Located) -> str:
    """Told to every caller whose postcode is in no BLMK place."""
    return (
        f"The postcode {located.postcode.text} is outside Bedfordshire, Luton and Milton Keynes "
        "(BLMK), the area this directory covers, so only services that reach beyond BLMK can "
        "be offered."
    )
