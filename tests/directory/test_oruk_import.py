"""Open Referral UK import without loss (issue 15 §1, §2).

Protects: navigator's own export loads back field for field (hazard H7); every accepted shape
(HSDS 3.0 and HSDS-UK 1.0 services; a list, a `contents`/`content`/`services` page, an
organization with services, one service object) loads and anything else is refused as a
document; empty strings are absent and malformed optional details are left out with a warning
naming the field, never the service; every HSDS schedule form is kept exactly or warned about
with its field; ages keep their precision; services are classified by navigator's terms, then
the mappings, else kept `unclassified` with their own terms.

Inputs: the vendored HSDS 3.0 / UK profile / ORUK validator examples (tests/data/oruk/examples,
sources in its SOURCE.md) and HSDS-UK 1.0 services built with the keys of the HSDS-UK 1.0
reference implementation (OpenReferralUK/human-services models, tests/data/oruk/NOTES.md §1).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import LoadReport, load_documents, load_path
from navigator.directory.oruk_export import export_oruk
from navigator.directory.oruk_import import looks_like_oruk, records_from_oruk
from navigator.directory.store import read_organisations, read_services
from tests.builders import load_directory, service
from tests.conftest import PROJECT_ROOT, _empty_all_tables

BLMK = PROJECT_ROOT / "directory_of_services" / "blmk"
EXAMPLES = PROJECT_ROOT / "tests" / "data" / "oruk" / "examples"
ORG = {"id": "o", "name": "O"}
HSDS_SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"  # the HSDS examples' service id


def example(path: str) -> Any:
    return json.loads((EXAMPLES / path).read_text(encoding="utf-8"))


def load(session: Session, data: Any, source: str = "feed.json") -> LoadReport:
    with transaction(session):
        return load_documents(session, [(source, data)], vocab=VOCABULARY.get(), changed_by="test")


def uk10_service(**extra: Any) -> dict[str, Any]:
    """An HSDS-UK 1.0 service as council feeds publish it (keys of the reference
    implementation's models; empty strings where a council has nothing)."""
    return {
        "id": "1234",
        "name": "Carers Café",
        "description": "A weekly drop-in for unpaid carers.",
        "url": "",
        "email": "",
        "status": "active",
        "organization": {"id": "ORG-77", "name": "Bedford Carers Trust", "url": "", "logo": ""},
        "contacts": [{"id": "c1", "name": "", "phones": [{"id": "p1", "number": "01234 567890"}]}],
        "eligibilitys": [
            {"id": "e1", "eligibility": "Carers", "minimum_age": 16, "maximum_age": None}
        ],
        "regular_schedules": [
            {
                "id": "r1",
                "opens_at": "10:00",
                "closes_at": "12:00",
                "byday": "WE",
                "freq": "WEEKLY",
                "interval": "1",
                "valid_from": None,
                "valid_to": None,
            },
        ],
        "holiday_schedules": [
            {
                "id": "h1",
                "closed": True,
                "opens_at": "",
                "closes_at": "",
                "start_date": "2026-12-24",
                "end_date": "2026-12-26",
            },
        ],
        "service_taxonomys": [
            {
                "id": "t1",
                "taxonomy": {
                    "id": "http://id.esd.org.uk/service/298",
                    "name": "Carers support groups",
                    "vocabulary": "esdServiceTypes",
                },
            },
        ],
        "service_at_locations": [
            {
                "id": "sal1",
                "location": {
                    "id": "l1",
                    "name": "Community Hall",
                    "latitude": 52.13,
                    "longitude": -0.46,
                    "physical_addresses": [
                        {
                            "id": "a1",
                            "address_1": "1 High Street",
                            "city": "Bedford",
                            "postal_code": "MK40 1AA",
                            "state_province": "",
                            "country": "England",
                        }
                    ],
                },
                "regular_schedule": [],
            },
        ],
        "service_areas": [{"id": "sa1", "service_area": "Bedford", "extent": "", "uri": ""}],
    } | extra


def test_blmk_directory_round_trips_through_oruk(session: Session, database_url: str) -> None:
    """Export then import into an empty database gives the same directory, field for field."""
    with transaction(session):
        load_path(session, BLMK, vocab=VOCABULARY.get(), changed_by="test")
    before = (read_organisations(session), read_services(session))
    exported = export_oruk(session, include_professional=True)
    session.close()
    _empty_all_tables(database_url)
    report = load(session, exported, "oruk.json")
    assert report.services["rejected"] == 0, report.lines()
    assert (read_organisations(session), read_services(session)) == before
    assert not load(session, exported, "oruk.json").changed  # the same export again


def test_oruk_export_file_loads_with_the_cli_detection(tmp_path: Path, session: Session) -> None:
    load_directory(services=[service(id="s")])
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"contents": export_oruk(session, include_professional=True)}))
    with transaction(session):
        report = load_path(session, path, vocab=VOCABULARY.get(), changed_by="test")
    assert report.services["unchanged"] == 1
    assert report.lines()[1].startswith("services: created 0, updated 0, unchanged 1")


