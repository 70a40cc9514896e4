"""`/oruk/` passes the Open Referral UK profile 3.0 JSON schemas on every endpoint and page
(issue 15 §3): the root, every page of `/services` and `/services/{id}` for every BLMK service,
every page and item of `/service_at_locations`, `/organizations`, `/taxonomies` and
`/taxonomy_terms`, plus awkward services the BLMK data lacks (hostile text, empty optional
fields, no location, a fractional age, an unclassified service with a council feed's own terms,
ids that already are UUIDs; `oruk_samples.py`).

Sources (vendored, byte-for-byte; provenance in `tests/data/oruk/schema/SOURCE.md`):
- `OpenReferralUK/uk-profile` `main` @ `ecdfabf78944d480d7f580d08b702b08cbec4b09`:
  `schema/compiled/*.json`, `schema/taxonomy.json`, `schema/taxonomy_term.json`,
  `schema/openapi.json` (the endpoint -> schema map and the `Page` envelope).
- `OpenReferralUK/oruk-validator` @ `946e5e5b9d93ed7fab7af6afcea0dbdc299b4772`:
  `OpenReferralApi/Schemas/V3.0-UK/api_details.json` (the root `/`, all three keys required).
- The validator's mock responses (`oruk-validator` @ `8cbf7229`, `OpenReferralApi/Mocks/`):
  `V3.0-UK-Default` must pass and `V3.0-UK-Fail` must fail these same validators, which proves
  the validators (and their format checker) really check.

Which schema validates which endpoint is `tests/data/oruk/schema/endpoints.json`. One entry
departs from the UK openapi.json: it points `/service_at_locations/{id}` at
`compiled/service.json`, which requires `name` and `status`, fields a service-at-location does
not have (the same slip is in HSDS 3.0's openapi). That is a service's schema, not a
service-at-location's: we validate against `compiled/service_at_location.json`, as the
validator's own HSDS-UK-3.0 test profile did (`TestProfiles/HSDS-UK-3.0.json` @ `946e5e5b`).
`test_endpoint_map_agrees_with_the_uk_openapi` pins that this is the only departure.

Formats are checked with `jsonschema.FormatChecker()` (`uuid`, `email`, `date-time`, and `uri`
through `rfc3986-validator` from jsonschema's `format-nongpl` extra), so a slug where a UUID
belongs, `""` as an email or a relative URL fails, as the issue requires.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_path
from navigator.directory.oruk_terms import hsds_id
from tests.builders import load_directory
from tests.conftest import PROJECT_ROOT
from tests.directory.oruk_samples import (
    UUID_SERVICE,
    awkward_organisations,
    awkward_services,
    nulls,
)

ORUK = PROJECT_ROOT / "tests" / "data" / "oruk"
SCHEMA = ORUK / "schema"
MAP = json.loads((SCHEMA / "endpoints.json").read_text())
PREFIX = MAP["ref_prefix"]  # the address the openapi.json `$ref`s use
OPENAPI = json.loads((SCHEMA / "openapi.json").read_text())
BLMK = PROJECT_ROOT / "directory_of_services" / "blmk"
ENDPOINTS = {e["path"]: e for e in MAP["endpoints"]}


@cache
def _registry() -> Registry:
    """Every vendored schema under the address the UK openapi.json refers to it by, so
    `taxonomy.json`'s relative `"$ref": "taxonomy_term.json"` resolves to the vendored file."""
    resources = []
    for path in sorted(SCHEMA.rglob("*.json")):
        if path.name == "endpoints.json":
            continue
        uri = PREFIX + path.relative_to(SCHEMA).as_posix()
        resources.append((uri, DRAFT202012.create_resource(json.loads(path.read_text()))))
    return Registry().with_resources(resources)


@cache
def validator(schema_file: str) -> Draft202012Validator:
    """A Draft 2020-12 validator (openapi.json's `jsonSchemaDialect`) for a vendored schema,
    with a format checker."""
    return Draft202012Validator(
        {"$ref": PREFIX + schema_file}, registry=_registry(), format_checker=FormatChecker()
    )


PAGE = Draft202012Validator(
    OPENAPI["components"]["schemas"]["Page"], format_checker=FormatChecker()
)


