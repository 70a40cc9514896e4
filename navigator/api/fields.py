"""marshmallow fields and validators shared by API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from navigator.directory.context import gazetteer, vocabulary
from navigator.directory.opening import LONDON
from navigator.directory.places import Located, parse_postcode
from navigator.patients.nhs_number import normalise_nhs_number


class InVocabulary(validate.Validator):
    """A value from a controlled vocabulary, read from the data files at request time."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme

    def __call__(self, value: str) -> str:
        if not vocabulary().has(self.scheme, value):
            codes = ", ".join(vocabulary().codes(self.scheme))
            raise ValidationError(
                f"Not a known {self.scheme[:-1].replace('_', ' ')}. Use one of: {codes}"
            )
        return value


class PostcodeField(fields.Field):
    """A UK postcode (full or outward code), resolved to place and coordinates."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Located:
        parsed = parse_postcode(str(value)) if isinstance(value, str) else None
        if parsed is None:
            raise ValidationError("Not a valid UK postcode")
        return gazetteer().locate(parsed)


EARLIEST, LATEST = 1900, 2200


class InstantField(fields.DateTime):
    """ISO 8601; a time without an offset is taken as Europe/London wall-clock time."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ValidationError("Not a valid ISO 8601 date-time")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("Not a valid ISO 8601 date-time") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=LONDON)
        # Opening-time arithmetic looks a week either side; keep well inside datetime's range.
        if not EARLIEST <= parsed.year <= LATEST:
            raise ValidationError(f"Must be between the years {EARLIEST} and {LATEST}")
        return parsed


class NhsNumberField(fields.String):
    """An NHS number, normalised to its 10 digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        digits = normalise_nhs_number(value) if isinstance(value, str) else None
        if digits is None:
            raise ValidationError("Not a valid NHS number")
        return digits