def test_navigator_details_ids_name_the_record(app_ctx: Flask) -> None:
    """When `navigator-details` carries navigator's slugs (the export's HSDS ids are UUIDs),
    the record keeps the slugs."""
    details = {"id": "my-slug", "organisation": "my-org", "service_type": "befriending"}
    item = {
        "id": "0d9c4f4e-7b1e-5b8e-9d51-4c6a8b5d2e11",
        "name": "A",
        "status": "active",
        "organization": {"id": "9b2f6a51-0c44-5f9b-8d27-5f0e1a3c7d22", "name": "Org"},
        "attributes": [
            {"taxonomy_term": {"name": "navigator-details"}, "value": json.dumps(details)}
        ],
    }
    result = records_from_oruk(item)
    assert (result.services[0]["id"], result.services[0]["organisation"]) == ("my-slug", "my-org")
    assert result.organisations[0]["id"] == "my-org"


def test_third_party_hsds_is_mapped_from_its_fields(session: Session) -> None:
    """navigator's feed without `navigator-details` is a third-party HSDS 3.0 feed: the type
    comes from navigator's own taxonomy terms (classified by the source); an organisation whose
    ODS code navigator already files under its slug is that organisation."""
    load_directory(
        services=[service(id="s", opening={"weekly": {"tuesday": [["09:00", "17:00"]]}})]
    )
    feed = export_oruk(session, include_professional=False)
    for item in feed:
        item["attributes"] = [
            a for a in item["attributes"] if a["taxonomy_term"]["name"] != "navigator-details"
        ]
        item["id"] = "third-party-" + item["id"]
    report = load(session, feed, "third.json")
    assert report.services["created"] == 1, report.lines()
    [(sid, record)] = [(k, v) for k, v in read_services(session).items() if k != "s"]
    assert sid.startswith("third-party-")
    assert (record["service_type"], record["classified_by"]) == ("urgent_community_response", None)
    assert record["organisation"] == "test-trust"
    assert any("ODS code belongs to 'test-trust'" in w for w in report.warnings[sid])
    assert record["opening"]["weekly"] == {"tuesday": [["09:00", "17:00"]]}
    assert record["coverage"]["places"] == ["bedford"]
    assert record["locations"][0]["postcode"] == "MK42 9DJ"
    assert record["source_terms"] == []  # navigator's own taxonomies are not kept as such


def test_every_accepted_shape_is_recognised(app_ctx: Flask) -> None:
    """Source: the vendored examples, one per shape; a taxonomy-term page and a location are
    ORUK JSON but not services, so they are refused as documents."""
    single = example("uk-profile/service_full.json")
    shapes = {
        "single service (/services/{id})": single,
        "bare list": [single],
        "3.0 page (contents)": example("hsds-3.0/service_list.json"),
        "HSDS-UK 1.0 page (content)": {"content": [uk10_service()], "totalElements": 1},
        "services envelope (HSDS field guidance)": example(
            "hsds-3.0/field-guidance/schedules_services.json"
        ),
        "organization with services": example("uk-profile/organization_full.json"),
    }
    for name, data in shapes.items():
        assert looks_like_oruk(data), name
        assert len(records_from_oruk(data).services) == 1, name
    org = example("uk-profile/organization_full.json")
    assert records_from_oruk(org).services[0]["organisation"] == org["id"]
    for data in (
        example("uk-profile/taxonomy_term_list.json"),
        example("hsds-3.0/location.json"),
        {"format": "navigator-directory/1"},
        "text",
        5,
    ):
        assert not looks_like_oruk(data)


