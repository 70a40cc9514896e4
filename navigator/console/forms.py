"""Form plumbing shared by the console pages: parse at the edge with marshmallow, show errors.

Forms post flat names; `body_from_form` keeps only the fields that were filled in, so the
API's schemas apply their own defaults and `required` rules exactly as for an API call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FieldName:
    """How an error message names a form field: `noun` as it reads after "Enter" ("the
    patient's date of birth"); `choose` when it is picked from a list ("Select the reason")."""

    noun: str
    choose: bool = False


# Every console form field, by the name it posts (the last part of a nested API name:
# `patient.date_of_birth` is `date_of_birth`). A field not listed is named from its name
# ("the site"), so a new field still gets a message that names it; add it here to say it well.
FIELD_NAMES: dict[str, FieldName] = {
    # The patient
    "age": FieldName("the patient's age or date of birth"),
    "age_days": FieldName("the patient's age or date of birth"),
    "date_of_birth": FieldName("the patient's date of birth"),
    "name": FieldName("the patient's full name"),
    "patient_name": FieldName("the patient's full name"),
    "patient_id": FieldName("the patient's details"),
    "nhs_number": FieldName("the patient's NHS number"),
    "postcode": FieldName("the patient's postcode"),
    "sex": FieldName("the patient's sex", choose=True),
    "gp_practice_ods": FieldName("the GP practice's ODS code"),
    "care_home_service_id": FieldName("the care home", choose=True),
    # The call
    "caller_role": FieldName("who is calling", choose=True),
    "caller_name": FieldName("the caller's name"),
    "caller_phone": FieldName("the caller's phone number"),
    "need": FieldName("the need", choose=True),
    "red_flags": FieldName("any red flags", choose=True),
    "case_ref": FieldName("the case reference"),
    "notes": FieldName("notes"),
    "note": FieldName("a note"),
    "at": FieldName("the time of the call"),
    "action": FieldName("accept or choose another service", choose=True),
    "service_id": FieldName("the service to refer to instead", choose=True),
    "override_reason": FieldName("why you chose a different service"),
    # Referrals
    "status": FieldName("the new status", choose=True),
    "reason": FieldName("the reason", choose=True),
    "outcome": FieldName("the outcome"),
    # DTOC
    "provider_ods": FieldName("the provider's ODS code"),
    "site": FieldName("the site or ward"),
    "care_type": FieldName("the care type", choose=True),
    "clinically_ready_at": FieldName("the date and time the patient was clinically ready"),
    "mdt_ready_at": FieldName("the date and time the multidisciplinary team agreed"),
    "safe_to_transfer_at": FieldName("the date and time the patient was safe to transfer"),
    "responsible": FieldName("the responsible organisation", choose=True),
    "receiving_service_id": FieldName("the receiving service", choose=True),
    "receiving_accepted_at": FieldName("the date and time the receiving service accepted"),
    "expected_transfer_date": FieldName("the expected transfer date"),
    "effective_at": FieldName("the date and time the change applies from"),
    "transferred_at": FieldName("the date and time of the transfer"),
    "destination": FieldName("the destination"),
    "pathway": FieldName("the discharge pathway", choose=True),
    # Users and sign-in
    "email": FieldName("an email address"),
    "password": FieldName("a password"),
    "new_password": FieldName("a new password"),
    "role": FieldName("a role", choose=True),
    "reset_email": FieldName("a user", choose=True),
    # The directory, capacity and classification
    "q": FieldName("a name or description"),
    "radius_km": FieldName("a distance in kilometres"),
    "open_at": FieldName("a date and time"),
    "place": FieldName("a place", choose=True),
    "service_type": FieldName("a service type", choose=True),
    "sector": FieldName("a sector", choose=True),
    "needs": FieldName("the needs it meets", choose=True),
    "caller_roles": FieldName("who may call or refer", choose=True),
    "min_age_years": FieldName("the youngest age seen"),
    "max_age_years": FieldName("the oldest age seen"),
    "reset_after_minutes": FieldName(
        "how many minutes until the service is shown as taking patients again"
    ),
    # The dashboard
    "from": FieldName("the first month"),
    "to": FieldName("the last month"),
    "date": FieldName("a date"),
}

# marshmallow's own wording (and navigator's shared fields'), as the NHS design system's
# error-message patterns (https://service-manual.nhs.uk/design-system/components/error-message):
# missing -> "Enter …"/"Select …"; too long -> "… must be N characters or fewer"; not a
# number -> "… must be a number"; out of range -> "… must be between X and Y"; a date that
# cannot be read -> "… must be a real date". Anything else is a message written for people
# already, and is kept (after the field's name when it does not say which field it is about).
_MISSING = (
    "Missing data for required field.",
    "Field may not be null.",
    "Shorter than minimum length 1.",
    "Not a valid string.",
)
_NOT_A_NUMBER = ("Not a valid integer.", "Not a valid number.", "Not a valid boolean.")
_NOT_A_DATE = ("Not a valid date.", "Not a valid datetime.", "Not a valid ISO 8601 date-time")
_NOT_A_CHOICE = ("Must be one of:", "Not a valid choice.", "Unknown code")
_LONGER = re.compile(r"^(?:Longer than maximum length|Length must be between \d+ and) (\d+)\.$")
_RANGE = re.compile(
    r"^Must be greater than or equal to ([\d.]+) and less than or equal to ([\d.]+)\.$"
)
_AT_LEAST = re.compile(r"^Must be greater than or equal to ([\d.]+)\.$")
_AT_MOST = re.compile(r"^Must be less than or equal to ([\d.]+)\.$")


def field_name(name: str) -> FieldName:
    """How messages name field `name` (a form name or a nested API name "patient.name")."""
    last = name.rsplit(".", 1)[-1]
    return FIELD_NAMES.get(last) or FieldName("the " + last.replace("_", " "))


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


# Messages the API's schemas write for integrators, naming API fields: said the console's way
# (fresh-eyes review of issue 17: "Give the patient's age (age in years or age_days)").
_API_WORDING = {
    "Give the patient's age (age in years or age_days)": "Enter the patient's age or date of birth",
    "Give age or age_days, not both": "Enter the patient's age or date of birth, not both",
}


def named_message(name: str, message: str) -> str:
    """One of marshmallow's messages for field `name`, as an NHS-style error message that
    names the field ("Missing data for required field." on `age` -> "Enter the patient's age
    or date of birth"; on `reason` -> "Select the reason"). A message written for people (a
    service's own, like "Not a plausible date of birth") is kept as it is."""
    what = field_name(name)
    noun = what.noun
    if message in _API_WORDING:
        return _API_WORDING[message]
    if name == "postcode" and message.startswith("Not a valid UK postcode"):
        return "Enter a real postcode, like LU1 2LJ"
    if message in _MISSING:
        return f"{'Select' if what.choose else 'Enter'} {noun}"
    if message in _NOT_A_NUMBER:
        return f"{_capitalised(noun)} must be a number"
    if message in _NOT_A_DATE:
        return f"{_capitalised(noun)} must be a real date" + (
            " and time" if message != "Not a valid date." else ""
        )
    if message.startswith(_NOT_A_CHOICE):
        return f"Select {noun}"
    if match := _LONGER.match(message):
        return f"{_capitalised(noun)} must be {match.group(1)} characters or fewer"
    if match := _RANGE.match(message):
        return f"{_capitalised(noun)} must be between {match.group(1)} and {match.group(2)}"
    if match := _AT_LEAST.match(message):
        return f"{_capitalised(noun)} must be {match.group(1)} or more"
    if match := _AT_MOST.match(message):
        return f"{_capitalised(noun)} must be {match.group(1)} or less"
    if message == "Unknown field.":
        return f"{_capitalised(noun)} is not part of this form"
    return message.rstrip(".") if message.endswith(".") and "." not in message[:-1] else message


def first_messages(messages: Mapping[str, list[str]]) -> dict[str, str]:
    """Field messages as one message a field, each naming its field (`named_message`); the
    same message twice for one field is said once."""
    shown: dict[str, str] = {}
    for name, texts in messages.items():
        named = list(dict.fromkeys(named_message(name, text) for text in texts))
        shown[name] = ". ".join(named)
    return shown


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
