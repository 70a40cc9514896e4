"""Load and validate a rule set. Every problem is reported with file, rule id and field."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError, fields, validate

from navigator.core.clock import WEEKDAYS, age_in_days, period
from navigator.core.schemas import StrictSchema, field_messages
from navigator.core.vocabulary import PATIENT_SEXES, UNCLASSIFIED, URGENCIES, Vocabulary
from navigator.rules.ruleset import (
    RED_FLAGS_PLACEHOLDER,
    Conditions,
    Outcome,
    Rule,
    RuleSet,
    TimeWindow,
)

SLUG = r"^[a-z0-9][a-z0-9-]*$"


class RuleSetError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid rule set:\n  " + "\n  ".join(errors))
        self.errors = errors


class TimeWindowSchema(StrictSchema):
    days = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)), required=True)
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    bank_holidays = fields.Boolean(load_default=True)


class ConditionsSchema(StrictSchema):
    need = fields.List(fields.String(), validate=validate.Length(min=1))
    red_flags = fields.Raw()
    caller_role = fields.List(fields.String(), validate=validate.Length(min=1))
    min_age_years = fields.Float(validate=validate.Range(0, 130))
    max_age_years = fields.Float(validate=validate.Range(0, 130))
    sex = fields.List(fields.String(validate=validate.OneOf(PATIENT_SEXES)))
    place = fields.List(fields.String(), validate=validate.Length(min=1))
    within = fields.String()
    outside = fields.String()
    bank_holiday = fields.Boolean()
    disposition = fields.List(
        fields.String(validate=validate.Regexp(r"^Dx[0-9A-Za-z]{1,6}$")),
        validate=validate.Length(min=1),
    )
    lives_in_care_home = fields.Boolean()


class OutcomeSchema(StrictSchema):
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    service_types = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    fallbacks = fields.List(fields.String(), load_default=list)
    safety_netting = fields.String(required=True, validate=validate.Length(min=1))
    reason = fields.String(required=True, validate=validate.Length(min=1))


class RuleSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(SLUG))
    reasoning = fields.String(required=True, validate=validate.Length(min=1))
    when = fields.Nested(ConditionsSchema, load_default=dict)
    then = fields.Nested(OutcomeSchema, required=True)


class RuleSetSchema(StrictSchema):
    ruleset = fields.String(required=True)
    version = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String(load_default="")
    urgency_windows = fields.Dict(
        keys=fields.String(validate=validate.OneOf(URGENCIES)),
        values=fields.Integer(validate=validate.Range(0, 60 * 24 * 60)),
        required=True,
    )
    time_windows = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    rules = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    return field_messages(exc)


def _years_to_days(years: float) -> int:
    return age_in_days(years)  # rounded up, as the directory does


class _Builder:
    """Turns validated data into a RuleSet, collecting every error on the way."""

    def __init__(self, source: str, vocab: Vocabulary) -> None:
        self.source = source
        self.vocab = vocab
        self.errors: list[str] = []

    def error(self, where: str, field: str, message: str) -> None:
        self.errors.append(f"{self.source}: {where}: {field}: {message}")

    def codes(self, where: str, field: str, scheme: str, values: list[str]) -> frozenset[str]:
        for value in values:
            if not self.vocab.has(scheme, value):
                self.error(where, field, f"{value!r} is not in the {scheme} vocabulary")
        return frozenset(values)

    def window(self, name: str, raw: Any) -> TimeWindow | None:
        try:
            data = TimeWindowSchema().load(raw)
            start, end = period(data["from_"], data["to"])
        except ValidationError as exc:
            for field, msgs in _messages(exc).items():
                self.error(f"time window {name}", field, " ".join(msgs))
            return None
        except ValueError as exc:
            self.error(f"time window {name}", "from/to", str(exc))
            return None
        days = frozenset(WEEKDAYS.index(d) for d in data["days"])
        return TimeWindow(name, days, start, end, data["bank_holidays"])

    def conditions(
        self, where: str, data: Mapping[str, Any], windows: Mapping[str, TimeWindow]
    ) -> Conditions:
        def codes(key: str, scheme: str) -> frozenset[str] | None:
            return self.codes(where, f"when.{key}", scheme, data[key]) if key in data else None

        red_flags: frozenset[str] | None = None
        if "red_flags" in data:
            raw = data["red_flags"]
            if raw == "any":
                red_flags = frozenset()
            elif isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw):
                red_flags = self.codes(where, "when.red_flags", "red_flags", raw)
            else:
                self.error(where, "when.red_flags", "must be 'any' or a list of red flags")
        for key in ("within", "outside"):
            if key in data and data[key] not in windows:
                self.error(where, f"when.{key}", f"unknown time window {data[key]!r}")
        if "within" in data and data.get("within") == data.get("outside"):
            self.error(where, "when.outside", "within and outside the same window can never hold")
        min_days = _years_to_days(data["min_age_years"]) if "min_age_years" in data else None
        max_days = _years_to_days(data["max_age_years"]) if "max_age_years" in data else None
        if min_days is not None and max_days is not None and min_days >= max_days:
            self.error(
                where,
                "when.max_age_years",
                "must be above min_age_years (the rule can never match)",
            )
        return Conditions(
            need=codes("need", "needs"),
            red_flags=red_flags,
            caller_role=codes("caller_role", "caller_roles"),
            min_age_days=min_days,
            max_age_days=max_days,
            sex=frozenset(data["sex"]) if "sex" in data else None,
            place=codes("place", "places"),
            within=data.get("within"),
            outside=data.get("outside"),
            bank_holiday=data.get("bank_holiday"),
            disposition=frozenset(data["disposition"]) if "disposition" in data else None,
            lives_in_care_home=data.get("lives_in_care_home"),
        )

    def outcome(self, where: str, data: Mapping[str, Any]) -> Outcome:
        types = self.codes(where, "then.service_types", "service_types", data["service_types"])
        self.codes(where, "then.fallbacks", "service_types", data["fallbacks"])
        if UNCLASSIFIED in (*data["service_types"], *data["fallbacks"]):
            # Hazard H30: a service nobody has classified is never recommended.
            self.error(
                where, "then.service_types", f"{UNCLASSIFIED!r} services are never routed to"
            )
        if len(types) != len(data["service_types"]):
            self.error(where, "then.service_types", "lists a service type twice")
        return Outcome(
            urgency=data["urgency"],
            service_types=tuple(data["service_types"]),
            fallbacks=tuple(data["fallbacks"]),
            safety_netting=data["safety_netting"].strip(),
            reason=data["reason"].strip(),
        )


def covers(earlier: Conditions, later: Conditions) -> bool:
    """True when every call `later` matches is also matched by `earlier` (so `later` is dead)."""
    for key in ("need", "caller_role", "sex", "place", "disposition"):
        mine, theirs = getattr(earlier, key), getattr(later, key)
        if mine is not None and (theirs is None or not theirs <= mine):
            return False
    if earlier.red_flags is not None:
        if later.red_flags is None:
            return False
        if earlier.red_flags and (not later.red_flags or not later.red_flags <= earlier.red_flags):
            return False
    if earlier.min_age_days is not None and (
        later.min_age_days is None or later.min_age_days < earlier.min_age_days
    ):
        return False
    if earlier.max_age_days is not None and (
        later.max_age_days is None or later.max_age_days > earlier.max_age_days
    ):
        return False
    for key in ("within", "outside", "bank_holiday", "lives_in_care_home"):
        mine = getattr(earlier, key)
        if mine is not None and getattr(later, key) != mine:
            return False
    return True


def build_ruleset(data: Any, *, source: str, vocab: Vocabulary) -> RuleSet:
    builder = _Builder(source, vocab)
    try:
        top = RuleSetSchema().load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise RuleSetError(
            [f"{source}: rule set: {f}: {' '.join(m)}" for f, m in _messages(exc).items()]
        ) from exc
    missing = set(URGENCIES) - set(top["urgency_windows"])
    if missing:
        builder.error("rule set", "urgency_windows", f"missing {sorted(missing)}")
    windows = {}
    for name, raw in top["time_windows"].items():
        if (window := builder.window(name, raw)) is not None:
            windows[name] = window
    rules: list[Rule] = []
    seen: set[str] = set()
    for position, raw in enumerate(top["rules"], start=1):
        where = (
            f"rule {raw.get('id', f'#{position}')}"
            if isinstance(raw, dict)
            else f"rule #{position}"
        )
        try:
            data = RuleSchema().load(raw)
        except ValidationError as exc:
            for field, msgs in _messages(exc).items():
                builder.error(where, field, " ".join(msgs))
            continue
        if data["id"] in seen:
            builder.error(where, "id", "used by an earlier rule")
        seen.add(data["id"])
        when = builder.conditions(where, data["when"], windows)
        rules.append(
            Rule(data["id"], when, builder.outcome(where, data["then"]), data["reasoning"].strip())
        )
    _check_structure(builder, rules)
    if builder.errors:
        raise RuleSetError(builder.errors)
    return RuleSet(
        name=top["ruleset"],
        version=top["version"],
        source=source,
        urgency_windows=dict(top["urgency_windows"]),
        time_windows=windows,
        rules=tuple(rules),
        description=top["description"],
        by_id={r.id: r for r in rules},
    )


def _check_reason_names_red_flags(builder: _Builder, rule: Rule) -> None:
    """A red-flag rule's reason names the flags that fired (issue 13: "Chest pain", not "a
    warning sign"), through the one placeholder `{red_flags}`, which only such a rule has."""
    reason = rule.then.reason
    if "{" in reason.replace(RED_FLAGS_PLACEHOLDER, "") or "}" in reason.replace(
        RED_FLAGS_PLACEHOLDER, ""
    ):
        builder.error(
            f"rule {rule.id}", "then.reason", f"the only placeholder is {RED_FLAGS_PLACEHOLDER}"
        )
    if rule.when.red_flags is not None and RED_FLAGS_PLACEHOLDER not in reason:
        builder.error(
            f"rule {rule.id}",
            "then.reason",
            f"a red-flag rule must name the flags that fired with {RED_FLAGS_PLACEHOLDER}",
        )
    if rule.when.red_flags is None and RED_FLAGS_PLACEHOLDER in reason:
        builder.error(
            f"rule {rule.id}",
            "then.reason",
            f"{RED_FLAGS_PLACEHOLDER} needs a red_flags condition to name",
        )


