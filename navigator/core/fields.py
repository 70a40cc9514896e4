"""marshmallow fields and validators shared by API schemas: vocabulary codes, postcodes,
dates and instants, identifiers and bounded lists.

Ids that must name a directory record (a service, a care home) are checked by
`navigator.directory.fields.References`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from navigator.core.clock import LONDON
from navigator.core.identifiers import normalise_nhs_number, normalise_ods_code
from navigator.core.places import Located, parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY


class InVocabulary(validate.Validator):
    """A value from a controlled vocabulary, read from the data files at request time."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme

    def __call__(self, value: str) -> str:
        if not VOCABULARY.get().has(self.scheme, value):
            codes = ", ".join(VOCABULARY.get().codes(self.scheme))
            raise ValidationError(
                f"Not a known {self.scheme[:-1].replace('_', ' ')}. Use one of: {codes}"
            )
        return value


# Identifier fields: each normalises with `navigator.core.identifiers` (digits of any script to
# ASCII, full-width letters by NFKC), so what is checked, stored and matched is one ASCII
# spelling per identifier (issue 13, section 5; hazard H15).


class PostcodeField(fields.Field):
    """A UK postcode (full or outward code), resolved to place and coordinates.

    A valid postcode that locates nowhere (BFPO, GIR 0AA, an overseas territory) loads as a
    `Located` with no place and no point: out of area, not an error."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Located:
        parsed = parse_postcode(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValidationError("Not a valid UK postcode")
        return GAZETTEER.get().locate(parsed)


# Every date and instant a client sends lies in these years (inclusive): well inside Python's
# and the databases' ranges even after a week or a month of arithmetic either side.
EARLIEST, LATEST = 1900, 2200
YEARS_MESSAGE = f"Must be between the years {EARLIEST} and {LATEST}"


def in_year_range(value: date) -> bool:
    """True when a date (or datetime) falls in EARLIEST..LATEST."""
    return EARLIEST <= value.year <= LATEST


class DateField(fields.Date):
    """An ISO 8601 date (YYYY-MM-DD) in the years EARLIEST..LATEST."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        parsed: date = super()._deserialize(value, attr, data, **kwargs)
        if not in_year_range(parsed):
            raise ValidationError(YEARS_MESSAGE)
        return parsed


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
        if not in_year_range(parsed):
            raise ValidationError(YEARS_MESSAGE)
        return parsed


class IdentifierField(fields.String):
    """An identifier loaded as its one ASCII spelling by `normalise` (None: not valid, 422
    with `message`). Fixed-form: its normaliser bounds its length."""

    message = "Not valid"

    def normalise(self, value: str) -> str | None:
        return None  # each identifier gives its own normaliser

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        normalised = self.normalise(value) if isinstance(value, str) else None
        if normalised is None:
            raise ValidationError(self.message)
        return normalised


class FullPostcodeField(IdentifierField):
    """A full UK postcode, loaded as its normalised ASCII text (`MK42 9DJ`)."""

    message = "Not a valid UK postcode"

    def normalise(self, value: str) -> str | None:
        parsed = parse_postcode(value, allow_outward=False)
        return parsed.text if parsed else None


class OdsCodeField(IdentifierField):
    """An ODS code (3 to 10 letters and digits), loaded in ASCII capitals (`RC9`)."""

    message = "Not an ODS code"

    def normalise(self, value: str) -> str | None:
        return normalise_ods_code(value)


class NhsNumberField(IdentifierField):
    """An NHS number in any digit script, spaced or not, loaded as its 10 ASCII digits."""

    message = "Not a valid NHS number"

    def normalise(self, value: str) -> str | None:
        return normalise_nhs_number(value)


class BoundedList(fields.List):
    """A JSON array with at most `max_length` items (an int, or a function read at request
    time), optionally with no item twice.

    The length is checked before any item is deserialised, so a huge array costs one `len()`
    and not one validation per item.
    """

    def __init__(
        self,
        inner: fields.Field,
        *,
        max_length: int | Callable[[], int],
        unique: bool = False,
        **kwargs: Any,
    ) -> None:
        metadata = dict(kwargs.pop("metadata", {}))
        if isinstance(max_length, int):
            metadata.setdefault("maxItems", max_length)
        if unique:
            metadata.setdefault("uniqueItems", True)
        super().__init__(inner, metadata=metadata, **kwargs)
        self.max_length = max_length
        self.unique = unique

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        limit = self.max_length if isinstance(self.max_length, int) else self.max_length()
        if isinstance(value, list | tuple) and len(value) > limit:
            raise ValidationError(f"At most {limit} items")
        items: list[Any] = super()._deserialize(value, attr, data, **kwargs)
        if self.unique and len({repr(item) for item in items}) != len(items):
            raise ValidationError("Give each item at most once")
        return items


def scheme_size(scheme: str) -> Callable[[], int]:
    """How many codes a vocabulary scheme has, read at request time (for BoundedList)."""
    return lambda: len(VOCABULARY.get().codes(scheme))
