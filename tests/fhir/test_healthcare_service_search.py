"""`GET /fhir/HealthcareService` paging and refusals (issue 16, §2): paging links followed to
the end give each service once; an unknown parameter, a modifier, a repeat or a bad value is a
400 OperationOutcome naming the parameter; no query string, however hostile, gives a 500.

Sources: FHIR R4 search §3.1.1.5.7 (paging links `next`/`previous`, `_count`) and the DoS
Search API's refusal of an unexpected query parameter (`dos-search.yaml`: 400, diagnostics
naming it); the shape of a bad-ODS-code OperationOutcome
(`tests/data/fhir/dos/OperationOutcome-InvalidOdsCode-Example.json`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask.testing import FlaskClient

from navigator.fhir.search_params import DEFAULT_COUNT, MAX_COUNT
from tests.builders import load_directory, organisation, service
from tests.fhir.directory_fixtures import (
    ACTIVE_IDS,
    FHIR_JSON,
    INACTIVE_IDS,
    ODS,
    Auth,
    follow,
    link,
    load_fhir_directory,
    local,
    report_capacity,
    search,
)

DOS = Path(__file__).resolve().parent.parent / "data" / "fhir" / "dos"


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_fhir_directory()


def _refused(client: FlaskClient, auth: Auth, query: str) -> dict[str, Any]:
    response = client.get(f"/fhir/HealthcareService?{query}", headers=auth["integrator"])
    assert response.status_code == 400, (query[:100], response.status_code)
    assert response.mimetype == FHIR_JSON
    body: dict[str, Any] = response.get_json()
    OperationOutcome.model_validate(body)
    assert body["issue"][0]["details"]["coding"][0]["code"] == "REC_BAD_REQUEST"
    return body


def _named(body: dict[str, Any]) -> list[str]:
    return [name for issue in body["issue"] for name in issue.get("expression", [])]


def _walk(client: FlaskClient, auth: Auth, query: str, count: int) -> tuple[list[str], int]:
    """Follow `next` from the first page to the end: the ids in order and the number of pages.
    Checks on every page that the Bundle is valid, holds at most `count` entries, and gives
    the same `total` as the first, and that the first page's `last` link is the final page."""
    bundle = search(client, auth, f"{query}&_count={count}" if query else f"_count={count}")
    total, last = bundle["total"], link(bundle, "last")
    seen: list[str] = []
    pages = 0
    while True:
        Bundle.model_validate(bundle)
        assert bundle["total"] == total
        assert len(bundle.get("entry", [])) <= count
        seen += [e["resource"]["id"] for e in bundle.get("entry", [])]
        pages += 1
        following = link(bundle, "next")
        if following is None:
            break
        bundle = follow(client, auth, local(following))
    assert link(bundle, "self") == last
    assert total == len(seen)
    return seen, pages


