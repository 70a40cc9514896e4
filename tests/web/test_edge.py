"""The edge (navigator.web.edge and the request schemas): hostile input gets a clear 4xx,
never a 500, and is refused before it costs anything.

The worked examples are those of issue 12 (§4 Limits, §5 No input gives a 500, §7 Smaller
items), each of which gave a 500 or a misleading answer before; the checks over every route
are built from `app.url_map` and the request schemas flask-smorest registered, so an endpoint
added later is covered without editing this file.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from navigator.core.extensions import db
from navigator.core.fields import BoundedList, DateField, InstantField
from navigator.core.reference import VOCABULARY
from navigator.core.settings import settings_from_env
from navigator.directory.oruk_query import OrukServiceArgs
from navigator.navigation.models import Navigation
from navigator.web.edge import MAX_INT_ID, SETS_ASIDE, json_text_errors
from tests.builders import console_user, load_directory, organisation, service
from tests.console.conftest import post_form

Auth = dict[str, dict[str, str]]
PROBLEM = "application/problem+json"
MIB = 1024 * 1024
PATIENT = {"name": "Ada Example", "date_of_birth": "1941-03-02", "postcode": "MK42 9DJ"}
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


# --- the routes, from the url_map ------------------------------------------------------


def concrete(rule: str, value: str = "x", int_value: str = "1") -> str:
    """A rule's path with each variable filled in (ints with `int_value`)."""
    return PARAM.sub(lambda m: int_value if m.group(1) == "int" else value, rule)


def routes(app: Flask) -> Iterator[tuple[str, str]]:
    """(method, path) for every route and method the app serves."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, concrete(rule.rule)


def json_endpoints(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every API operation that takes a body."""
    prefix = app.config["OPENAPI_URL_PREFIX"] + "/"
    found = [
        (method, path)
        for method, path in routes(app)
        if path.startswith(prefix) and method in ("POST", "PUT", "PATCH")
    ]
    assert len(found) >= 9, found  # navigations, patients, referrals x2, transitions, dtoc x2 …
    return found


def request_schemas(app: Flask) -> list[tuple[str, Schema]]:
    """(endpoint, schema) for every request schema the API parses, plus the ORUK feed's."""
    found: list[tuple[str, Schema]] = [("oruk.services", OrukServiceArgs())]
    for endpoint, view in app.view_functions.items():
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            found.append((endpoint, parameter["schema"]))
    assert len(found) >= 15
    return found


def all_fields(schema: Schema, prefix: str = "") -> Iterator[tuple[str, fields.Field]]:
    for name, field in schema.fields.items():
        yield prefix + name, field
        inner = field.inner if isinstance(field, fields.List) else None
        if inner is not None:
            yield f"{prefix}{name}[]", inner
        if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
            yield from all_fields(field.schema, f"{prefix}{name}.")


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_directory(
        organisations=[organisation(id="rc9", ods_code="RC9")],
        services=[
            service(id="ucr", organisation="rc9"),
            service(id="home", organisation="rc9", service_type="care_home"),
        ],
    )


@pytest.fixture
def navigator_console(app: Flask, client: FlaskClient) -> FlaskClient:
    """The test client, signed in to the console as a navigator through the real form."""
    with app.app_context():
        email, password = console_user(role="navigator")
        db.session.remove()
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302
    return client