def test_a_non_oruk_document_is_rejected_clearly(session: Session) -> None:
    report = load(session, example("hsds-3.0/taxonomy_term_list.json"), "terms.json")
    assert report.rejections[0].kind == "document"
    assert "neither navigator format nor Open Referral UK services" in report.rejections[0].reason


def test_only_a_service_without_id_or_name_is_rejected(session: Session) -> None:
    """Source: the ORUK validator's failing mocks (V3.0-UK-Fail): items without `name`, and an
    `email` that is not one (`email-example_com`, `false`, `12345`)."""
    report = load(session, example("oruk-validator/V3.0-UK-Fail/service_list.json"))
    assert report.services["rejected"] == 4
    assert {r.reason for r in report.rejections} == {"no name"}
    full = load(session, example("oruk-validator/V3.0-UK-Fail/service_full.json"))
    assert full.services["created"] == 1, full.lines()
    warnings = full.warnings[HSDS_SERVICE_ID]
    assert "email: 'email-example_com' is not an email address; left out" in warnings
    assert read_services(session)[HSDS_SERVICE_ID]["contact"]["email"] is None
    items = [
        {"id": f"x{i}", "name": "N", "status": "active", "email": bad, "organization": ORG}
        for i, bad in enumerate((False, 12345, "   "))
    ]
    result = records_from_oruk(items)
    assert [s["contact"]["email"] for s in result.services] == [None, None, None]
    assert "x2" not in result.warnings  # whitespace only is absent, not malformed


def test_hsds_uk_1_0_service_loads_without_loss(session: Session) -> None:
    """A council's HSDS-UK 1.0 service: `"url": ""` and `"email": ""` are absent, the ESD term
    classifies it through the shipped mapping, `eligibilitys` ages, contact phones, physical
    addresses, `regular_schedules` and `holiday_schedules` are all kept."""
    report = load(session, {"content": [uk10_service()], "totalElements": 1})
    assert report.services["created"] == 1, report.lines()
    record = read_services(session)["1234"]
    assert record["organisation"] == "org-77"
    assert (record["service_type"], record["needs"], record["classified_by"]) == (
        "carers_support",
        ["carer_support"],
        "mapping:esd",
    )
    assert record["source_terms"] == [
        {
            "taxonomy": "esdServiceTypes",
            "code": "http://id.esd.org.uk/service/298",
            "name": "Carers support groups",
        }
    ]
    assert record["sector"] == "voluntary"
    assert record["eligibility"]["min_age_days"] == 5844  # 16 x 365.25
    assert record["eligibility"]["max_age_days"] is None
    assert record["contact"] == {
        "public_phone": "01234 567890",
        "professional_phone": None,
        "email": None,
        "website": None,
    }
    assert record["locations"][0]["address"] == "1 High Street, Bedford"
    assert record["coverage"]["places"] == ["bedford"]
    assert record["opening"]["weekly"] == {"wednesday": [["10:00", "12:00"]]}
    assert [d["date"] for d in record["opening"]["specified_dates"]] == [
        "2026-12-24",
        "2026-12-25",
        "2026-12-26",
    ]
    assert all(d["closed"] for d in record["opening"]["specified_dates"])
    assert "1234" not in report.unclassified and "1234" not in report.warnings