@pytest.mark.parametrize("count", [1, 2, 4, 5, 6, 7])
def test_following_next_to_the_end_gives_each_service_once(
    client: FlaskClient, auth: Auth, directory: None, count: int
) -> None:
    """Each active service (what a search without `active` gives) once, in as many pages as
    the total needs; the inactive ones are neither listed nor counted."""
    seen, pages = _walk(client, auth, "", count)
    assert sorted(seen) == sorted(ACTIVE_IDS)  # each once
    assert pages == -(-len(ACTIVE_IDS) // count)


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ACTIVE_IDS - {"bedford-gp"}),
        ("active=true", ACTIVE_IDS - {"bedford-gp"}),
        ("active=false", INACTIVE_IDS - {"closed-ucr"}),
        (f"organization.identifier={ODS}|RC9", ACTIVE_IDS - {"bedford-gp", "luton-ucr", "befriending"}),
    ],
)  # fmt: skip
def test_paging_totals_leave_out_the_inactive_and_red_services(
    app_ctx: Any,
    session: Any,
    client: FlaskClient,
    auth: Auth,
    directory: None,
    count: int,
    query: str,
    expected: set[str],
) -> None:
    """`total`, the pages and the `last` link count only what the search gives: with an active
    and an inactive service red, neither is counted, nor given on any page."""
    report_capacity(session, "bedford-gp", "red")
    report_capacity(session, "closed-ucr", "red")
    report_capacity(session, "bedford-ucr", "amber")  # amber is found, and counted
    seen, pages = _walk(client, auth, query, count)
    assert sorted(seen) == sorted(expected)
    assert pages == max(1, -(-len(expected) // count))
    only_total = search(client, auth, f"{query}&_count=0")
    assert only_total["total"] == len(expected) and "entry" not in only_total
    beyond = search(client, auth, f"{query}&_offset={len(expected)}")
    assert beyond["total"] == len(expected) and "entry" not in beyond


def test_previous_links_walk_back_to_the_first_page(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    last = search(client, auth, "_count=2&active=true")
    last = follow(client, auth, local(link(last, "last") or ""))
    assert link(last, "next") is None
    seen: list[str] = []
    bundle = last
    while True:
        seen = [e["resource"]["id"] for e in bundle["entry"]] + seen
        previous = link(bundle, "previous")
        if previous is None:
            break
        bundle = follow(client, auth, local(previous))
    assert sorted(seen) == sorted(ACTIVE_IDS)
    assert "active=true" in (link(bundle, "self") or "")  # the filter is carried through every link


def test_count_has_a_default_and_a_maximum(app_ctx: Any, client: FlaskClient, auth: Auth) -> None:
    load_directory(
        organisations=[organisation()],
        services=[service(id=f"service-{n:03d}") for n in range(MAX_COUNT + 5)],
    )
    assert len(search(client, auth, "")["entry"]) == DEFAULT_COUNT == 20
    huge = search(client, auth, "_count=99999999999999999999999999")
    assert len(huge["entry"]) == MAX_COUNT == 100
    assert "_count=100" in (link(huge, "self") or "")
    only_total = search(client, auth, "_count=0")
    assert only_total["total"] == MAX_COUNT + 5 and "entry" not in only_total
    beyond = search(client, auth, "_offset=1000")
    assert beyond["total"] == MAX_COUNT + 5 and "entry" not in beyond


def test_an_unknown_parameter_is_named_in_a_400(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = _refused(client, auth, "foo=bar&service-type=gp_practice")
    assert _named(body) == ["foo"]
    assert body["issue"][0]["code"] == "not-supported"
    assert "Unknown search parameter" in body["issue"][0]["diagnostics"]
    assert _named(_refused(client, auth, "name:exact=x")) == ["name:exact"]
    assert _named(_refused(client, auth, "service-type:not=gp_practice")) == ["service-type:not"]
    # FHIR parameters other servers take, navigator does not: named, not ignored.
    assert _named(_refused(client, auth, "_sort=name&_include=HealthcareService:location")) == [
        "_sort",
        "_include",
    ]


def test_a_bad_ods_code_is_named_as_the_dos_names_it(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    theirs = json.loads((DOS / "OperationOutcome-InvalidOdsCode-Example.json").read_text())
    ours = _refused(client, auth, f"organization.identifier={ODS}|{quote('invalid@code!here')}")
    assert ours["issue"][0]["severity"] == theirs["issue"][0]["severity"] == "error"
    assert ours["issue"][0]["code"] == theirs["issue"][0]["code"] == "invalid"
    assert ours["issue"][0]["expression"] == theirs["issue"][0]["expression"]
    assert "invalid@code!here" not in json.dumps(ours)  # a value is never echoed


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("service-type=no_such_type", "service-type"),
        ("service-type=http://example.org/types|gp_practice", "service-type"),
        ("service-type=|gp_practice", "service-type"),
        ("service-type=gp_practice,", "service-type"),
        ("need=gp_practice", "need"),
        ("need=loneliness,fall_no_injury", "need"),
        ("caller-role=robot", "caller-role"),
        ("identifier=http://example.org|x", "identifier"),
        ("organization.identifier=http://example.org|RC9", "organization.identifier"),
        ("organization.identifier=R", "organization.identifier"),
        ("active=yes", "active"),
        ("age=-1", "age"),
        ("age=131", "age"),
        ("age=ten", "age"),
        ("age=1e3", "age"),
        ("age=nan", "age"),
        ("age=gt18", "age"),
        ("open-at=2026-11-23", "open-at"),
        ("open-at=ge2026-11-23T12:00:00Z", "open-at"),
        ("open-at=2026-13-45T12:00:00Z", "open-at"),
        ("open-at=0001-01-01T00:00:00Z", "open-at"),
        ("open-at=9999-12-31T23:59:59Z", "open-at"),
        ("location.address-postalcode=NOT A POSTCODE", "location.address-postalcode"),
        ("coverage-postcode=12345", "coverage-postcode"),
        ("location.near=52", "location.near"),
        ("location.near=91|0|5|km", "location.near"),
        ("location.near=52|-0.4|0|km", "location.near"),
        ("location.near=52|-0.4|501|km", "location.near"),
        ("location.near=52|-0.4|5|furlongs", "location.near"),
        ("location.near=52|-0.4||km", "location.near"),
        ("location.near=inf|-0.4|5|km", "location.near"),
        ("_count=-1", "_count"),
        ("_count=1.5", "_count"),
        ("_count=²", "_count"),
        ("_offset=-5", "_offset"),
        ("_offset=99999999999", "_offset"),
        ("_format=xml", "_format"),
        ("need=loneliness&need=loneliness", "need"),
        ("service-type=" + ",".join(["gp_practice"] * 101), "service-type"),
        ("identifier=" + "a" * 1001, "identifier"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(
    client: FlaskClient, auth: Auth, directory: None, query: str, named: str
) -> None:
    assert _named(_refused(client, auth, query)) == [named]


HOSTILE = [
    "service-type=%00",
    "%00=1",
    "need=%ED%A0%80",  # a lone surrogate, UTF-8 encoded
    "age=" + "9" * 5000,
    "_count=" + "9" * 10_000,
    "_offset=" + "9" * 10_000,
    "x" * 10_000 + "=1",
    "identifier=" + "a" * 10_000,
    "location.near=" + "|".join(["1"] * 5000),
    "location.near=" + "9" * 400 + "|0|1|km",
    "open-at=" + "2" * 10_000,
    "&".join(f"p{n}=1" for n in range(500)),
    "&".join(["service-type=gp_practice"] * 500),
    "organization.identifier=" + "|" * 1000,
    "service-type=" + "," * 999,
    "coverage-postcode=" + "%F0%9F%92%A9" * 100,
    "%FF%FE=%FF",
    "age=١٨",  # Arabic-Indic digits
    "_count=１０",  # full-width digits
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_no_query_string_gives_a_500(
    client: FlaskClient, auth: Auth, directory: None, query: str
) -> None:
    response = client.get(f"/fhir/HealthcareService?{query}", headers=auth["integrator"])
    assert response.status_code in (200, 400), response.status_code
    assert response.mimetype == FHIR_JSON
    body = response.get_json()
    if response.status_code == 400:
        OperationOutcome.model_validate(body)
        assert len(json.dumps(body)) < 20_000  # a 10,000-character name is not echoed whole
    else:
        Bundle.model_validate(body)