class Unreadable(io.RawIOBase):
    """A request body of `size` bytes that fails the test if anything reads it (the test
    client only seeks it to learn its length)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size, self.position = size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = self.size if whence == io.SEEK_END else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the body was read")


# --- §4 body size ------------------------------------------------------------------------


def test_the_body_limit_is_a_setting_defaulting_to_one_mebibyte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings_from_env()["MAX_CONTENT_LENGTH"] == MIB
    monkeypatch.setenv("MAX_REQUEST_BYTES", "2048")
    assert settings_from_env()["MAX_CONTENT_LENGTH"] == 2048


def test_every_route_refuses_an_oversized_body_with_413_before_reading_it(
    app: Flask, client: FlaskClient
) -> None:
    """Content-Length over the limit: 413 on every route and method, and the stream is never
    read (issue 12 §4: the webhooks read 50 MB before answering 403)."""
    wrong = []
    for method, path in routes(app):
        response = client.open(
            path,
            method=method,
            input_stream=Unreadable(50 * MIB),
            content_type="application/x-www-form-urlencoded",
        )
        machine = path.startswith(("/api/", "/oruk/", "/webhooks/", "/static/"))
        # Under /fhir/ every error is a FHIR OperationOutcome (navigator/fhir/outcome.py).
        expected = (
            "application/fhir+json"
            if path.startswith("/fhir/")
            else PROBLEM
            if machine
            else "text/html"  # the console answers with a page
        )
        if response.status_code != 413 or response.mimetype != expected:
            wrong.append((method, path, response.status_code, response.mimetype))
    assert not wrong
    webhook = client.post(
        "/webhooks/twilio/inbound",
        input_stream=Unreadable(50 * MIB),
        content_type="application/x-www-form-urlencoded",
    )
    assert webhook.status_code == 413 and webhook.mimetype == PROBLEM
    assert webhook.json["errors"] == {"body": [f"At most {MIB} bytes"]}


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/webhooks/twilio/inbound", "application/x-www-form-urlencoded"),
        ("/webhooks/twilio/status", "application/x-www-form-urlencoded"),
        ("/api/v1/patients", "application/json"),
    ],
)
def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit(
    client: FlaskClient, auth: Auth, path: str, content_type: str
) -> None:
    """No Content-Length (chunked; gunicorn marks the stream terminated): werkzeug alone would
    silently truncate at the limit; one byte over must be 413, exactly the limit must not."""

    def send(size: int) -> Any:
        return client.post(
            path,
            input_stream=io.BytesIO(b"x" * size),
            content_type=content_type,
            headers={"Transfer-Encoding": "chunked", **auth["admin"]},
            environ_overrides={"wsgi.input_terminated": True},
        )

    over = send(MIB + 1)
    assert over.status_code == 413 and over.mimetype == PROBLEM
    assert send(MIB).status_code != 413


def test_the_console_answers_an_oversized_form_with_an_html_page(
    navigator_console: FlaskClient,
) -> None:
    client = navigator_console
    response = client.post("/calls", data={"case_ref": "x" * (MIB + 1)})
    assert response.status_code == 413 and response.mimetype == "text/html"


# --- §7 content type ----------------------------------------------------------------------


def test_every_json_endpoint_answers_415_to_text_or_form_bodies(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    """Issue 12 §7: not a misleading 422 "missing field"."""
    wrong = []
    for method, path in json_endpoints(app):
        for kwargs in (
            {"data": '{"name": "x"}', "content_type": "text/plain"},
            {"data": {"name": "x"}},  # application/x-www-form-urlencoded
            {"data": "", "content_type": "text/plain"},
        ):
            response = client.open(path, method=method, headers=auth["admin"], **kwargs)
            if response.status_code != 415 or response.mimetype != PROBLEM:
                wrong.append((method, path, kwargs, response.status_code))
            elif response.json["errors"] != {"Content-Type": ["Must be application/json"]}:
                wrong.append((method, path, response.json))
    assert not wrong


def test_json_with_a_charset_or_a_plus_json_type_is_accepted(
    client: FlaskClient, auth: Auth
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = client.post(
            "/api/v1/patients",
            data=json.dumps({"name": "Ada"}),
            content_type=content_type,
            headers=auth["navigator"],
        )
        assert response.status_code == 201, (content_type, response.json)


# --- §4/§5 JSON nesting ---------------------------------------------------------------------


def test_deep_nesting_is_400_naming_the_body_on_every_json_endpoint(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    """Issue 12 §5: 100,000 nested `[` gave a RecursionError 500. Deeper than 32 is 400."""
    wrong = []
    for method, path in json_endpoints(app):
        for body in ("[" * 100_000, "[" * 33 + "]" * 33, '{"a":' * 33 + "1" + "}" * 33):
            response = client.open(
                path,
                method=method,
                data=body,
                content_type="application/json",
                headers=auth["admin"],
            )
            if response.status_code != 400 or "body" not in response.json.get("errors", {}):
                wrong.append((method, path, body[:10], response.status_code))
    assert not wrong


def test_nesting_up_to_the_limit_reaches_the_schema(client: FlaskClient, auth: Auth) -> None:
    body = "[" * 32 + "]" * 32
    response = client.post(
        "/api/v1/patients", data=body, content_type="application/json", headers=auth["admin"]
    )
    assert response.status_code == 422  # the schema's "Invalid input type", not the edge's 400


@pytest.mark.parametrize(
    "body", ['{"a": NaN}', '{"a": Infinity}', "{'a': 1}", '{"a": 1', b"\xff\xfe"]
)
def test_invalid_json_is_400_naming_the_body(client: FlaskClient, auth: Auth, body: Any) -> None:
    response = client.post(
        "/api/v1/navigations", data=body, content_type="application/json", headers=auth["admin"]
    )
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert list(response.json["errors"]) == ["body"]


def test_the_json_walk_counts_depth_and_names_paths() -> None:
    assert json_text_errors([[["a"]]], max_depth=3) == {}
    assert json_text_errors([[[["a"]]]], max_depth=3) is None
    assert json_text_errors({"p": {"name": "a\x00"}, "l": ["ok", "\ud800"]}, max_depth=5) == {
        "p.name": ["Contains a NUL character (U+0000), which cannot be stored."],
        "l.1": ["Contains invalid Unicode (a lone surrogate, e.g. \\ud800)."],
    }


# --- §5 NUL and lone surrogates ---------------------------------------------------------------


def test_every_json_endpoint_refuses_nul_and_lone_surrogates_naming_the_field(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    wrong = []
    for method, path in json_endpoints(app):
        for raw, field in (
            ('{"note": "a\\ud800"}', "note"),
            ('{"patient": {"name": "a\\u0000b"}}', "patient.name"),
            ('{"red_flags": ["ok", "\\udfff"]}', "red_flags.1"),
            ('{"x\\u0000": 1}', "(key)"),
        ):
            response = client.open(
                path,
                method=method,
                data=raw,
                content_type="application/json",
                headers=auth["admin"],
            )
            if response.status_code != 422 or field not in response.json.get("errors", {}):
                wrong.append((method, path, raw, response.status_code))
    assert not wrong


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/navigations", {"caller_role": "nhs111", "age": 80, "need": "fall_no_injury",
                                 "postcode": "MK42 9DJ", "case_ref": "CR\ud800"}, "case_ref"),
        ("/api/v1/patients", PATIENT | {"name": "Ada\ud800"}, "name"),
        ("/api/v1/referrals", {"service_id": "ucr", "patient": PATIENT, "reason": "Fell\x00",
                               "urgency": "urgent", "consent": True}, "reason"),
        ("/api/v1/transitions", {"event_id": "e\ud83d", "type": "ae_attendance",
                                 "occurred_at": "2026-11-01T10:00:00Z", "patient": PATIENT},
         "event_id"),
        ("/api/v1/dtoc", {"patient": PATIENT, "provider_ods": "RC9", "site": "Bedford\ud800",
                          "care_type": "acute", "reason": "E", "responsible": "social_care"},
         "site"),
    ],
)  # fmt: skip
def test_the_five_unicode_500s_of_the_issue_are_422(
    client: FlaskClient, auth: Auth, directory: None, path: str, body: dict[str, Any], field: str
) -> None:
    """Issue 12 §5: otherwise valid bodies with a lone surrogate (UnicodeEncodeError on the
    way to the database) or a NUL (PostgreSQL refuses it) in one text field."""
    response = client.post(path, json=body, headers=auth["navigator"])
    assert response.status_code == 422 and response.mimetype == PROBLEM, response.json
    assert list(response.json["errors"]) == [field]


def test_nul_in_a_query_string_or_path_is_refused_on_every_get_route(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    """`%00` decodes to NUL (PostgreSQL cannot compare with it); percent-encoded invalid UTF-8
    (`%ED%A0%80`, a surrogate) decodes to U+FFFD and is harmless."""
    wrong = []
    for method, path in routes(app):
        if method != "GET":
            continue
        query = client.get(f"{path}?zz=a%00b", headers=auth["admin"])
        # The ORUK feed and the FHIR API answer every bad query with 400, their convention.
        if query.status_code != (400 if path.startswith(("/oruk/", "/fhir/")) else 422):
            wrong.append((path, "query", query.status_code))
        if "/x" in path:
            in_path = client.get(path.replace("/x", "/a%00b", 1), headers=auth["admin"])
            if in_path.status_code != 404:
                wrong.append((path, "path", in_path.status_code))
    assert not wrong
    api = client.get("/api/v1/services?q=a%00b", headers=auth["admin"])
    assert api.mimetype == PROBLEM and list(api.json["errors"]) == ["q"]
    surrogate = client.get("/api/v1/services?q=%ED%A0%80", headers=auth["admin"])
    assert surrogate.status_code == 200


def test_nul_in_a_header_is_400(client: FlaskClient, auth: Auth, directory: None) -> None:
    response = client.post(
        "/api/v1/referrals",
        json={"service_id": "ucr", "patient": PATIENT, "reason": "r", "urgency": "urgent",
              "consent": True},
        headers={**auth["navigator"], "Idempotency-Key": "k\x00"},
    )  # fmt: skip
    assert response.status_code == 400 and response.mimetype == PROBLEM


def test_nul_in_a_console_form_is_an_html_error_not_a_500(
    navigator_console: FlaskClient,
) -> None:
    client = navigator_console
    response = post_form(client, "/calls", {"case_ref": "a\x00b"})
    assert response.status_code == 422 and response.mimetype == "text/html"


def test_a_nul_in_an_sms_body_is_dropped_after_the_signature_check(
    app: Flask, client: FlaskClient
) -> None:
    """Twilio's form fields are not refused at the edge (the texter cannot fix them): unsigned
    they get 403 as always; `form_text` drops the NUL once the signature holds."""
    from navigator.sms.webhooks import form_text

    unsigned = client.post("/webhooks/twilio/inbound", data={"From": "+44", "Body": "a\x00b"})
    assert unsigned.status_code == 403
    with app.test_request_context(method="POST", data={"Body": "a\x00b"}):
        assert form_text("Body") == "ab" and form_text("From") is None


# --- §4 arrays --------------------------------------------------------------------------------


def test_every_list_in_a_request_schema_is_bounded(app: Flask) -> None:
    """Issue 12 §4: "Array fields have maximum lengths"; found from the registered schemas."""
    unbounded = [
        (endpoint, name)
        for endpoint, schema in request_schemas(app)
        for name, field in all_fields(schema)
        if isinstance(field, fields.List) and not isinstance(field, BoundedList)
    ]
    assert not unbounded


def test_red_flags_are_at_most_the_vocabulary_and_unique(
    client: FlaskClient, auth: Auth, app_ctx: Any
) -> None:
    """Issue 12 §4: a million-item array held a worker for 3 s. As many items as fit in the
    body limit are refused on their count alone, before any item is looked at, unless one of
    them is a known red flag (issue 13 §1: then the call is answered, the rest are warnings)."""
    codes = VOCABULARY.get().codes("red_flags")
    body = {"caller_role": "nhs111", "age": 80, "postcode": "MK42 9DJ"}
    many = ["zz"] * ((MIB - 200) // 6)  # `"zz", ` is six bytes: as many as the limit allows
    started = time.perf_counter()
    response = client.post(
        "/api/v1/navigations", json=body | {"red_flags": many}, headers=auth["navigator"]
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 422
    # Only the count is reported: no per-item "Not a known red flag" errors were computed.
    assert response.json["errors"] == {"red_flags": [f"At most {len(codes)} items"]}
    assert elapsed < 1.0, elapsed
    twice = client.post(
        "/api/v1/navigations",
        json=body | {"red_flags": [codes[0], codes[0]]},
        headers=auth["navigator"],
    )
    # Issue 13 §1 comes first for a known flag: 999 is never blocked, so a repeat is a warning.
    assert twice.status_code == 201, twice.json
    assert {"field": "red_flags.1", "message": "Given twice: counted once."} in twice.json[
        "warnings"
    ]
    flagged = client.post(
        "/api/v1/navigations",
        json=body | {"red_flags": [codes[0], *many]},
        headers=auth["navigator"],
    )
    assert flagged.status_code == 201, flagged.json
    assert flagged.json["recommendation"]["service"]["service_type"] == "ambulance_999"
    assert len(flagged.json["warnings"]) <= 30
    every = client.post(
        "/api/v1/navigations", json=body | {"red_flags": list(codes)}, headers=auth["navigator"]
    )
    assert every.status_code != 422, every.json


# --- §4/§5 integers -------------------------------------------------------------------------


def test_every_number_in_a_request_schema_has_a_range(app: Flask) -> None:
    """Issue 12 §4: "Every integer query or path parameter has a documented range" (the Range
    validator is what the OpenAPI's minimum/maximum come from)."""
    unranged = []
    for endpoint, schema in request_schemas(app):
        for name, field in all_fields(schema):
            if isinstance(field, fields.Integer | fields.Float):
                ranges = [v for v in field.validators if isinstance(v, validate.Range)]
                if not any(r.min is not None and r.max is not None for r in ranges):
                    unranged.append((endpoint, name))
    assert not unranged


def test_page_ten_to_the_twenty_is_422_naming_page(client: FlaskClient, auth: Auth) -> None:
    """Issue 12 §5: `GET /referrals?page=10^20` overflowed in the database."""
    for path in ("/api/v1/referrals", "/api/v1/services", "/oruk/services"):
        response = client.get(f"{path}?page={10**20}", headers=auth["admin"])
        assert response.status_code in (400, 422) and "page" in response.json["errors"], path


def test_every_int_path_part_out_of_range_is_404(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    """Issue 12 §5: `POST /api/v1/worklist/9223372036854775808/complete` overflowed; the same
    holds for the console's `<int:…>` routes."""
    int_rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert {r.rule for r in int_rules} >= {"/api/v1/worklist/<int:task_id>/complete"}
    for rule in int_rules:
        method = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})[0]
        for value in (str(2**63), str(MAX_INT_ID + 1), "9" * 5000, "0"):
            response = client.open(
                concrete(rule.rule, int_value=value), method=method, json={}, headers=auth["admin"]
            )
            assert response.status_code == 404, (rule.rule, value[:20], response.status_code)
        at_max = client.open(concrete(rule.rule, int_value=str(MAX_INT_ID)), method=method,
                             json={"outcome": "x"}, headers=auth["admin"])  # fmt: skip
        assert at_max.status_code < 500, rule.rule