def test_unmapped_services_are_kept_unclassified_with_their_terms(session: Session) -> None:
    term = {
        "id": "t9",
        "taxonomy": {
            "id": "bccservicetype:78",
            "name": "Autism",
            "vocabulary": "BCC Service Types",
        },
    }
    needs_only = {
        "id": "t8",
        "taxonomy": {"id": "esdNeed:69", "name": "Social inclusion", "vocabulary": "esdNeeds"},
    }
    report = load(
        session,
        [
            uk10_service(id="a", service_taxonomys=[term, needs_only]),
            uk10_service(id="b", service_taxonomys=[]),
        ],
    )
    assert report.services["created"] == 2, report.lines()
    records = read_services(session)
    assert records["a"]["service_type"] == "unclassified"
    assert records["a"]["needs"] == ["loneliness"]
    assert records["a"]["classified_by"] == "mapping:esd"
    assert records["a"]["eligibility"]["caller_roles"] == sorted(
        VOCABULARY.get().codes("caller_roles")
    )
    assert "BCC Service Types bccservicetype:78 (Autism)" in report.unclassified["a"]
    assert report.unclassified["b"] == "no taxonomy terms"
    assert (records["b"]["sector"], records["b"]["classified_by"]) == ("voluntary", None)
    assert any(line.startswith("unclassified") for line in report.lines())


def test_schedules_of_the_hsds_field_guidance_become_recurring(app_ctx: Flask) -> None:
    """Source: HSDS 3.0 field guidance, schedules figure: WEEKLY MO-TH within valid_from/to
    (two sessions), MONTHLY first Saturday until a date; times written in UTC (`Z`)."""
    result = records_from_oruk(example("hsds-3.0/field-guidance/schedules_services.json"))
    opening = result.services[0]["opening"]
    assert opening["weekly"] == {}
    assert {(r["freq"], r["byday"]): r for r in opening["recurring"]} == {
        ("MONTHLY", "1SA"): {
            "freq": "MONTHLY",
            "interval": 1,
            "byday": "1SA",
            "bymonthday": None,
            "dtstart": "2020-07-04",
            "until": "2020-11-07",
            "count": None,
            "valid_from": None,
            "valid_to": None,
            "sessions": [["09:00", "17:00"]],
        },
        ("WEEKLY", "MO,TU,WE,TH"): {
            "freq": "WEEKLY",
            "interval": 1,
            "byday": "MO,TU,WE,TH",
            "bymonthday": None,
            "dtstart": "2020-04-01",
            "until": None,
            "count": None,
            "valid_from": "2020-04-01",
            "valid_to": "2020-12-20",
            "sessions": [["09:00", "12:00"], ["15:00", "17:00"]],
        },
    }
    warnings = result.warnings[HSDS_SERVICE_ID]
    assert any(
        w.startswith("schedules[0].opens_at: '09:00:00Z' has a fixed UTC offset") for w in warnings
    )


def test_recurring_schedules_load_and_read_back(session: Session) -> None:
    data = example("hsds-3.0/field-guidance/schedules_services.json")
    report = load(session, data)
    assert report.services["created"] == 1, report.lines()
    assert len(read_services(session)[HSDS_SERVICE_ID]["opening"]["recurring"]) == 2
    assert not load(session, data).changed


def _opening(schedules: list[dict[str, Any]], **extra: Any) -> tuple[dict[str, Any], list[str]]:
    result = records_from_oruk(
        [
            {
                "id": "s",
                "name": "S",
                "status": "active",
                "organization": ORG,
                "schedules": schedules,
            }
            | extra
        ]
    )
    return result.services[0]["opening"], result.warnings.get("s", [])


def test_all_day_every_day_is_open_all_hours(app_ctx: Flask) -> None:
    """HSDS field guidance: 00:00-23:59 is "a strong signal" of 24 hours."""
    for closes in ("23:59", "00:00", "24:00", "23:59:00"):
        opening, warnings = _opening(
            [
                {
                    "freq": "WEEKLY",
                    "byday": "MO,TU,WE,TH,FR,SA,SU",
                    "opens_at": "00:00",
                    "closes_at": closes,
                }
            ]
        )
        assert opening["open_all_hours"] and opening["weekly"] == {}, closes
        assert warnings == []
    opening, _ = _opening(
        [
            {
                "freq": "WEEKLY",
                "byday": "MO,TU,WE,TH,FR,SA",
                "opens_at": "00:00",
                "closes_at": "23:59",
            }
        ]
    )
    assert not opening["open_all_hours"]
    assert opening["weekly"]["monday"] == [["00:00", "24:00"]]


