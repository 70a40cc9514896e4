"""Dates as navigators type them (date of birth on a new call, the calls list's and the DTOC
page's dates): a day that does not exist, or one the database cannot hold, is refused rather
than guessed. A form's fields are the API schema's, by their request names, less named
exclusions that must still be fields."""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import Schema, fields

from navigator.console.forms import api_fields, named_message, parse_date


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("15/3/1940", date(1940, 3, 15)),
        (" 05/11/2026 ", date(2026, 11, 5)),
        ("1940-03-15", date(1940, 3, 15)),
        ("29/2/2024", date(2024, 2, 29)),
    ],
)
def test_a_real_date_is_read_day_first_or_iso(typed: str, read: date) -> None:
    assert parse_date(typed) == read


@pytest.mark.parametrize(
    "typed", ["31/2/1940", "29/2/2023", "3/15/1940", "15/3/40", "yesterday", "", "31/12/9999"]
)
def test_anything_else_is_not_a_date(typed: str) -> None:
    assert parse_date(typed) is None


class _Query(Schema):
    from_ = fields.String(data_key="from")
    to = fields.String()
    page = fields.Integer()
    total = fields.Integer(dump_only=True)


def test_api_fields_are_the_request_names_less_the_named_exclusions() -> None:
    assert api_fields(_Query, not_on_form={}) == ("from", "to", "page")
    assert api_fields(_Query, not_on_form={"page": "one page"}) == ("from", "to")


def test_an_exclusion_of_a_field_the_schema_no_longer_has_is_an_error() -> None:
    with pytest.raises(ValueError, match="per_page"):
        api_fields(_Query, not_on_form={"per_page": "one page"})


@pytest.mark.parametrize(
    ("field", "api_message", "shown"),
    [
        (
            "age",
            "Give the patient's age (age in years or age_days)",
            "Enter the patient's age or date of birth",
        ),
        ("postcode", "Not a valid UK postcode", "Enter a real postcode, like LU1 2LJ"),
        ("need", "Missing data for required field.", "Select the need"),
    ],
)
def test_api_messages_are_said_the_consoles_way(field: str, api_message: str, shown: str) -> None:
    """NHS design system error messages name the field in the user's words, never an API
    field name (fresh-eyes review of issue 17: "age in years or age_days" on the call form)."""
    assert named_message(field, api_message) == shown
