"""Form plumbing shared by the console pages: parse at the edge with marshmallow, show errors.

Forms post flat names; `body_from_form` keeps only the fields that were filled in, so the
API's schemas apply their own defaults and `required` rules exactly as for an API call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError, fields, validate

from navigator.core.errors import Problem
from navigator.core.fields import in_year_range
from navigator.core.schemas import field_messages
from navigator.core.vocabulary import Vocabulary


class CallDetailsSchema(Schema):
    """The new-call form's fields that are the console's own (not the API's): each as long
    as its column (`Navigation.caller_name` String(200), `caller_phone` String(40)), so too
    long is a form error naming the field, never a database error (issue 12 §5)."""

    caller_name = fields.String(validate=validate.Length(max=200))
    caller_phone = fields.String(validate=validate.Length(max=40))
    # Text in the database; bounded like a referral's notes, which it is shared as.
    notes = fields.String(validate=validate.Length(max=4000))


def field_id(name: str) -> str:
    return name.replace(".", "-").replace("_", "-")


def error_list(errors: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"text": message, "href": f"#{field_id(name)}"} for name, message in errors.items()]


def items_with_blank(
    options: Iterable[tuple[str, str]], selected: str | None, blank: str | None
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"value": "", "text": blank}] if blank else []
    items += [
        {"value": value, "text": text, "selected": (selected or "") == value}
        for value, text in options
    ]
    return items


def checked_items(
    options: Iterable[tuple[str, str]], chosen: Iterable[str | None]
) -> list[dict[str, Any]]:
    picked = set(chosen)
    return [{"value": value, "text": text, "checked": value in picked} for value, text in options]


def form_values(*multi: str) -> dict[str, Any]:
    """The submitted form as a dict; the names in `multi` are lists (checkboxes)."""
    values: dict[str, Any] = {k: v.strip() for k, v in request.form.items() if k not in multi}
    for name in multi:
        values[name] = request.form.getlist(name)
    return values


def body_from_form(values: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: values[name] for name in names if values.get(name) not in (None, "", [])}


def api_fields(schema: type[Schema], *, not_on_form: Mapping[str, str]) -> tuple[str, ...]:
    """The names an API request gives `schema`'s fields (`data_key` when set), in declared
    order, less those the console form leaves out on purpose (`not_on_form`: name -> why).
    So a field added to the API reaches the console form's body unless it is excluded here by
    name. Raises ValueError when `not_on_form` names a field the schema does not have, so an
    exclusion cannot outlive its field."""
    names = [
        field.data_key or name for name, field in schema().fields.items() if not field.dump_only
    ]
    if stale := set(not_on_form) - set(names):
        raise ValueError(f"{schema.__name__} has no field {', '.join(sorted(stale))}")
    return tuple(name for name in names if name not in not_on_form)


def first_messages(messages: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: " ".join(texts) for name, texts in messages.items()}


def load_or_errors(
    schema: Schema, body: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """(data, {}) when valid, else (None, {field: message})."""
    try:
        return schema.load(body), {}
    except ValidationError as exc:
        return None, first_messages(field_messages(exc))


def problem_errors(exc: Problem, default_field: str) -> dict[str, str]:
    """A service's Problem as form errors: its fields when it names them, else one message."""
    if exc.errors:
        return first_messages(exc.errors)
    return {default_field: exc.detail or exc.title}


def vocabulary_options(vocab: Vocabulary, scheme: str) -> list[tuple[str, str]]:
    """(code, label) pairs from a vocabulary scheme, in the vocabulary's order."""
    return [(code, term.label) for code, term in vocab.terms[scheme].items()]


def plain_options(codes: Iterable[str]) -> list[tuple[str, str]]:
    return [(code, code.replace("_", " ").capitalize()) for code in codes]


# Dates as people type them: day/month/year, or ISO.
DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def parse_date(text: str) -> date | None:
    """`15/3/1940` (how people write it) or `1940-03-15`; None when it is not a real date
    or falls outside the years 1900-2200 (a day after 9999-12-31 cannot be computed)."""
    try:
        if match := DATE.match(text):
            day, month, year = (int(part) for part in match.groups())
            parsed = date(year, month, day)
        else:
            parsed = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if in_year_range(parsed) else None