def test_what_cannot_be_represented_is_warned_with_its_field(app_ctx: Flask) -> None:
    """Every schedule left out says why, naming the field; the HSDS 3.0 example's field-filler
    schedule (byweekno, byyearday, until with count, timezone 3) does not crash the import."""
    cases = [
        (
            {
                "freq": "WEEKLY",
                "byday": "MO",
                "byweekno": "41",
                "opens_at": "09:00",
                "closes_at": "10:00",
            },
            "schedules[0].byweekno: '41' not represented",
        ),
        (
            {"freq": "DAILY", "opens_at": "09:00", "closes_at": "10:00"},
            "schedules[0].freq: 'DAILY' not represented",
        ),
        (
            {
                "freq": "WEEKLY",
                "interval": 2,
                "byday": "MO",
                "opens_at": "09:00",
                "closes_at": "10:00",
            },
            "schedules[0].dtstart: Required when interval",
        ),
        ({"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00"}, "schedules[0].closes_at: missing"),
        ({"description": "Ring for times"}, "schedules[0]: no freq, byday or dates"),
        (
            {"freq": "WEEKLY", "byday": "MO", "description": "Mornings"},
            "schedules[0]: no opens_at/closes_at (description only)",
        ),
        (
            {"freq": "WEEKLY", "byday": "1MO", "opens_at": "09:00", "closes_at": "10:00"},
            "schedules[0].byday:",
        ),
        (
            {
                "freq": "WEEKLY",
                "byday": "MO",
                "opens_at": "09:00",
                "closes_at": "10:00",
                "timezone": 1,
            },
            "schedules[0].timezone: UTC offset '1' is not London wall time",
        ),
    ]
    for schedule, expected in cases:
        opening, warnings = _opening([schedule])
        assert any(w.startswith(expected) for w in warnings), (expected, warnings)
        if "timezone" not in schedule:
            assert opening["weekly"] == {} and "recurring" not in opening, expected
    full = records_from_oruk(example("hsds-3.0/service_full.json"))
    assert (
        "schedules[0].byweekno: '41,42' not represented; schedule left out"
        in (full.warnings[HSDS_SERVICE_ID])
    )


def test_fortnightly_monthly_and_dated_schedules(app_ctx: Flask) -> None:
    opening, warnings = _opening(
        [
            {
                "freq": "WEEKLY",
                "interval": 2,
                "dtstart": "2026-01-05",
                "byday": "MO",
                "opens_at": "09:00",
                "closes_at": "12:00",
            },
            {
                "freq": "MONTHLY",
                "byday": "-1FR",
                "opens_at": "13:00",
                "closes_at": "15:00",
                "count": 6,
                "dtstart": "2026-01-01",
            },
            {"freq": "MONTHLY", "bymonthday": "1,-1", "opens_at": "10:00", "closes_at": "11:00"},
            {
                "valid_from": "2026-12-31",
                "valid_to": "2026-12-31",
                "opens_at": "10:00",
                "closes_at": "14:00",
            },
            {"valid_from": "2026-12-25", "valid_to": "2026-12-25"},
        ]
    )
    assert warnings == []
    assert {
        (r["freq"], r["interval"], r["byday"], r["bymonthday"], r["count"])
        for r in opening["recurring"]
    } == {
        ("WEEKLY", 2, "MO", None, None),
        ("MONTHLY", 1, "-1FR", None, 6),
        ("MONTHLY", 1, None, "1,-1", None),
    }
    assert opening["specified_dates"] == [
        {"date": "2026-12-25", "closed": True, "sessions": []},
        {"date": "2026-12-31", "closed": False, "sessions": [["10:00", "14:00"]]},
    ]


