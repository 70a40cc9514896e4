"""No input ever produces a 500: random query strings and bodies get 2xx or a clear 4xx."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.builders import load_directory, service

PARAMS = [
    "q",
    "need",
    "service_type",
    "sector",
    "place",
    "postcode",
    "radius_km",
    "age",
    "age_days",
    "sex",
    "caller_role",
    "open_at",
    "open_now",
    "include_unavailable",
    "page",
    "per_page",
]
ORUK_PARAMS = [
    "search",
    "text",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "minimum_age",
    "maximum_age",
    "day",
    "start_time",
    "end_time",
    "postcode",
    "proximity",
    "page",
    "per_page",
]
values = st.one_of(
    st.text(max_size=30),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "true",
            "false",
            "MK42 9DJ",
            "2026-13-45T99:99",
            "2026-11-23T12:00:00+14:00",
            "luton",
            "-1",
            "1e309",
        ]
    ),
)


@pytest.fixture
def directory(app_ctx: Any) -> None:
    # loaded once per test function; hypothesis then runs every example against it
    load_directory(
        services=[
            service(id="s"),
            service(
                id="gp",
                service_type="gp_practice",
                opening={"weekly": {"monday": [["08:00", "18:30"]]}},
            ),
        ]
    )


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(query=st.dictionaries(st.sampled_from(PARAMS), values, max_size=6))
@example(query={"open_at": "9999-12-31T23:59:59-14:00"})
@example(query={"open_at": "0001-01-01T00:00:00+14:00"})
def test_directory_search_never_500s(
    client: FlaskClient, auth: dict[str, dict[str, str]], query: dict[str, str]
) -> None:
    response = client.get(f"/api/v1/services?{urlencode(query)}", headers=auth["integrator"])
    assert response.status_code in (200, 400, 422), (query, response.json)
    if response.status_code != 200:
        assert response.mimetype == "application/problem+json"


@FUZZ
@given(query=st.dictionaries(st.sampled_from(ORUK_PARAMS), values, max_size=6))
def test_oruk_feed_never_500s(client: FlaskClient, directory: None, query: dict[str, str]) -> None:
    response = client.get(f"/oruk/services?{urlencode(query)}")
    assert response.status_code in (200, 400), (query, response.json)


@FUZZ
@given(
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(["status", "note", "reset_after_minutes", "x"]),
            st.one_of(values, st.none(), st.integers()),
        ),
        st.lists(st.integers()),
        st.text(),
    )
)
def test_capacity_update_never_500s(
    client: FlaskClient, auth: dict[str, dict[str, str]], directory: None, body: Any
) -> None:
    response = client.put("/api/v1/services/s/capacity", json=body, headers=auth["navigator"])
    assert response.status_code in (200, 400, 422), (body, response.json)


# --- every JSON endpoint and the list queries (issue 12, §5) ---------------------------------

BODY_KEYS = [
    "name", "patient", "patient_id", "navigation_id", "service_id", "care_home_service_id",
    "red_flags", "need", "caller_role", "age", "age_days", "postcode", "at", "case_ref",
    "reason", "urgency", "consent", "notes", "status", "outcome", "note", "event_id", "type",
    "occurred_at", "provider_ods", "site", "care_type", "responsible", "receiving_service_id",
    "expected_transfer_date", "date_of_birth", "nhs_number", "pathway", "reset_after_minutes",
]  # fmt: skip
LIST_PARAMS = ["page", "per_page", "status", "service_id", "overdue", "from", "to", "open",
               "place", "format"]  # fmt: skip


# Strings that broke the database or the parser before the edge: lone surrogates (no UTF-8
# encoding), NUL (PostgreSQL refuses it), numbers past 64 bits, far-off dates.
hostile_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "a\x00b", "", "9999-12-31", "0001-01"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(BODY_KEYS), hostile_text), children, max_size=5),
    ),
    max_leaves=20,
)


@FUZZ
@given(data=st.data())
def test_every_json_endpoint_never_500s(
    app: Any, client: FlaskClient, auth: dict[str, dict[str, str]], directory: None, data: Any
) -> None:
    """Random JSON (right-looking keys, hostile values, any nesting) on every API operation
    that takes a body, found from the url_map: 2xx or a 4xx problem, never a 5xx."""
    method, path = data.draw(st.sampled_from(_json_endpoints(app)), label="endpoint")
    body = data.draw(
        st.one_of(
            st.dictionaries(st.sampled_from(BODY_KEYS), json_values, max_size=8),
            json_values,
            st.just("[" * 2000),
        ),
        label="body",
    )
    raw = body if isinstance(body, str) and body.startswith("[[") else json.dumps(body)
    response = client.open(
        path, method=method, data=raw, content_type="application/json", headers=auth["admin"]
    )
    assert response.status_code < 500, (method, path, raw[:200], response.json)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


@FUZZ
@given(
    path=st.sampled_from(
        ["/api/v1/referrals", "/api/v1/gaps", "/api/v1/dtoc", "/api/v1/metrics/cisp"]
    ),
    query=st.dictionaries(
        st.sampled_from(LIST_PARAMS),
        st.one_of(values, st.integers(-(2**70), 2**70).map(str), hostile_text),
        max_size=4,
    ),
)
@example(path="/api/v1/referrals", query={"page": str(10**20)})
@example(path="/api/v1/gaps", query={"from": "9999-12-31"})
@example(path="/api/v1/metrics/cisp", query={"from": "9999-01", "to": "9999-12"})
def test_list_queries_never_500(
    client: FlaskClient, auth: dict[str, dict[str, str]], path: str, query: dict[str, str]
) -> None:
    safe = {
        k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in query.items()
    }
    response = client.get(f"{path}?{urlencode(safe)}", headers=auth["admin"])
    assert response.status_code < 500, (path, query, response.json)


def _json_endpoints(app: Any) -> list[tuple[str, str]]:
    prefix = app.config["OPENAPI_URL_PREFIX"] + "/"
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            if rule.rule.startswith(prefix):
                path = rule.rule.replace("<int:task_id>", "1")
                found.append((method, re.sub(r"<[^>]+>", "s", path)))
    return found


PATIENT = {"name": "Ada Example", "date_of_birth": "1941-03-02", "postcode": "MK42 9DJ"}
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/navigations": {"caller_role": "nhs111", "need": "fall_no_injury", "age": 80,
                            "postcode": "MK42 9DJ", "case_ref": "CR1"},
    "/api/v1/patients": PATIENT | {"nhs_number": "9434765919"},
    "/api/v1/referrals": {"service_id": "s", "patient": PATIENT, "reason": "Fell",
                          "urgency": "urgent", "consent": True, "notes": "n"},
    "/api/v1/transitions": {"event_id": "e1", "type": "ae_attendance", "patient": PATIENT,
                            "occurred_at": "2026-11-01T10:00:00Z", "organisation": "RC9"},
    "/api/v1/dtoc": {"patient": PATIENT, "provider_ods": "RC9", "site": "Bedford",
                     "care_type": "acute", "reason": "E", "responsible": "social_care"},
    "/api/v1/services/s/capacity": {"status": "amber", "note": "busy"},
}  # fmt: skip


@FUZZ
@given(
    path=st.sampled_from(sorted(VALID_BODIES)),
    where=st.sampled_from([(), ("patient",)]),
    key=st.sampled_from(BODY_KEYS),
    value=json_values,
)
@example(path="/api/v1/patients", where=(), key="name", value="Ada\ud800")
@example(path="/api/v1/referrals", where=("patient",), key="care_home_service_id", value="s")
@example(path="/api/v1/referrals", where=(), key="navigation_id", value="")
def test_a_valid_body_with_one_hostile_value_never_500s(
    client: FlaskClient,
    auth: dict[str, dict[str, str]],
    directory: None,
    path: str,
    where: tuple[str, ...],
    key: str,
    value: Any,
) -> None:
    """One field of an otherwise valid body replaced: the cases that reach the database
    (surrogates, NUL, unknown references, huge numbers and dates) must still be a 4xx."""
    body = json.loads(json.dumps(VALID_BODIES[path]))
    target = body.get(where[0]) if where else body
    if isinstance(target, dict):
        target[key] = value
    method = "PUT" if path.endswith("/capacity") else "POST"
    response = client.open(path, method=method, json=body, headers=auth["admin"])
    assert response.status_code < 500, (path, body, response.json)
