"""The specification's own examples load (issue 15 "Done when": "The specification's examples
load").

Every vendored example under `tests/data/oruk/examples/` (provenance in its `SOURCE.md`) that
is a service, a page of services, or a `{"services": [...]}` document is loaded through
`navigator.directory.loader.load_documents`, as `navigator directory load FILE` would. Each
service with an id and a name is kept (issue 15 §1: only a service with no id or no name is
rejected), under its id in lower case; what navigator cannot represent is a per-service
warning, never a crash or a rejection:

- HSDS's `service_full.json` schedule is a field-filler (WEEKLY with `until` and `count`,
  `bymonthday`, `byweekno`, `byyearday`, a 2005 `valid_from`/`valid_to`, NOTES §2): warned;
- the ORUK validator's `V3.0-UK-Fail` mocks: `email: "email-example_com"` and
  `url: "example/counselling"` are dropped with a warning; its `service_list.json` items
  have no `name`, so each is rejected, with a reason naming it;
- the field-guidance schedules (MONTHLY `1SA` with `until`) are kept or warned;
- the field-guidance attributes use fictional taxonomies: unclassified, terms kept.

An organisation holding its `services` (`/organizations/{id}`) loads them too. Examples that
hold no service (`/` answers, taxonomies, terms, pages of organisations, locations,
service_at_locations) are skipped with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.orm import Session

from navigator.core.clock import max_age_days_from_years, min_age_days_from_years
from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import LoadReport, load_documents
from navigator.directory.store import read_services
from tests.conftest import PROJECT_ROOT
from tests.directory.council_feed import warnings_by_service

EXAMPLES = PROJECT_ROOT / "tests" / "data" / "oruk" / "examples"

# Where each vendored folder came from (tests/data/oruk/examples/SOURCE.md).
SOURCES = {
    "hsds-3.0": ("openreferral/specification", "279fd2eb", "examples/"),
    "hsds-3.0/field-guidance": (
        "openreferral/specification",
        "279fd2eb",
        "docs/figures/field-guidance/",
    ),
    "hsds-3.1-dev": ("openreferral/specification", "abc731c8", "examples/"),
    "uk-profile": ("OpenReferralUK/uk-profile", "ecdfabf7", "examples/"),
    "oruk-validator/V3.0-UK-Default": (
        "OpenReferralUK/oruk-validator",
        "8cbf7229",
        "OpenReferralApi/Mocks/V3.0-UK-Default/",
    ),
    "oruk-validator/V3.0-UK-Fail": (
        "OpenReferralUK/oruk-validator",
        "8cbf7229",
        "OpenReferralApi/Mocks/V3.0-UK-Fail/",
    ),
}


@dataclass(frozen=True)
class Expect:
    """What loading one example must give. `warned`: (service id, text) pairs, each a warning
    line of that service containing the text. `absent`: (service id, contact field) pairs
    that must be absent. `kept_or_warned`: service ids whose non-weekly schedule must be a
    recurring entry or warned about. `unclassified`: services with their terms kept."""

    rejected_without_name: int = 0
    warned: tuple[tuple[str, str], ...] = ()
    absent: tuple[tuple[str, str], ...] = ()
    kept_or_warned: tuple[str, ...] = ()
    unclassified: tuple[str, ...] = ()
    ages: dict[str, tuple[float, float]] = field(default_factory=dict)


SERVICE = "ac148810-d857-441c-9679-408f346de14b"  # "Community Counselling" in every set
FULL = Expect(warned=((SERVICE, "schedule"),), ages={SERVICE: (12, 100)})
SERVICE_EXAMPLES: dict[str, Expect] = {
    "hsds-3.0/service_full.json": FULL,
    "hsds-3.0/service_list.json": Expect(ages={SERVICE: (12, 100)}),
    "hsds-3.0/field-guidance/schedules_services.json": Expect(kept_or_warned=(SERVICE,)),
    "hsds-3.0/field-guidance/attributes_service.json": Expect(
        unclassified=(
            "72422080-aa96-418c-9ef3-f77d3e60aed7",
            "ae761ee1-73ba-44aa-b3d8-db7aa2d7394b",
        )
    ),
    "hsds-3.0/field-guidance/metadata_service.json": Expect(),
    "hsds-3.1-dev/service_full.json": FULL,
    "uk-profile/service_full.json": FULL,
    "uk-profile/service_list.json": Expect(ages={SERVICE: (12, 100)}),
    "oruk-validator/V3.0-UK-Default/service_full.json": FULL,
    "oruk-validator/V3.0-UK-Default/service_list.json": Expect(ages={SERVICE: (12, 100)}),
    "oruk-validator/V3.0-UK-Fail/service_full.json": Expect(
        warned=((SERVICE, "schedule"), (SERVICE, "email"), (SERVICE, "url")),
        absent=((SERVICE, "email"), (SERVICE, "website")),
        ages={SERVICE: (12, 100)},
    ),
    "oruk-validator/V3.0-UK-Fail/service_list.json": Expect(rejected_without_name=4),
    # Organisations holding their services (`/organizations/{id}` with `services`).
    "hsds-3.0/organization_full.json": Expect(),
    "uk-profile/organization_full.json": Expect(),
    "oruk-validator/V3.0-UK-Default/organization.json": Expect(),
    "oruk-validator/V3.0-UK-Fail/organization_full.json": Expect(),
}
NOT_SERVICES = {
    "base.json": "the API root (`/`): version, profile, openapi_url",
    "api_details.json": "the API root (`/`): version, profile, openapi_url",
    "location.json": "a location object, no service",
    "organization_list.json": "a page of organisations",
    "service_at_location_full.json": "a service_at_location (`/service_at_locations/{id}`)",
    "service_at_location_list.json": "a page of service_at_locations",
    "taxonomy.json": "a taxonomy",
    "taxonomy_list.json": "a page of taxonomies",
    "taxonomy_term.json": "a taxonomy term",
    "taxonomy_term_list.json": "a page of taxonomy terms",
}


def _source(relative: str) -> str:
    folder, name = relative.rsplit("/", 1)
    repo, commit, upstream = SOURCES[folder]
    return f"{repo}@{commit}:{upstream}{name}"


def _cases() -> list[Any]:
    cases = []
    for path in sorted(EXAMPLES.rglob("*.json")):
        relative = path.relative_to(EXAMPLES).as_posix()
        test_id = f"{relative} <- {_source(relative)}"
        if relative in SERVICE_EXAMPLES:
            cases.append(pytest.param(relative, SERVICE_EXAMPLES[relative], id=test_id))
        else:
            reason = NOT_SERVICES.get(path.name, "unlisted: classify it in this test")
            cases.append(
                pytest.param(
                    relative,
                    None,
                    id=test_id,
                    marks=pytest.mark.skip(reason=f"not a service: {reason}"),
                )
            )
    return cases


def _services(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict):
        for key in ("contents", "services"):
            if isinstance(document.get(key), list):
                return document[key]
        return [document]
    return list(document)


def _load(session: Session, relative: str) -> tuple[Any, LoadReport]:
    document = json.loads((EXAMPLES / relative).read_text(encoding="utf-8"))
    with transaction(session):
        report = load_documents(
            session, [(relative, document)], vocab=VOCABULARY.get(), changed_by="test-examples"
        )
    return document, report


def test_every_example_is_either_tested_or_skipped_for_a_reason() -> None:
    """A newly vendored example must be classified here, not silently left out."""
    names = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.json")}
    unlisted = {
        n for n in names if n not in SERVICE_EXAMPLES and n.rsplit("/")[-1] not in NOT_SERVICES
    }
    assert not unlisted
    assert set(SERVICE_EXAMPLES) <= names


@pytest.mark.parametrize(("relative", "expect"), _cases())
def test_published_example_loads(session: Session, relative: str, expect: Expect) -> None:
    """The example's services with an id and a name are all kept; the rest are rejected with
    a reason naming what is missing; the expected warnings are given, per service."""
    document, report = _load(session, relative)
    services = _services(document)
    named = {s["id"].lower() for s in services if s.get("id") and s.get("name")}
    unnamed = [s for s in services if not (s.get("id") and s.get("name"))]
    assert len(unnamed) == expect.rejected_without_name

    stored = read_services(session)
    assert set(stored) == named, report.lines()
    assert report.services["rejected"] == len(unnamed), report.lines()
    for rejection in report.rejections:
        assert "name" in rejection.reason, str(rejection)

    warnings = warnings_by_service(report.as_json())
    for sid, text in expect.warned:
        assert any(text in line for line in warnings.get(sid, [])), (sid, text, warnings)
    for sid, contact_field in expect.absent:
        assert stored[sid]["contact"][contact_field] is None, (sid, contact_field)
    for sid in expect.kept_or_warned:
        opening = stored[sid]["opening"]
        warned = any("schedule" in line for line in warnings.get(sid, []))
        assert opening.get("recurring") or warned, (sid, opening)
    for sid in expect.unclassified:
        assert stored[sid]["service_type"] == "unclassified"
        assert stored[sid]["source_terms"], sid
    for sid, (low, high) in expect.ages.items():
        eligibility = stored[sid]["eligibility"]
        assert eligibility["min_age_days"] == min_age_days_from_years(low)
        assert eligibility["max_age_days"] == max_age_days_from_years(high)


def test_hsds_full_service_keeps_its_good_contact_details(session: Session) -> None:
    """HSDS 3.0 `examples/service_full.json` (openreferral/specification@279fd2eb): a valid
    email and URL survive the import unchanged."""
    _, report = _load(session, "hsds-3.0/service_full.json")
    contact = read_services(session)[SERVICE]["contact"]
    assert contact["email"] == "email@example.com", report.lines()
    assert contact["website"] == "http://example.com/counselling"


def test_field_guidance_schedules_keep_the_weekly_hours_or_warn(session: Session) -> None:
    """HSDS field guidance `docs/figures/field-guidance/schedules/services.json`
    (openreferral/specification@279fd2eb): Monday-Thursday 09:00-12:00 and 15:00-17:00, valid
    2020-04-01 to 2020-12-20, plus a first-Saturday MONTHLY rule. Bounded by `valid_from` /
    `valid_to`, the weekly hours are a recurring entry or warned (NOTES §2: past `valid_to` the
    hours are unknown), never plain every-week hours."""
    _, report = _load(session, "hsds-3.0/field-guidance/schedules_services.json")
    opening = read_services(session)[SERVICE]["opening"]
    warnings = warnings_by_service(report.as_json()).get(SERVICE, [])
    assert opening["weekly"] == {}, opening
    assert opening.get("recurring") or any("schedule" in line for line in warnings)