# --- §4/§5 dates ------------------------------------------------------------------------------


def test_every_date_in_a_request_schema_is_bounded(app: Flask) -> None:
    unbounded = [
        (endpoint, name)
        for endpoint, schema in request_schemas(app)
        for name, field in all_fields(schema)
        if isinstance(field, fields.Date | fields.DateTime)
        and not isinstance(field, DateField | InstantField)
    ]
    assert not unbounded


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=9999-12-31", "from"), ("to=0001-01-01", "to"), ("from=1899-12-31", "from")],
)
def test_gaps_out_of_range_dates_are_422(
    client: FlaskClient, auth: Auth, query: str, field: str
) -> None:
    """Issue 12 §5: `GET /gaps?from=9999-12-31` overflowed computing the day after."""
    response = client.get(f"/api/v1/gaps?{query}", headers=auth["navigator"])
    assert response.status_code == 422 and field in response.json["errors"]


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("2016-01", "2025-12", 200),  # ten years: the most allowed
        ("2016-01", "2026-01", 422),  # ten years and a month
        ("0001-01", "9999-12", 422),
        ("9999-01", "9999-12", 422),
        ("1899-12", "1900-01", 422),
        ("2200-01", "2200-12", 200),
    ],
)
def test_cisp_accepts_at_most_ten_years_between_1900_and_2200(
    client: FlaskClient, auth: Auth, start: str, end: str, status: int
) -> None:
    """Issue 12 §4: "the CISP metrics accept at most 10 years, years 1900–2200"."""
    response = client.get(f"/api/v1/metrics/cisp?from={start}&to={end}", headers=auth["admin"])
    assert response.status_code == status, response.json


