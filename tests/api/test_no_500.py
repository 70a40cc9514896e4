"""No input ever produces a 500: random query strings and bodies get 2xx or a clear 4xx."""

from __future__ import annotations

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
