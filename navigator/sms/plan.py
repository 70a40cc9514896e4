"""The follow-ups file: which navigations get texts, when, and what they say.

Loaded and validated when the app starts (`sms.reference.FOLLOW_UP_PLAN`); an invalid file
stops navigator starting, as an invalid rule set does. Every problem is reported with where it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError, fields, validate

from navigator.core.clock import daily_period, in_period, parse_hhmm
from navigator.core.schemas import StrictSchema, message_lines
from navigator.core.vocabulary import URGENCIES, Vocabulary

DEFAULT_PATH = Path(__file__).resolve().parent / "follow_ups.yaml"
PLACEHOLDERS = frozenset({"ref"})
REF_MAX = 20  # the longest reference a template is given
MAX_LENGTH = 459  # three concatenated GSM-7 segments


class FollowUpsError(ValueError):
    """The follow-ups file is invalid; `problems` lists each one."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        super().__init__(f"{path}: invalid follow-ups file:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class QuietHours:
    """A Europe/London wall-clock window, in minutes after midnight; may wrap midnight.
    Start equal to end means no quiet hours (a rule set's time window reads it as the whole
    day: `clock.daily_period` takes the meaning from each)."""

    start: int
    end: int

    def contains(self, minute_of_day: int) -> bool:
        # Every night: tonight's window, and the part past midnight of last night's.
        return in_period(minute_of_day, daily_period(self.start, self.end, equal="empty"))


@dataclass(frozen=True)
class FollowUpRule:
    id: str
    service_types: frozenset[str]
    urgencies: frozenset[str]
    after: timedelta
    template: str

    def applies(self, *, urgency: str, service_type: str | None) -> bool:
        return (not self.service_types or service_type in self.service_types) and (
            not self.urgencies or urgency in self.urgencies
        )


@dataclass(frozen=True)
class FollowUpPlan:
    version: str
    quiet_hours: QuietHours
    reply_window: timedelta
    rules: tuple[FollowUpRule, ...]
    templates: Mapping[str, str]

    def rules_for(self, *, urgency: str, service_type: str | None) -> list[FollowUpRule]:
        return [r for r in self.rules if r.applies(urgency=urgency, service_type=service_type)]

    def render(self, rule: FollowUpRule, ref: str) -> str:
        return self.templates[rule.template].format(ref=ref)


def _hhmm(value: str) -> None:
    try:
        minutes = parse_hhmm(value)
    except ValueError as exc:
        raise ValidationError("Not a time HH:MM") from exc
    if minutes >= 24 * 60:
        raise ValidationError("Not a time of day (00:00–23:59)")


class QuietHoursSchema(StrictSchema):
    start = fields.String(required=True, validate=_hhmm)
    end = fields.String(required=True, validate=_hhmm)


class WhenSchema(StrictSchema):
    service_types = fields.List(fields.String(), load_default=list)
    urgencies = fields.List(fields.String(validate=validate.OneOf(URGENCIES)), load_default=list)


class RuleSchema(StrictSchema):
    id = fields.String(
        required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,59}$", error="Not a slug")
    )
    when = fields.Nested(WhenSchema, required=True)
    after_hours = fields.Float(required=True, validate=validate.Range(min=0.25, max=24 * 14))
    template = fields.String(required=True)


class FollowUpsSchema(StrictSchema):
    version = fields.String(required=True, validate=validate.Length(min=1, max=40))
    quiet_hours = fields.Nested(QuietHoursSchema, required=True)
    reply_window_days = fields.Integer(load_default=7, validate=validate.Range(1, 60))
    follow_ups = fields.List(fields.Nested(RuleSchema), required=True)
    templates = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


def _template_problems(name: str, text: str) -> list[str]:
    problems = []
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        return [f"templates.{name}: {exc}"]
    if unknown := names - PLACEHOLDERS:
        problems.append(f"templates.{name}: unknown placeholders {sorted(unknown)} (only {{ref}})")
    elif len(text.format(ref="X" * REF_MAX)) > MAX_LENGTH:
        problems.append(f"templates.{name}: longer than {MAX_LENGTH} characters")
    if "STOP" not in text:
        problems.append(f"templates.{name}: must say how to stop the texts (Reply STOP)")
    if "999" not in text:
        # SMS is no escalation route (hazard log): every text says where emergencies go.
        problems.append(
            f"templates.{name}: must say the number is not for emergencies (call 999 or 111)"
        )
    return problems


def parse_follow_ups(data: Any, vocab: Vocabulary, source: Path | str) -> FollowUpPlan:
    try:
        loaded = FollowUpsSchema().load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise FollowUpsError(source, message_lines(exc)) from exc
    problems: list[str] = []
    for name, text in loaded["templates"].items():
        problems += _template_problems(name, text)
    seen: set[str] = set()
    rules = []
    for position, raw in enumerate(loaded["follow_ups"]):
        where = f"follow_ups.{position} ({raw['id']})"
        if raw["id"] in seen:
            problems.append(f"{where}: id given twice")
        seen.add(raw["id"])
        when = raw["when"]
        if not when["service_types"] and not when["urgencies"]:
            problems.append(f"{where}.when: give service_types or urgencies (or both)")
        for code in when["service_types"]:
            if not vocab.has("service_types", code):
                problems.append(f"{where}.when.service_types: {code!r} is not a service type")
        if raw["template"] not in loaded["templates"]:
            problems.append(f"{where}.template: no template {raw['template']!r}")
        rules.append(
            FollowUpRule(
                id=raw["id"],
                service_types=frozenset(when["service_types"]),
                urgencies=frozenset(when["urgencies"]),
                after=timedelta(hours=raw["after_hours"]),
                template=raw["template"],
            )
        )
    if problems:
        raise FollowUpsError(source, problems)
    quiet = loaded["quiet_hours"]
    return FollowUpPlan(
        version=loaded["version"],
        quiet_hours=QuietHours(parse_hhmm(quiet["start"]), parse_hhmm(quiet["end"])),
        reply_window=timedelta(days=loaded["reply_window_days"]),
        rules=tuple(rules),
        templates={k: re.sub(r"\s+", " ", v).strip() for k, v in loaded["templates"].items()},
    )


def load_follow_ups(path: Path, vocab: Vocabulary) -> FollowUpPlan:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FollowUpsError(path, [str(exc)]) from exc
    return parse_follow_ups(data, vocab, path)