def test_schedules_on_locations_are_unioned_with_a_warning(app_ctx: Flask) -> None:
    """HSDS 3.0 allows schedules on the service, a service_at_location and a location;
    navigator keeps one timetable per service."""
    monday = {"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "12:00"}
    tuesday = monday | {"byday": "TU"}
    opening, warnings = _opening(
        [monday],
        service_at_locations=[
            {"id": "1", "schedules": [monday]},
            {"id": "2", "location": {"id": "l", "schedules": [tuesday]}},
        ],
    )
    assert opening["weekly"] == {"monday": [["09:00", "12:00"]], "tuesday": [["09:00", "12:00"]]}
    [warning] = [w for w in warnings if "unioned" in w]
    assert warning.startswith("schedules; service_at_locations[1].location.schedules:")
    same, none = _opening([monday], service_at_locations=[{"id": "1", "schedules": [monday]}])
    assert none == [] and same["weekly"] == {"monday": [["09:00", "12:00"]]}


def test_holiday_ranges_are_capped(app_ctx: Flask) -> None:
    item = uk10_service(
        holiday_schedules=[
            {
                "closed": False,
                "opens_at": "10:00",
                "closes_at": "12:00",
                "start_date": "2026-01-01",
                "end_date": "2028-01-01",
            }
        ]
    )
    result = records_from_oruk([item])
    dates = result.services[0]["opening"]["specified_dates"]
    assert len(dates) == 366 and dates[0]["sessions"] == [["10:00", "12:00"]]
    assert any("capped at 366 days" in w for w in result.warnings["1234"])


def test_ages_keep_their_precision(app_ctx: Flask) -> None:
    """`maximum_age: 1.5` is 18 months (548 days), not 2.5 years (issue 15); a whole maximum
    admits to the day before the next birthday; several eligibilitys give the widest range."""

    def ages(**fields: Any) -> tuple[tuple[int, int | None], list[str]]:
        result = records_from_oruk(
            [{"id": "s", "name": "S", "status": "active", "organization": ORG} | fields]
        )
        elig = result.services[0]["eligibility"]
        return (elig["min_age_days"], elig["max_age_days"]), result.warnings.get("s", [])

    assert ages(minimum_age=0, maximum_age=1.5) == ((0, 548), [])
    assert ages(minimum_age=18, maximum_age=17)[0] == (0, None)
    assert ages(minimum_age=65)[0] == (23742, None)
    assert ages(maximum_age=17)[0] == (0, 6574)
    wide, warnings = ages(
        eligibilitys=[
            {"minimum_age": 18, "maximum_age": 64},
            {"minimum_age": 16, "maximum_age": 25},
        ]
    )
    assert wide == (5844, 23741) and any("widest" in w for w in warnings)
    for bad in (-1, 131, "old", True):
        got, warnings = ages(maximum_age=bad)
        assert got == (0, None) and warnings[0].startswith("maximum_age:"), bad


def test_ids_and_organisations_are_made_safe(app_ctx: Flask) -> None:
    result = records_from_oruk(
        [
            {"id": "Service 12/B", "name": "S", "status": "active"},
            {
                "id": "E2B1C3D4-0000-4000-8000-00000000000A",
                "name": "T",
                "status": "active",
                "organization": {"id": "ABC", "name": "Org"},
            },
        ]
    )
    slug, uuid = (s["id"] for s in result.services)
    assert slug.startswith("service-12-b-") and len(slug) == len("service-12-b-") + 8
    assert any("is not a navigator id" in w for w in result.warnings[slug])
    assert uuid == "e2b1c3d4-0000-4000-8000-00000000000a" and uuid not in result.warnings
    assert result.services[0]["organisation"] == "organisation-not-given"
    assert result.services[1]["organisation"] == "abc"
    assert (
        records_from_oruk([{"id": "Service 12/B", "name": "S", "status": "active"}]).services[0][
            "id"
        ]
        == slug
    )  # stable


def test_warnings_quote_feed_text_short_and_printable(app_ctx: Flask) -> None:
    """The report is printed to a terminal: a hostile value is cut and its control characters
    (an ANSI escape, a line break that would forge a report line) removed."""
    hostile = "\x1b[31mx@" + "y" * 500 + "\nrejected service everything"
    result = records_from_oruk(
        [{"id": "s", "name": "S", "status": "active", "organization": ORG, "email": hostile}]
    )
    [warning] = result.warnings["s"]
    assert "\x1b" not in warning and "\n" not in warning and len(warning) < 120


def test_deep_copies_of_the_input_are_not_changed(app_ctx: Flask) -> None:
    data = example("uk-profile/organization_full.json")
    before = copy.deepcopy(data)
    records_from_oruk(data)
    assert data == before