def test_dtoc_expected_transfer_date_is_bounded(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = {"patient": PATIENT, "provider_ods": "RC9", "care_type": "acute", "reason": "E",
            "responsible": "social_care", "expected_transfer_date": "9999-12-31"}  # fmt: skip
    response = client.post("/api/v1/dtoc", json=body, headers=auth["navigator"])
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["expected_transfer_date"]


def test_the_console_call_search_in_year_9999_shows_a_field_message(
    navigator_console: FlaskClient,
) -> None:
    """Issue 12 §5: the console's call search with year 9999 answered JSON to a browser."""
    client = navigator_console
    for day in ("31/12/9999", "9999-12-31", "1/1/0001"):
        response = post_form(client, "/calls", {"date": day})
        assert response.status_code == 422 and response.mimetype == "text/html", day
        assert "Enter a real date" in response.text


# --- §5 references ----------------------------------------------------------------------------


def _inline(care_home: str) -> dict[str, Any]:
    return PATIENT | {"care_home_service_id": care_home}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/dtoc", {"provider_ods": "RC9", "care_type": "acute", "reason": "E",
                          "responsible": "social_care"}),
        ("/api/v1/transitions", {"event_id": "e1", "type": "ae_attendance",
                                 "occurred_at": "2026-11-01T10:00:00Z"}),
        ("/api/v1/referrals", {"service_id": "ucr", "reason": "Fell", "urgency": "urgent",
                               "consent": True}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("care_home", ["no-such-service", "ucr", ""])
def test_an_inline_patients_unknown_care_home_is_422_naming_the_field(
    client: FlaskClient,
    auth: Auth,
    directory: None,
    path: str,
    body: dict[str, Any],
    care_home: str,
) -> None:
    """Issue 12 §5: an IntegrityError 500 before. A service that is not a care home is no
    better than none."""
    response = client.post(
        path, json=body | {"patient": _inline(care_home)}, headers=auth["navigator"]
    )
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["patient.care_home_service_id"]
    accepted = client.post(
        path, json=body | {"patient": _inline("home")}, headers=auth["navigator"]
    )
    assert accepted.status_code == 201, accepted.json


@pytest.mark.parametrize("navigation_id", ["", "00000000-0000-0000-0000-000000000000", "x" * 36])
def test_an_unknown_or_empty_navigation_id_is_422(
    client: FlaskClient, auth: Auth, directory: None, navigation_id: str
) -> None:
    """Issue 12 §5: `navigation_id: ""` gave an IntegrityError 500."""
    body = {"service_id": "ucr", "patient": PATIENT, "reason": "Fell", "urgency": "urgent",
            "consent": True, "navigation_id": navigation_id}  # fmt: skip
    response = client.post("/api/v1/referrals", json=body, headers=auth["navigator"])
    assert response.status_code == 422
    assert response.json["errors"] == {"navigation_id": ["No navigation with this id"]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/referrals", {"service_id": "nope", "patient": PATIENT, "reason": "r",
                               "urgency": "urgent", "consent": True}, "service_id"),
        ("/api/v1/dtoc", {"patient": PATIENT, "provider_ods": "RC9", "care_type": "acute",
                          "reason": "E", "responsible": "social_care",
                          "receiving_service_id": "nope"}, "receiving_service_id"),
        ("/api/v1/patients", PATIENT | {"care_home_service_id": "nope"}, "care_home_service_id"),
        ("/api/v1/navigations", {"caller_role": "care_home", "age": 80, "need": "fall_no_injury",
                                 "postcode": "MK42 9DJ", "care_home_service_id": "ucr"},
         "care_home_service_id"),
    ],
)  # fmt: skip
def test_every_other_reference_is_checked_when_the_request_is_parsed(
    client: FlaskClient, auth: Auth, directory: None, path: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(path, json=body, headers=auth["navigator"])
    assert response.status_code == 422 and list(response.json["errors"]) == [field]


def test_only_the_red_flag_endpoints_set_bad_text_aside(
    app: Flask, client: FlaskClient, auth: Auth, navigator_console: FlaskClient
) -> None:
    """Clinical review of issue 13, F2: the edge sets aside NUL and lone surrogates (for the
    view to warn about) only on the two endpoints that must answer a red flag with 999
    whatever else is wrong; everywhere else, and on those without a red flag, they are
    refused as issue 12 §5 requires, naming the field."""
    marked = {name for name, view in app.view_functions.items() if getattr(view, SETS_ASIDE, 0)}
    assert marked == {"navigations.create_navigation", "console.new_call"}
    call = {"caller_role": "public", "need": "minor_illness", "age": 70, "postcode": "MK42 9DJ"}
    nul = "Contains a NUL character (U+0000), which cannot be stored."
    surrogate = "Contains invalid Unicode (a lone surrogate, e.g. \\ud800)."
    for body, field, message in (
        (call | {"case_ref": "AB123\x00"}, "case_ref", nul),
        (call | {"red_flags": ["hiccups\ud800"]}, "red_flags.0", surrogate),
        (call | {"red_flags": ["chest_pain\x00"]}, "red_flags.0", nul),  # no flag once set aside
    ):
        response = client.post("/api/v1/navigations", json=body, headers=auth["navigator"])
        assert response.status_code == 422 and response.mimetype == PROBLEM, response.json
        assert response.json["errors"] == {field: [message]}
        assert response.json["code"] == "invalid_text"
    form = post_form(navigator_console, "/calls/new", {"need": "minor_illness", "notes": "a\x00"})
    assert form.status_code == 422 and "Invalid characters in the form: notes." in form.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Navigation)) == 0
