"""Validators for API fields that name a directory record: a service, or a care home."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from marshmallow import ValidationError, validate

from navigator.directory.reference import directory_index


def _service_exists(value: str) -> bool:
    return value in directory_index().by_id


def _care_home_exists(value: str) -> bool:
    entry = directory_index().by_id.get(value)
    return entry is not None and entry.service_type == "care_home"


REFERENCES: Mapping[str, tuple[Callable[[str], bool], str]] = {
    "service": (_service_exists, "No service with this id"),
    "care_home": (_care_home_exists, "Not a care home in the directory"),
}


def reference_problem(kind: str, value: str) -> str | None:
    """Why `value` is not a valid reference of this kind ("service", "care_home"), or None
    when it names a record in the directory. Needs an app context."""
    exists, message = REFERENCES[kind]
    return None if exists(value) else message


class References(validate.Validator):
    """An id naming a directory record of `kind`; checked when the request is parsed, so an
    unknown (or empty) id is a 422 naming the field, never a database integrity error.

    (A referral's `navigation_id` is checked by the referral service instead, which also
    refuses a call the client may not see with the same 422.)"""

    def __init__(self, kind: str) -> None:
        if kind not in REFERENCES:
            raise ValueError(f"unknown reference kind {kind!r}")
        self.kind = kind

    def __call__(self, value: str) -> str:
        if message := reference_problem(self.kind, value):
            raise ValidationError(message)
        return value
