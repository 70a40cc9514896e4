"""`GET /fhir/Organization` and `/fhir/Organization/{id}` (issue 16, §2): search by ODS code
as the DoS Search API takes it, read, refusals.

Source: the DoS Search API's Organization search (`NHSDigital/ftrs-directory-of-services`,
`docs/fhir/examples/Bundle-ServiceDetailsByOdsCode-Example.json`, vendored in
`tests/data/fhir/dos/`): `identifier=https://fhir.nhs.uk/Id/ods-organization-code|<code>` with
`_revinclude=Endpoint:organization`, answered by a searchset whose Organization has the ODS
code as an `official` identifier of that system, `active` and `name`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization
from flask.testing import FlaskClient

from tests.fhir.directory_fixtures import (
    BASE,
    FHIR_JSON,
    ODS,
    Auth,
    follow,
    link,
    load_fhir_directory,
    local,
)

DOS = Path(__file__).resolve().parent.parent / "data" / "fhir" / "dos"


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_fhir_directory()


def _search(client: FlaskClient, auth: Auth, query: str) -> Any:
    bundle = follow(client, auth, f"/fhir/Organization?{query}")
    Bundle.model_validate(bundle)
    return bundle


def test_the_dos_example_query_finds_the_organisation_in_the_dos_shape(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    example = json.loads((DOS / "Bundle-ServiceDetailsByOdsCode-Example.json").read_text())
    their_query = example["link"][0]["url"].split("?", 1)[1].replace("ABC123", "RD8")
    ours = _search(client, auth, their_query)
    theirs = example["entry"][0]
    assert ours["type"] == example["type"] == "searchset"
    assert ours["total"] == 1
    (entry,) = ours["entry"]  # navigator holds no Endpoints: none included
    assert entry["search"] == theirs["search"] == {"mode": "match"}
    assert entry["fullUrl"] == f"{BASE}/Organization/luton-trust"
    resource, their_resource = entry["resource"], theirs["resource"]
    assert set(their_resource) <= set(resource)
    assert resource["identifier"][0] == their_resource["identifier"][0] | {"value": "RD8"}
    assert resource["active"] is their_resource["active"] is True
    assert resource["name"] == "Organisation luton-trust"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["helping-hands", "luton-trust", "test-trust"]),  # by name
        (f"identifier={ODS}|RC9", ["test-trust"]),
        ("identifier=rd8", ["luton-trust"]),
        (f"identifier={ODS}|RC9,{ODS}|RD8", ["luton-trust", "test-trust"]),
        (f"identifier={BASE}/Id/organisation|helping-hands", ["helping-hands"]),
        ("identifier=X99", []),
        ("_id=test-trust", ["test-trust"]),
        (f"_id=test-trust&identifier={ODS}|RD8", []),
    ],
)
def test_identifier_search(
    client: FlaskClient, auth: Auth, directory: None, query: str, expected: list[str]
) -> None:
    bundle = _search(client, auth, query)
    assert [e["resource"]["id"] for e in bundle.get("entry", [])] == expected
    assert bundle["total"] == len(expected)


def test_paging_through_organisations(client: FlaskClient, auth: Auth, directory: None) -> None:
    bundle = _search(client, auth, "_count=1")
    seen = []
    while True:
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        following = link(bundle, "next")
        if following is None:
            break
        bundle = _search(client, auth, local(following).split("?", 1)[1])
    assert seen == ["helping-hands", "luton-trust", "test-trust"]


def test_read_an_organisation_without_an_ods_code(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    response = client.get("/fhir/Organization/helping-hands", headers=auth["provider"])
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    resource = response.get_json()
    Organization.model_validate(resource)
    assert resource["identifier"] == [
        {"use": "secondary", "system": f"{BASE}/Id/organisation", "value": "helping-hands"}
    ]
    assert resource["type"][0]["coding"][0]["code"] == "voluntary"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("_revinclude=Location:organization", "_revinclude"),
        ("identifier=http://example.org|RC9", "identifier"),
        ("identifier=R", "identifier"),
        ("name=Luton", "name"),
        ("identifier=RC9&identifier=RD8", "identifier"),
    ],
)
def test_refusals_name_the_parameter(
    client: FlaskClient, auth: Auth, directory: None, query: str, named: str
) -> None:
    response = client.get(f"/fhir/Organization?{query}", headers=auth["integrator"])
    assert response.status_code == 400 and response.mimetype == FHIR_JSON
    assert response.get_json()["issue"][0]["expression"] == [named]


def test_unknown_organisation_and_read_parameters(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    missing = client.get("/fhir/Organization/no-such-org", headers=auth["integrator"])
    assert missing.status_code == 404 and missing.get_json()["issue"][0]["code"] == "not-found"
    with_query = client.get("/fhir/Organization/test-trust?foo=1", headers=auth["integrator"])
    assert with_query.status_code == 400
    assert with_query.get_json()["issue"][0]["expression"] == ["foo"]
    assert client.get("/fhir/Organization").status_code == 401
