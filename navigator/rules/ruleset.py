"""Rule sets, rules and the facts of a call, as the engine sees them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from navigator.core.clock import age_in_days, in_period, is_bank_holiday, to_local

# The urgencies a rule may recommend: kernel vocabulary, since referrals, navigations and the
# follow-up plan name them too without depending on the rules.
from navigator.core.vocabulary import URGENCIES  # noqa: F401

# In a rule's `reason`, replaced by the names of the red flags the rule matched ("Chest pain",
# "Chest pain and Possible sepsis"), so the caller hears which sign sends them to 999.
RED_FLAGS_PLACEHOLDER = "{red_flags}"
# A call whose caller role is not known is routed as from a member of the public: the role
# every 999 service takes, and the one never shown professional-only routes (a red-flag call
# is answered whatever else is missing: issue 13, hazard H10).
CALLER_ROLE_IF_UNKNOWN = "public"


@dataclass(frozen=True)
class TimeWindow:
    name: str
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes from midnight
    # may exceed 1440 when the window runs past midnight; "from" equal to "to" in the file is
    # the whole day (`clock.period`), unlike follow-up quiet hours, where it is none
    end: int
    bank_holidays: bool

    def contains(self, at: datetime) -> bool:
        local = to_local(at)
        if not self.bank_holidays and is_bank_holiday(local.date()):
            return False
        # today's window, or the tail of yesterday's when it runs past midnight
        return in_period(
            local.hour * 60 + local.minute,
            (self.start, self.end),
            started_today=local.weekday() in self.days,
            started_yesterday=(local.weekday() - 1) % 7 in self.days,
        )


@dataclass(frozen=True)
class Facts:
    """What is known about a call; every rule condition reads from here."""

    need: str | None
    red_flags: frozenset[str]
    caller_role: str
    age_days: int | None
    sex: str | None
    place: str | None
    at: datetime
    disposition: str | None = None
    lives_in_care_home: bool = False

    @classmethod
    def from_call(
        cls,
        *,
        at: datetime,
        need: str | None = None,
        red_flags: Iterable[str] | None = None,
        caller_role: str | None = None,
        age_years: float | None = None,
        age_days: int | None = None,
        sex: str | None = None,
        place: str | None = None,
        disposition: str | None = None,
        lives_in_care_home: bool | None = False,
    ) -> Facts:
        """The facts of a call from what is known, with the one set of defaults that routing,
        the override list and the rule test cases share: no red flags; caller role
        `CALLER_ROLE_IF_UNKNOWN` when none is given (None or ""); sex "unknown" likewise; an
        age in years (`age_years`, turned into days by the DoS rule `age_in_days`) wins over
        `age_days`; not living in a care home unless said."""
        return cls(
            need=need,
            red_flags=frozenset(red_flags or ()),
            caller_role=caller_role or CALLER_ROLE_IF_UNKNOWN,
            age_days=age_in_days(age_years) if age_years is not None else age_days,
            sex=sex or "unknown",
            place=place,
            at=at,
            disposition=disposition,
            lives_in_care_home=bool(lives_in_care_home),
        )


@dataclass(frozen=True)
class Conditions:
    need: frozenset[str] | None = None
    red_flags: frozenset[str] | None = None  # empty set = any red flag
    caller_role: frozenset[str] | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None  # exclusive
    sex: frozenset[str] | None = None
    place: frozenset[str] | None = None
    within: str | None = None
    outside: str | None = None
    bank_holiday: bool | None = None
    disposition: frozenset[str] | None = None
    lives_in_care_home: bool | None = None

    def matched_red_flags(self, facts: Facts) -> frozenset[str]:
        """The call's red flags this condition matched: all of them for `any`, those listed
        otherwise; empty when the condition says nothing about red flags."""
        if self.red_flags is None:
            return frozenset()
        return facts.red_flags & self.red_flags if self.red_flags else facts.red_flags

    def holds(self, facts: Facts, windows: dict[str, TimeWindow]) -> bool:
        if self.need is not None and facts.need not in self.need:
            return False
        if self.red_flags is not None:
            if not facts.red_flags:
                return False
            if self.red_flags and not (self.red_flags & facts.red_flags):
                return False
        if self.caller_role is not None and facts.caller_role not in self.caller_role:
            return False
        if self.min_age_days is not None and (
            facts.age_days is None or facts.age_days < self.min_age_days
        ):
            return False
        if self.max_age_days is not None and (
            facts.age_days is None or facts.age_days >= self.max_age_days
        ):
            return False
        if self.sex is not None and facts.sex not in self.sex:
            return False
        if self.place is not None and facts.place not in self.place:
            return False
        if self.within is not None and not windows[self.within].contains(facts.at):
            return False
        if self.outside is not None and windows[self.outside].contains(facts.at):
            return False
        if self.bank_holiday is not None and is_bank_holiday(to_local(facts.at).date()) != (
            self.bank_holiday
        ):
            return False
        if self.disposition is not None and facts.disposition not in self.disposition:
            return False
        return self.lives_in_care_home is None or facts.lives_in_care_home == (
            self.lives_in_care_home
        )


@dataclass(frozen=True)
class Outcome:
    urgency: str
    service_types: tuple[str, ...]
    fallbacks: tuple[str, ...]
    safety_netting: str
    reason: str


@dataclass(frozen=True)
class Rule:
    id: str
    when: Conditions
    then: Outcome
    reasoning: str = ""


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: str
    source: str
    urgency_windows: dict[str, int]
    time_windows: dict[str, TimeWindow]
    rules: tuple[Rule, ...]
    description: str = ""
    by_id: dict[str, Rule] = field(default_factory=dict, compare=False)

    def window_minutes(self, urgency: str) -> int:
        return self.urgency_windows[urgency]


@dataclass(frozen=True)
class Decision:
    """The rule that applies, and every rule whose conditions held (the ones that fired)."""

    rule: Rule
    fired: tuple[str, ...]


def evaluate(ruleset: RuleSet, facts: Facts) -> Decision:
    fired = tuple(r.id for r in ruleset.rules if r.when.holds(facts, ruleset.time_windows))
    if not fired:
        # Validation guarantees a catch-all for every need; reaching here is a bug.
        raise LookupError(f"no rule matches need {facts.need!r} in rule set {ruleset.version}")
    return Decision(ruleset.by_id[fired[0]], fired)