def _check_structure(builder: _Builder, rules: list[Rule]) -> None:
    if not rules:
        return
    first = rules[0]
    if (
        first.when != Conditions(red_flags=frozenset())
        or first.then.urgency != "emergency"
        or first.then.service_types[0] != "ambulance_999"
    ):
        builder.error(
            f"rule {first.id}",
            "when",
            "the first rule must be 'red_flags: any' sending emergency to ambulance_999, "
            "so no red flag is ever routed elsewhere",
        )
    for rule in rules:
        _check_no_emergency_department_for_non_emergencies(builder, rule)
        _check_reason_names_red_flags(builder, rule)
    for later_index, later in enumerate(rules):
        for earlier in rules[:later_index]:
            if covers(earlier.when, later.when):
                builder.error(
                    f"rule {later.id}",
                    "when",
                    f"can never be reached: rule {earlier.id} comes first and matches "
                    "every call it matches",
                )
                break
    for need in builder.vocab.codes("needs"):
        catch_all = any(
            (r.when == Conditions() or r.when == Conditions(need=r.when.need))
            and (r.when.need is None or need in r.when.need)
            for r in rules
        )
        if not catch_all:
            builder.error(
                "rule set",
                "rules",
                f"need {need!r} has no rule that always catches it "
                "(a rule whose only condition is need)",
            )


def _check_no_emergency_department_for_non_emergencies(builder: _Builder, rule: Rule) -> None:
    """A non-emergency never falls back to an emergency department (issue 13, hazard H29):
    a far-away A&E is no next step for it, and NHS 111 is the non-emergency catch-all. The one
    way a non-emergency rule may name A&E is as its own service type for an NHS 111
    disposition that sends the patient there (e.g. Dx03, A&E within 4 hours)."""
    if rule.then.urgency == "emergency":
        return
    where = f"rule {rule.id}"
    if "emergency_department" in rule.then.fallbacks:
        builder.error(
            where,
            "then.fallbacks",
            f"a {rule.then.urgency} rule must not fall back to emergency_department; use nhs_111",
        )
    if "emergency_department" in rule.then.service_types and rule.when.disposition is None:
        builder.error(
            where,
            "then.service_types",
            f"a {rule.then.urgency} rule names emergency_department only for an NHS 111 "
            "disposition (add when.disposition), or it must be urgency emergency",
        )


def load_ruleset(path: Path, vocab: Vocabulary) -> RuleSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleSetError([f"{path.name}: rule set: file: {exc}"]) from exc
    return build_ruleset(data, source=path.name, vocab=vocab)