def errors_of(path: str, body: Any) -> list[str]:
    """Every schema error of `body` as the response of endpoint `path` (an endpoints.json key),
    as readable lines; [] when it validates."""
    endpoint = ENDPOINTS[path]
    item = validator(endpoint["schema"])
    found = []
    if endpoint["paged"]:
        found += [f"page: {e.message}" for e in PAGE.iter_errors(body)]
        missing = set(MAP["page_keys"]) - set(body)
        found += [f"page: no {key}" for key in sorted(missing)]  # HSDS: include them all
        for n, obj in enumerate(body.get("contents") or []):
            found += [f"contents[{n}]{list(e.path)}: {e.message}" for e in item.iter_errors(obj)]
    else:
        found += [f"{list(e.path)}: {e.message}" for e in item.iter_errors(body)]
    return found


class Feed:
    """GETs `/oruk/...` and checks each answer: 200, no null, valid for its endpoint."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.checked: list[str] = []

    def get(self, path: str, url: str) -> Any:
        response = self.client.get("/oruk" + url)
        assert response.status_code == 200, (url, response.json)
        body = response.json
        assert errors_of(path, body) == [], url
        assert list(nulls(body)) == [], url
        self.checked.append(url)
        return body

    def pages(self, path: str, url: str) -> list[Any]:
        """Every page of a list (stopping on `last_page`), each validated; the items."""
        items, number = [], 1
        while True:
            joiner = "&" if "?" in url else "?"
            page = self.get(path, f"{url}{joiner}page={number}")
            assert page["page_number"] == number and page["size"] == len(page["contents"])
            items += page["contents"]
            if page["last_page"]:
                assert len(items) == page["total_items"] and number == page["total_pages"]
                return items
            number += 1


@pytest.fixture
def feed(session: Session, client: FlaskClient) -> Feed:
    with transaction(session):
        report = load_path(session, BLMK, vocab=VOCABULARY.get(), changed_by="test")
    assert report.rejections == []
    awkward = load_directory(organisations=awkward_organisations(), services=awkward_services())
    assert awkward.services["created"] == len(awkward_services()), awkward.lines()
    session.close()
    return Feed(client)


def blmk_service_ids() -> list[str]:
    from navigator.directory.loader import read_documents

    return [s["id"] for _, doc in read_documents(BLMK) for s in doc.get("services") or []]


def test_the_format_checker_really_checks() -> None:
    """A checker without the optional format libraries would pass anything: prove each format
    the profile uses fails on a bad value (and passes a good one)."""
    checker = FormatChecker()
    for fmt, good, bad in (
        ("uuid", str(uuid.uuid4()), "awkward-hostile"),
        ("email", "help@example.org", "email-example_com"),
        ("date-time", "2026-12-01T10:00:00Z", "2026-12-01"),
        ("uri", "https://example.org/a", "/relative/path"),
    ):
        assert checker.conforms(good, fmt), fmt
        assert not checker.conforms(bad, fmt), fmt
    known_bad = {
        "id": "ucr-bedford",  # a navigator slug, not a UUID
        "name": "x",
        "status": "active",
        "email": "",
        "url": "www.example.org",
        "last_modified": "yesterday",
        "maximum_age": None,
    }
    failed = {
        (e.validator, e.path[0]) for e in validator("compiled/service.json").iter_errors(known_bad)
    }
    assert failed == {
        ("format", "id"),
        ("format", "email"),
        ("format", "url"),
        ("format", "last_modified"),
        ("type", "maximum_age"),
    }


@pytest.mark.parametrize(("folder", "passes"), [("V3.0-UK-Default", True), ("V3.0-UK-Fail", False)])
def test_the_validators_agree_with_the_oruk_validators_own_mocks(folder: str, passes: bool) -> None:
    """The validator's passing mocks pass these validators; its failing ones named in
    examples/SOURCE.md fail them (so the validators are wired to the right schemas)."""
    files = {
        "api_details.json": "/",
        "service_list.json": "/services",
        "service_full.json": "/services/{id}",
        "taxonomy_term.json": "/taxonomy_terms/{id}",
        "service_at_location_list.json": "/service_at_locations",
        "organization_list.json": "/organizations",
        "taxonomy_list.json": "/taxonomies",
    }
    known_failures = {
        "api_details.json",
        "service_list.json",
        "service_full.json",
        "taxonomy_term.json",
    }
    for name, path in files.items():
        body = json.loads((ORUK / "examples" / "oruk-validator" / folder / name).read_text())
        valid = errors_of(path, body) == []
        assert valid is (passes or name not in known_failures), (folder, name)


def test_endpoint_map_agrees_with_the_uk_openapi() -> None:
    """endpoints.json follows the UK openapi.json for every path it lists, except the one
    documented slip (`/service_at_locations/{id}` -> service.json)."""
    for path, spec in OPENAPI["paths"].items():
        schema = spec["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        paged = "contents" in schema.get("properties", {})
        ref = schema["properties"]["contents"]["items"]["$ref"] if paged else schema.get("$ref")
        endpoint = ENDPOINTS[path]
        assert endpoint["paged"] is paged, path
        if path == "/":
            assert ref is None  # an inline object; api_details.json is the stricter form
        elif path == "/service_at_locations/{id}":
            assert ref == PREFIX + "compiled/service.json"  # the slip: see the docstring
            assert endpoint["schema"] == "compiled/service_at_location.json"
        else:
            assert ref == PREFIX + endpoint["schema"], path


def test_root(feed: Feed) -> None:
    body = feed.get("/", "/")
    assert body["version"] == "HSDS-UK-3.0"


def test_every_services_page_and_every_service(feed: Feed) -> None:
    listed = feed.pages("/services", "/services?per_page=7")
    ids = {item["id"] for item in listed}
    blmk = blmk_service_ids()
    assert len(blmk) >= 80
    assert {hsds_id("service", slug) for slug in blmk} <= ids
    assert UUID_SERVICE in ids  # a UUID slug is kept as the HSDS id
    for slug in [*blmk, *(s["id"] for s in awkward_services())]:
        body = feed.get("/services/{id}", f"/services/{hsds_id('service', slug)}")
        assert body == feed.get("/services/{id}", f"/services/{slug}")  # the slug answers too
    # filtered and empty pages are pages too
    feed.get("/services", "/services?postcode=MK42 9DJ&proximity=5000&per_page=100")
    empty = feed.get("/services", "/services?page=999")
    assert empty["empty"] and empty["contents"] == []


def test_every_service_at_location_page_and_item(feed: Feed) -> None:
    listed = feed.pages("/service_at_locations", "/service_at_locations?per_page=9")
    assert len(listed) >= 80
    for item in listed:
        body = feed.get("/service_at_locations/{id}", f"/service_at_locations/{item['id']}")
        assert body["id"] == item["id"] and body["location"]["id"] == item["location_id"]
    near = feed.get(
        "/service_at_locations",
        "/service_at_locations?postcode=LU1 2AA&proximity=3000&per_page=100",
    )
    assert 0 < near["total_items"] < len(listed)


def test_every_organization_page_and_item(feed: Feed) -> None:
    listed = feed.pages("/organizations", "/organizations?per_page=5")
    assert len(listed) >= 10
    for item in listed:
        body = feed.get("/organizations/{id}", f"/organizations/{item['id']}")
        assert body["services"] and body["description"]


def test_every_taxonomy_and_term_and_every_reference_resolves(feed: Feed) -> None:
    """Taxonomies and terms validate, and every taxonomy term, taxonomy and organisation a
    service names is served at its own `/{id}`."""
    for item in feed.pages("/taxonomies", "/taxonomies?per_page=2"):
        feed.get("/taxonomies/{id}", f"/taxonomies/{item['id']}")
    terms = {t["id"] for t in feed.pages("/taxonomy_terms", "/taxonomy_terms?per_page=50")}
    taxonomies = {t["id"] for t in feed.pages("/taxonomies", "/taxonomies")}
    services = feed.pages("/services", "/services?per_page=100")
    for service in services:
        for attribute in service["attributes"]:
            assert attribute["taxonomy_term_id"] in terms
            taxonomy = attribute["taxonomy_term"].get("taxonomy_id")
            assert taxonomy is None or taxonomy in taxonomies  # navigator-details has none
        feed.get("/organizations/{id}", f"/organizations/{service['organization_id']}")
    for term_id in sorted(terms)[:40]:
        feed.get("/taxonomy_terms/{id}", f"/taxonomy_terms/{term_id}")
