"""Issue 12 §5 ("No input gives a 500"): text longer than the column it is written to was a
500 on PostgreSQL (`StringDataRightTruncation`; SQLite keeps any length, so only a run with
NAVIGATOR_TEST_DATABASE_URL proves the fixed cases). Every string a request or a console
form sends is bounded at the edge, so too long is a 422 naming the field; the walk below
covers schemas added later, the fixed cases the examples the security review found."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema, fields, validate
from sqlalchemy import select

import navigator.console
from navigator.auth.keys import LABEL_MAX, Caller
from navigator.core.extensions import db
from navigator.core.fields import FullPostcodeField, InVocabulary, NhsNumberField, OdsCodeField
from navigator.navigation.models import Navigation
from navigator.patients.models import AuditEvent
from tests.builders import api_key_for, load_directory, organisation, service
from tests.web.test_edge import all_fields, request_schemas

# Fields that load to a normalised identifier of a fixed short form (10 digits, an ODS code
# of 3 to 10 characters, a full postcode) or fail: bounded by what they accept.
IDENTIFIER_FIELDS = (FullPostcodeField, NhsNumberField, OdsCodeField)

# A regular expression bounds a length when it is anchored at both ends and repeats nothing
# without an upper bound (`*`, `+`, `{n,}`).
UNBOUNDED_REPEAT = re.compile(r"(?<!\\)[*+]|\{\d*,\}")


def _bounded(field: fields.Field) -> bool:
    if isinstance(field, IDENTIFIER_FIELDS):
        return True
    for v in field.validators:
        if isinstance(v, validate.Length) and v.max is not None:
            return True
        if isinstance(v, validate.OneOf | InVocabulary):  # a closed list of short codes
            return True
        if isinstance(v, validate.Regexp):
            pattern = v.regex.pattern
            anchored = pattern.startswith("^") and pattern.endswith("$")
            if anchored and not UNBOUNDED_REPEAT.search(pattern):
                return True
    return False


def form_schemas() -> Iterator[tuple[str, Schema]]:
    """Every schema a console page or a Twilio webhook parses with: each module's Schema
    classes (its own and those it imports), so a form added later is walked too."""
    modules = [
        importlib.import_module(f"navigator.console.{m.name}")
        for m in pkgutil.iter_modules(navigator.console.__path__)
    ]
    modules.append(importlib.import_module("navigator.sms.webhooks"))
    for module in modules:
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Schema) and value is not Schema:
                yield f"{module.__name__}:{name}", value()


def test_every_string_a_request_or_form_parses_has_a_max_length(app: Flask) -> None:
    """Issue 12 §5: every string that can reach a bounded column is bounded at the edge —
    the API's request schemas (as flask-smorest registered them, and the ORUK feed's), and
    every schema a console form or a webhook parses with."""
    walked = [*request_schemas(app), *form_schemas()]
    walked_names = {type(schema).__name__ for _, schema in walked}
    # The forms the review found unbounded are among those walked.
    assert {"CallDetailsSchema", "UserCreateSchema", "InboundSmsSchema"} <= walked_names
    unbounded = [
        (where, name)
        for where, schema in walked
        for name, field in all_fields(schema)
        if isinstance(field, fields.String) and not field.dump_only and not _bounded(field)
    ]
    assert not unbounded


def test_the_walk_finds_an_unbounded_string() -> None:
    """The check above can fail: a plain `fields.String()` is not bounded."""
    assert not _bounded(fields.String())
    assert not _bounded(fields.String(validate=validate.Regexp(r"^a+$")))
    assert _bounded(fields.String(validate=validate.Length(max=3)))


def test_a_callers_label_fits_its_columns_whatever_the_name() -> None:
    """Issue 12 §5: `user:id:email` with a 254-character email overflowed String(200) in
    the audit log and `created_by`; kind and id (which identify the caller) are kept."""
    long = Caller(2147483647, "n" * 300, "navigator", None, kind="user")
    assert len(long.label) == LABEL_MAX
    assert long.label.startswith("user:2147483647:nnn")
    assert Caller(7, "short", "integrator", None).label == "api:7:short"


def test_an_api_client_with_the_longest_name_is_audited(app: Flask, client: FlaskClient) -> None:
    """Issue 12 §5: a client named with 200 characters (the most `api-client create`
    allows) made every audited request a 500 on PostgreSQL; its label is cut to fit."""
    with app.app_context():
        load_directory(
            organisations=[organisation(id="rc9", ods_code="RC9")],
            services=[service(id="ucr", organisation="rc9")],
        )
        key = api_key_for(role="navigator", name="N" * 200)
    body = {
        "caller_role": "relative",
        "need": "fall_no_injury",
        "age": 80,
        "postcode": "MK42 9DJ",
        "nhs_number": "9434765919",  # audited
    }
    response = client.post(
        "/api/v1/navigations", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201, response.json
    with app.app_context():
        navigation = db.session.get(Navigation, response.json["id"])
        assert navigation is not None and len(navigation.created_by) == LABEL_MAX
        actors = db.session.scalars(select(AuditEvent.actor)).all()
        db.session.remove()
    assert actors and all(len(actor) == LABEL_MAX for actor in actors)


@pytest.mark.parametrize(
    ("path", "field", "limit"),
    [
        ("/oruk/services?organization_id=", "organization_id", 100),
        ("/oruk/services?start_time=10:00", "start_time", 20),
    ],
)
def test_oruk_text_filters_are_bounded(
    client: FlaskClient, path: str, field: str, limit: int
) -> None:
    response = client.get(path + "x" * (limit + 1))
    assert response.status_code in (400, 422)
    assert field in response.json["errors"]
