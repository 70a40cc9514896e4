"""The `opening` block of a directory record: its schema and its canonical form.

`OpeningSchema` validates a raw record's opening times (weekly sessions, bank-holiday hours,
specified dates, recurring entries; periods as ["HH:MM", "HH:MM"] London wall-clock pairs,
see `directory_of_services/FORMAT.md`); a recurring entry's rule is checked and normalised by
`navigator.directory.recurrence.parse_rule`. `canonical_opening` gives the one shape of the
block, and `recurring_rule_json` a recurring entry's identity (its rows' `opening_sessions.rule`
in `navigator.directory.store`). The rest of a record is `navigator.directory.records`'s, whose
`ServiceSchema` and `canonical_service` use these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from navigator.core.clock import WEEKDAYS, period
from navigator.core.schemas import StrictSchema
from navigator.directory.recurrence import RuleError, parse_rule

Record = dict[str, Any]


def _time_pair(value: list[str]) -> None:
    if len(value) != 2:
        raise ValidationError("A period is [opens, closes]")
    try:
        period(value[0], value[1])
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


_Periods = fields.List(fields.List(fields.String(), validate=_time_pair), load_default=list)


class SpecifiedDateSchema(StrictSchema):
    date = fields.Date(required=True)
    closed = fields.Boolean(load_default=False)
    sessions = _Periods

    @validates_schema
    def _closed_or_sessions(self, data: Mapping[str, Any], **_: Any) -> None:
        if data["closed"] and data["sessions"]:
            raise ValidationError("A closed date has no sessions", "sessions")
        if not data["closed"] and not data["sessions"]:
            raise ValidationError("Give sessions or closed: true", "sessions")


class WeeklySchema(StrictSchema):
    monday = _Periods
    tuesday = _Periods
    wednesday = _Periods
    thursday = _Periods
    friday = _Periods
    saturday = _Periods
    sunday = _Periods


class _MonthDays(fields.Field):
    """`bymonthday` as text ("1,15,-1"); a single day may be written as a number (15)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError('Give days of the month as text, e.g. "1,15,-1"')
        return str(value)


class RecurringSchema(StrictSchema):
    """A schedule that is not plain weekly (HSDS/RFC 5545 fields; see FORMAT.md). The rule is
    checked and normalised by `navigator.directory.recurrence.parse_rule` (byday in weekday order,
    bymonthday positive days first), whose errors name the field."""

    freq = fields.String(required=True, validate=validate.OneOf(("WEEKLY", "MONTHLY")))
    interval = fields.Integer(
        strict=True, allow_none=True, load_default=1, validate=validate.Range(min=1)
    )
    byday = fields.String(allow_none=True, load_default=None)
    bymonthday = _MonthDays(allow_none=True, load_default=None)
    dtstart = fields.Date(allow_none=True, load_default=None)
    until = fields.Date(allow_none=True, load_default=None)
    count = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1)
    )
    valid_from = fields.Date(allow_none=True, load_default=None)
    valid_to = fields.Date(allow_none=True, load_default=None)
    sessions = fields.List(
        fields.List(fields.String(), validate=_time_pair),
        required=True,
        validate=validate.Length(min=1, error="Give at least one session"),
    )

    @validates_schema
    def _rule(self, data: Mapping[str, Any], **_: Any) -> None:
        try:
            rule = parse_rule(data)
        except RuleError as exc:
            raise ValidationError(str(exc), exc.field) from exc
        if data["valid_from"] and data["valid_to"] and data["valid_to"] < data["valid_from"]:
            raise ValidationError("valid_to is before valid_from", "valid_to")
        plain = rule.freq == "WEEKLY" and rule.interval == 1 and rule.byday is not None
        bounds = ("dtstart", "until", "count", "valid_from", "valid_to")
        if plain and all(data[key] is None for key in bounds):
            raise ValidationError(
                "Every week without limits is plain weekly: give it under opening.weekly", "freq"
            )

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        rule = parse_rule(data)
        return data | {
            "interval": rule.interval,
            "byday": rule.byday,
            "bymonthday": rule.bymonthday,
        }


class OpeningSchema(StrictSchema):
    open_all_hours = fields.Boolean(load_default=False)
    weekly = fields.Nested(WeeklySchema, load_default=dict)
    bank_holidays = _Periods
    specified_dates = fields.List(fields.Nested(SpecifiedDateSchema), load_default=list)
    recurring = fields.List(fields.Nested(RecurringSchema), load_default=list)


def canonical_opening(opening: Mapping[str, Any]) -> Record:
    """The canonical `opening` block of a service record (from a loaded file or the tables):
    every key present; periods as sorted [opens, closes] lists; only weekdays with sessions;
    specified dates "YYYY-MM-DD", sorted; recurring entries as `_canonical_recurring` gives
    them."""
    weekly = opening.get("weekly") or {}
    return {
        "open_all_hours": bool(opening.get("open_all_hours")),
        "weekly": {
            day: sorted([list(p) for p in weekly[day]]) for day in WEEKDAYS if weekly.get(day)
        },
        "bank_holidays": sorted([list(p) for p in opening.get("bank_holidays") or []]),
        "specified_dates": sorted(
            (
                {
                    "date": str(entry["date"]),
                    "closed": bool(entry.get("closed")),
                    "sessions": sorted([list(p) for p in entry.get("sessions") or []]),
                }
                for entry in opening.get("specified_dates") or []
            ),
            key=lambda entry: entry["date"],
        ),
        "recurring": _canonical_recurring(opening.get("recurring") or []),
    }


RECURRING_RULE_KEYS = (
    "freq",
    "interval",
    "byday",
    "bymonthday",
    "dtstart",
    "until",
    "count",
    "valid_from",
    "valid_to",
)


def recurring_rule_json(entry: Mapping[str, Any]) -> str:
    """A canonical recurring entry's rule (every key but `sessions`) as JSON with sorted keys:
    the `opening_sessions.rule` of its rows, and its identity in the canonical form."""
    return json.dumps({key: entry[key] for key in RECURRING_RULE_KEYS}, sort_keys=True)


def _canonical_recurring(entries: Iterable[Mapping[str, Any]]) -> list[Record]:
    """Every key present (None where absent; interval an int; dates "YYYY-MM-DD"), sessions
    sorted, entries with the same rule merged (the tables cannot tell them apart and they mean
    the same) and sorted by their rule's JSON."""
    merged: dict[str, Record] = {}
    for entry in entries:
        rule: Record = {key: entry.get(key) for key in RECURRING_RULE_KEYS}
        rule["interval"] = int(rule["interval"] or 1)
        for key in ("dtstart", "until", "valid_from", "valid_to"):
            rule[key] = None if rule[key] is None else str(rule[key])
        if rule["bymonthday"] is not None:
            rule["bymonthday"] = str(rule["bymonthday"])
        slot = merged.setdefault(recurring_rule_json(rule), rule | {"sessions": []})
        slot["sessions"].extend(list(p) for p in entry.get("sessions") or [])
    return [merged[key] | {"sessions": sorted(merged[key]["sessions"])} for key in sorted(merged)]
