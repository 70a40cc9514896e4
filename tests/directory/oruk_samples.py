"""Awkward directory entries for the `/oruk/` schema and round-trip tests: what the shipped
BLMK directory does not have (hostile text, empty optional fields, no location, a fractional
age, an unclassified service with a council feed's own terms, ids that already are UUIDs).

The ESD term codes and labels are the ones the ORUK developer docs use as examples
(`OpenReferralUK/human-services` gh-pages `pages/Data/UseOfTaxonomies.md`, README;
tests/data/oruk/NOTES.md §7); `bccagegroup:18` is Bristol's local "Older People" term.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.builders import ALL_ROLES, organisation, service

# No bidi override characters (`\u202e`): every load removes them (`oruk_values.sanitised`,
# tested in test_oruk_import.py), so a stored name can no longer hold one to round-trip.
HOSTILE = (
    'O\'Brien & "Sons" <script>alert(1)</script> desrever 🙂 null {} [] \\ '
    "\t tab; ) DROP TABLE services;--"
)
# Organisation names lose control and bidi-override characters on ORUK import
# (`oruk_values.printable`), so the organisation's hostile name has none of them.
HOSTILE_ORGANISATION = 'O\'Brien & "Sons" <b>&amp;</b> 🙂 null {} [] \\ ) DROP TABLE x;--'
UUID_SERVICE = "3f7b145d-84af-42d7-8fae-eaca714b02b2"  # HSDS's own example service id
UUID_ORGANISATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c174"
SOURCE_TERMS = [
    {
        "taxonomy": "esdServiceTypes",
        "code": "http://id.esd.org.uk/service/242",
        "name": "Care at home",
    },
    {
        "taxonomy": "esdNeeds",
        "code": "http://id.esd.org.uk/need/71",
        "name": "Community facilities",
    },
    {"taxonomy": "esdServiceTypes", "code": "esdServiceType:298", "name": ""},
    {"taxonomy": "BCC Age Groups", "code": "bccagegroup:18", "name": "Older People"},
]


def awkward_organisations() -> list[dict[str, Any]]:
    return [
        organisation(
            id="awkward-org", ods_code=None, name=HOSTILE_ORGANISATION, sector="voluntary"
        ),
        organisation(id=UUID_ORGANISATION, ods_code=None, website="https://example.org/council"),
    ]


def awkward_services() -> list[dict[str, Any]]:
    """Four services: hostile text with every optional field empty and no location; a
    fractional age range (18 months to 2.5 years); an unclassified service with a council
    feed's terms; and one whose navigator id is already a UUID (kept from an ORUK feed)."""
    bare = {
        "id": "awkward-hostile",
        "organisation": "awkward-org",
        "name": HOSTILE,
        "description": "",
        "service_type": "social_prescribing",
        "sector": "voluntary",
        "needs": [],
        "eligibility": {"caller_roles": ["public"]},
    }
    return [
        bare,
        service(
            id="awkward-toddlers",
            organisation="awkward-org",
            needs=[],
            eligibility={"min_age_days": 548, "max_age_days": 914},
            description=HOSTILE + "\nsecond line",
            public_name=HOSTILE,
        ),
        service(
            id="awkward-unclassified",
            organisation=UUID_ORGANISATION,
            service_type="unclassified",
            sector="voluntary",
            needs=[],
            source_terms=SOURCE_TERMS,
            eligibility={"min_age_days": 0, "max_age_days": None, "caller_roles": ALL_ROLES},
            contact={"email": "help@example.org", "website": "https://example.org/help"},
        ),
        service(id=UUID_SERVICE, organisation=UUID_ORGANISATION, needs=["loneliness"]),
    ]


def nulls(value: Any, where: str = "") -> Iterator[str]:
    """Where `value` holds a JSON null (the profile allows none, typed or not)."""
    if value is None:
        yield where or "(root)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from nulls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from nulls(item, f"{where}[{n}]")
