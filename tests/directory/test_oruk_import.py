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
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from navigator.core.clock import LONDON
from navigator.core.db import transaction, utcnow
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.loader import LoadReport, load_documents, load_path
from navigator.directory.opening import schedule_from_opening
from navigator.directory.oruk_export import export_oruk
from navigator.directory.oruk_import import looks_like_oruk, records_from_oruk
from navigator.directory.reference import directory_index, stale_hours
from navigator.directory.store import read_organisations, read_services
from navigator.navigation.service import navigate
from navigator.rules.reference import RULESET
from tests.builders import load_directory, organisation, service
from tests.conftest import PROJECT_ROOT, _empty_all_tables

BLMK = PROJECT_ROOT / "directory_of_services" / "blmk"
EXAMPLES = PROJECT_ROOT / "tests" / "data" / "oruk" / "examples"
ORG = {"id": "o", "name": "O"}
HSDS_SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"  # the HSDS examples' service id


def example(path: str) -> Any:
    return json.loads((EXAMPLES / path).read_text(encoding="utf-8"))


def load(
    session: Session,
    data: Any,
    source: str = "feed.json",
    *,
    trust: bool = False,
    today: date | None = None,
) -> LoadReport:
    with transaction(session):
        return load_documents(
            session,
            [(source, data)],
            vocab=VOCABULARY.get(),
            changed_by="test",
            trust_classification=trust,
            today=today,
        )


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
    report = load(session, exported, "oruk.json", trust=True)  # navigator's own export
    assert report.services["rejected"] == 0, report.lines()
    assert report.warnings == {}, report.lines()
    assert (read_organisations(session), read_services(session)) == before
    assert not load(session, exported, "oruk.json", trust=True).changed  # the same export again


def test_oruk_export_file_loads_with_the_cli_detection(tmp_path: Path, session: Session) -> None:
    load_directory(services=[service(id="s")])
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"contents": export_oruk(session, include_professional=True)}))
    with transaction(session):
        report = load_path(
            session, path, vocab=VOCABULARY.get(), changed_by="test", trust_classification=True
        )
    assert report.services["unchanged"] == 1
    assert report.lines()[1].startswith("services: created 0, updated 0, unchanged 1")


def _with_details(item: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """An exported service whose `navigator-details` JSON is changed by `change` (a key whose
    value is None is removed)."""
    item = copy.deepcopy(item)
    [attribute] = [
        a for a in item["attributes"] if a["taxonomy_term"]["name"] == "navigator-details"
    ]
    details = json.loads(attribute["value"]) | change
    attribute["value"] = json.dumps({k: v for k, v in details.items() if v is not None})
    return item


def test_navigator_details_ids_name_the_record(session: Session) -> None:
    """When a trusted `navigator-details` carries navigator's slugs (the export's HSDS ids are
    UUIDs), the record keeps the slugs."""
    load_directory(services=[service(id="s", service_type="befriending", needs=["loneliness"])])
    [exported] = export_oruk(session, include_professional=True)
    item = _with_details(exported, {"id": "my-slug", "organisation": "my-org"})
    result = records_from_oruk(item, trust_classification=True)
    assert (result.services[0]["id"], result.services[0]["organisation"]) == ("my-slug", "my-org")
    assert result.organisations[0]["id"] == "my-org"
    assert result.services[0]["service_type"] == "befriending" and not result.warnings


def test_third_party_hsds_is_mapped_from_its_fields(session: Session) -> None:
    """navigator's feed without `navigator-details` is read from its HSDS 3.0 fields. Its
    navigator taxonomy terms classify it (classified by the source) only when the load trusts
    the feed (hazard H30); an organisation whose ODS code navigator already files under
    another id keeps its own id and loses the code, warned (never filed under the owner)."""
    load_directory(
        services=[service(id="s", opening={"weekly": {"tuesday": [["09:00", "17:00"]]}})]
    )
    feed = export_oruk(session, include_professional=False)
    for item in feed:
        item["attributes"] = [
            a for a in item["attributes"] if a["taxonomy_term"]["name"] != "navigator-details"
        ]
        item["id"] = "third-party-" + item["id"]
        item["organization"]["id"] = "third-party-org"
    report = load(session, feed, "third.json")
    assert report.services["created"] == 1, report.lines()
    [(sid, record)] = [(k, v) for k, v in read_services(session).items() if k != "s"]
    assert sid.startswith("third-party-")
    assert (record["service_type"], record["classified_by"]) == ("unclassified", None)
    assert record["needs"] == []
    assert any(
        w.startswith("attributes: navigator's own classification is not trusted")
        for w in report.warnings[sid]
    )
    assert (
        "not trusted: navigator-service-types urgent_community_response"
        in (report.unclassified[sid])
    )
    assert record["organisation"] == "third-party-org"
    assert read_organisations(session)["third-party-org"]["ods_code"] is None
    assert (
        "organization.organization_identifiers: ODS code RC9 is test-trust's in navigator; "
        "left out (the service stays under third-party-org)"
    ) in report.warnings[sid]

    trusted = load(session, feed, "third.json", trust=True)
    record = read_services(session)[sid]
    assert (record["service_type"], record["classified_by"]) == ("urgent_community_response", None)
    assert sid not in trusted.unclassified
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


EVERY_DAY_ALL_DAY = {
    "freq": "WEEKLY",
    "byday": "MO,TU,WE,TH,FR,SA,SU",
    "opens_at": "00:00",
    "closes_at": "23:59",
}
LOAD_DAY = date(2026, 5, 1)


def london(
    year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def _opening_on(schedules: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    result = records_from_oruk(
        [{"id": "s", "name": "S", "status": "active", "organization": ORG, "schedules": schedules}],
        today=LOAD_DAY,
    )
    return result.services[0]["opening"], result.warnings.get("s", [])


def test_a_24_hour_schedule_with_a_past_start_is_open_all_hours(app_ctx: Flask) -> None:
    """Review of issue 15, H3: feeds write `dtstart` and `valid_from` on every schedule (the
    HSDS 3.0 field guidance's example does), and 00:00-23:59 on all seven days with such a
    start used to become a recurring entry: not open all hours, closed on every bank holiday,
    silently. A start on or before the load date is no bound from then on, so the service is
    open all hours (HSDS field guidance: 00:00-23:59 is "a strong signal" of 24 hours), open
    on Christmas Day and at 23:59:30. A start after the load date is a bound (below)."""
    christmas, late = london(2026, 12, 25, 12), london(2026, 6, 3, 23, 59, 30)
    for start in (
        {"dtstart": "2020-01-01"},
        {"valid_from": "2024-04-01"},
        {"dtstart": "2026-05-01"},
    ):
        opening, warnings = _opening_on([EVERY_DAY_ALL_DAY | start])
        assert opening["open_all_hours"] and "recurring" not in opening, start
        assert warnings == [], start
        schedule = schedule_from_opening(opening)
        assert schedule.is_open(christmas) and schedule.is_open(late), start
    # Whole days on some days only: weekly whole days, as without the start.
    opening, _ = _opening_on([EVERY_DAY_ALL_DAY | {"byday": "SA,SU", "dtstart": "2020-01-01"}])
    assert opening["weekly"] == {"saturday": [["00:00", "24:00"]], "sunday": [["00:00", "24:00"]]}
    # Other hours with a start stay recurring exactly as written (review finding M2).
    opening, _ = _opening_on(
        [
            {"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "17:00"}
            | {"dtstart": "2020-01-01"}
        ]
    )
    assert opening["weekly"] == {} and opening["recurring"][0]["dtstart"] == "2020-01-01"


@pytest.mark.parametrize(
    ("bound", "said"),
    [
        ({"valid_to": "2027-01-31"}, "to 2027-01-31"),
        ({"dtstart": "2020-01-01", "until": "2027-01-31"}, "until 2027-01-31"),
        ({"valid_from": "2026-06-01"}, "from 2026-06-01"),
        ({"dtstart": "2026-12-01", "count": 60}, "from 2026-12-01 for 60 days"),
    ],
)
def test_a_bounded_24_hour_schedule_is_whole_days_and_says_so(
    app_ctx: Flask, bound: dict[str, Any], said: str
) -> None:
    """Review of issue 15, H3: 24 hours every day between dates cannot be `open_all_hours`,
    which has no dates. It stays a recurring entry whose session is the whole day (00:00 to
    24:00: open at 23:59:30, no gap before midnight), and the report says that bank holidays
    then follow navigator's bank-holiday rule (closed: HSDS gives no bank-holiday hours)."""
    opening, warnings = _opening_on([EVERY_DAY_ALL_DAY | bound])
    assert not opening["open_all_hours"] and opening["weekly"] == {}
    (entry,) = opening["recurring"]
    assert entry["sessions"] == [["00:00", "24:00"]]
    assert {k: entry[k] for k in bound} == bound
    assert warnings == [
        f"schedules[0]: 24 hours on all seven days, but only {said}: kept as whole days on "
        "those dates, not open all hours (which has no dates), so bank holidays follow "
        "navigator's bank-holiday rule (closed unless bank-holiday hours are given)"
    ]
    schedule = schedule_from_opening(opening)
    assert schedule.is_open(london(2026, 12, 3, 23, 59, 30))  # a Thursday inside every bound
    assert schedule.is_open(london(2026, 12, 4, 0, 0, 30))
    assert not schedule.is_open(london(2026, 12, 25, 12))  # Christmas Day: a bank holiday


def test_00_00_to_23_59_is_the_whole_day_in_every_schedule_form(app_ctx: Flask) -> None:
    """FORMAT.md: `00:00`-`23:59` is the whole day (00:00-24:00) in every form: a monthly
    rule's session, a dated range's, an HSDS-UK 1.0 holiday schedule's."""
    whole = [["00:00", "24:00"]]
    opening, _ = _opening_on(
        [{"freq": "MONTHLY", "byday": "1SA", "opens_at": "00:00", "closes_at": "23:59"}]
    )
    assert opening["recurring"][0]["sessions"] == whole
    opening, _ = _opening_on(
        [
            {
                "valid_from": "2026-07-01",
                "valid_to": "2026-07-01",
                "opens_at": "00:00",
                "closes_at": "23:59",
            }
        ]
    )
    assert opening["specified_dates"] == [
        {"date": "2026-07-01", "closed": False, "sessions": whole}
    ]
    result = records_from_oruk(
        [
            uk10_service(
                regular_schedules=[],
                holiday_schedules=[
                    {
                        "closed": False,
                        "opens_at": "00:00",
                        "closes_at": "23:59",
                        "start_date": "2026-12-25",
                        "end_date": "2026-12-25",
                    }
                ],
            )
        ],
        today=LOAD_DAY,
    )
    assert result.services[0]["opening"]["specified_dates"] == [
        {"date": "2026-12-25", "closed": False, "sessions": whole}
    ]


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


def test_a_date_that_is_not_text_is_warned_never_dropped_silently(app_ctx: Flask) -> None:
    """Review of issue 15 (the rule "nothing silently widened or dropped"): a `valid_from`
    written as a number, a `dtstart` as an object, and a holiday schedule with no
    `start_date` each used to drop their schedule with no warning at all."""
    weekly = {"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "17:00"}
    for key, value in (("valid_from", 20250101), ("dtstart", {"date": "2025-01-01"})):
        opening, warnings = _opening([weekly | {key: value}])
        assert opening["weekly"] == {} and "recurring" not in opening
        assert any(
            w.startswith(f"schedules[0].{key}:") and w.endswith("schedule left out")
            for w in warnings
        ), (key, warnings)
    _, warnings = _opening([], holiday_schedules=[{"closed": True}])
    assert any(w.startswith("holiday_schedules[0].start_date: missing") for w in warnings)


def test_a_malformed_service_at_locations_is_one_bad_field_not_a_lost_feed(
    app_ctx: Flask,
) -> None:
    """Review of issue 15: `"service_at_locations": 5` raised TypeError out of the import, so
    one bad field lost every service of the feed."""
    for bad in (5, True, "x"):
        result = records_from_oruk(
            [
                {"id": "s", "name": "S", "status": "active", "organization": ORG,
                 "service_at_locations": bad},
                {"id": "t", "name": "T", "status": "active", "organization": ORG},
            ]
        )  # fmt: skip
        assert [r["id"] for r in result.services] == ["s", "t"], bad


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


# --- review of issue 15 (attacker's findings) ------------------------------------------------

FAKE_999 = {
    "id": "aaa-fake-999",
    "name": "Emergency ambulance (call this number)",
    "status": "active",
    "organization": {"id": "evil-org", "name": "Evil Org"},
    "phones": [{"number": "01234 000000"}],
    "attributes": [
        {"taxonomy_term": {"taxonomy": "navigator-service-types", "code": "ambulance_999"}},
        {"taxonomy_term": {"taxonomy": "navigator-needs", "code": "fall_no_injury"}},
    ],
    "service_areas": [{"name": "Bedford"}],
    "schedules": [
        {
            "freq": "WEEKLY",
            "byday": "MO,TU,WE,TH,FR,SA,SU",
            "opens_at": "00:00",
            "closes_at": "23:59",
        }
    ],
    "service_at_locations": [{"location": {"name": "x", "latitude": 52.125, "longitude": -0.47}}],
}


def _red_flag_call(session: Session) -> dict[str, Any]:
    located = GAZETTEER.get().locate(parse_postcode("MK42 9DJ", allow_outward=False))
    now = utcnow()
    with transaction(session):
        return navigate(
            session,
            {
                "caller_role": "public",
                "red_flags": ["chest_pain"],
                "age": 60,
                "postcode": located,
                "at": now,
            },
            created_by="tests",
            index=directory_index(),
            ruleset=RULESET.get(),
            vocab=VOCABULARY.get(),
            now=now,
            stale_hours=stale_hours(),
        )


def test_a_feed_cannot_make_itself_the_999_service(session: Session) -> None:
    """Review of issue 15, finding 1 (hazard H30): a third-party feed writing navigator's own
    `ambulance_999` term is loaded unclassified, warned, never routed to; a red-flag call
    still goes to the real 999 service. Only a trusted load takes the term as given."""
    load_directory(
        organisations=[organisation()],
        services=[service(id="real-999", service_type="ambulance_999", needs=[])],
    )
    report = load(session, [FAKE_999], "fake999.json")
    record = read_services(session)["aaa-fake-999"]
    assert (record["service_type"], record["needs"]) == ("unclassified", [])
    assert record["source_terms"] == []  # not republished as navigator's own terms
    assert (
        "attributes: navigator's own classification is not trusted from this feed (use "
        "--trust-classification for navigator's own export); classified from its other terms"
    ) in report.warnings["aaa-fake-999"]
    assert "navigator-service-types ambulance_999" in report.unclassified["aaa-fake-999"]
    result = _red_flag_call(session)
    assert result["recommendation"]["service"]["id"] == "real-999"
    assert "aaa-fake-999" not in {a["service"]["id"] for a in result["alternatives"]}

    load(session, [FAKE_999], "fake999.json", trust=True)
    assert read_services(session)["aaa-fake-999"]["service_type"] == "ambulance_999"


def test_navigator_details_are_ignored_unless_trusted(session: Session) -> None:
    """An exported service's `navigator-details` (type, needs, callers, ages) is taken only
    from a trusted load; untrusted, the HSDS fields and the mappings classify it."""
    load_directory(services=[service(id="s", eligibility={"caller_roles": ["professional"]})])
    [exported] = export_oruk(session, include_professional=True)
    untrusted = records_from_oruk(exported)
    record = untrusted.services[0]
    assert record["service_type"] == "unclassified"
    assert record["eligibility"]["caller_roles"] == sorted(VOCABULARY.get().codes("caller_roles"))
    assert any("not trusted" in w for w in untrusted.warnings[record["id"]])
    trusted = records_from_oruk(exported, trust_classification=True)
    assert trusted.services[0]["eligibility"]["caller_roles"] == ["professional"]
    assert trusted.warnings == {}


def _esd(code: str) -> dict[str, Any]:
    return {"taxonomy_term": {"taxonomy": "esdServiceTypes", "code": code, "name": code}}


def test_a_mapped_service_admits_only_the_callers_its_terms_name(app_ctx: Flask) -> None:
    """Review of issue 15, H2: a mapped service used to admit every caller role, so a council
    feed's ESD 1284 "Mental health support" became a CMHT that routing offered to a member of
    the public. Now: the roles `esd.yaml` gives the terms that set its type (for 1284, as
    BLMK's hand-kept CMHTs take: care homes, NHS 111, professionals); a trusted feed's
    navigator term with no `navigator-details` (HSDS has no caller roles) admits
    professionals only; an unclassified service keeps every role (never routed to; the person
    who classifies it chooses)."""

    def roles(attributes: list[dict[str, Any]], *, trust: bool = False) -> list[str]:
        item = {"id": "s", "name": "S", "status": "active", "attributes": attributes}
        result = records_from_oruk([item], trust_classification=trust)
        return list(result.services[0]["eligibility"]["caller_roles"])

    assert roles([_esd("1284")]) == ["care_home", "nhs111", "professional"]
    assert roles([_esd("298")]) == ["nhs111", "professional", "public", "relative"]
    assert roles([_esd("292"), _esd("298")]) == ["nhs111", "professional"]  # care_home's terms
    own = {"taxonomy_term": {"taxonomy": "navigator-service-types", "code": "befriending"}}
    assert roles([own], trust=True) == ["professional"]
    assert roles([_esd("9999999")]) == sorted(VOCABULARY.get().codes("caller_roles"))


def test_trusted_but_partial_navigator_details_fall_back_to_hsds(app_ctx: Flask) -> None:
    """Review of issue 15, finding 9: a partial `navigator-details` (no sector, no
    eligibility) no longer rejects a service with an id and a name."""
    item = {
        "id": "svc-45",
        "name": "x",
        "status": "active",
        "attributes": [
            {
                "taxonomy_term": {"name": "navigator-details"},
                "value": json.dumps({"service_type": "gp_practice"}),
            }
        ],
    }
    result = records_from_oruk(item, trust_classification=True)
    assert result.rejected == []
    [record] = result.services
    assert (record["id"], record["service_type"]) == ("svc-45", "unclassified")
    [warning] = [w for w in result.warnings["svc-45"] if "navigator-details" in w]
    assert warning.startswith("attributes: navigator-details is incomplete or not valid (")
    assert "sector" in warning and warning.endswith("read from HSDS fields")


def test_an_ods_code_claimed_by_a_feed_stays_with_its_owner(session: Session) -> None:
    """Review of issue 15, finding 1 (ODS claim): the feed's organisation is kept, without
    the code, and the service is not filed under the NHS trust."""
    load_directory(
        organisations=[organisation(id="bedfordshire-hospitals", ods_code="RC9")],
        services=[service(id="real", organisation="bedfordshire-hospitals")],
    )
    hijack = {
        "id": "ods-hijack",
        "name": "Hijacked",
        "status": "active",
        "organization": {
            "id": "some-uuid",
            "name": "Not the trust",
            "organization_identifiers": [{"identifier_scheme": "ODS", "identifier": "RC9"}],
        },
    }
    report = load(session, [hijack])
    assert report.organisations["created"] == 1 and report.organisations["rejected"] == 0
    assert read_services(session)["ods-hijack"]["organisation"] == "some-uuid"
    orgs = read_organisations(session)
    assert orgs["some-uuid"]["ods_code"] is None and orgs["bedfordshire-hospitals"]["ods_code"]
    assert report.warnings["ods-hijack"] == [
        "organization.organization_identifiers: ODS code RC9 is bedfordshire-hospitals's in "
        "navigator; left out (the service stays under some-uuid)"
    ]


def test_equal_and_reversed_hours_are_never_silently_widened(app_ctx: Flask) -> None:
    """Review of issue 15, finding 3 (H31): 09:00-09:00 would be 24 hours in navigator; only
    00:00-00:00 is documented as the whole day. 17:00-09:00 is overnight, said so."""
    monday = {"freq": "WEEKLY", "byday": "MO"}
    for ends in ("09:00", "12:00"):
        opening, warnings = _opening([monday | {"opens_at": ends, "closes_at": ends}])
        assert opening["weekly"] == {}, ends
        assert warnings == [
            f"schedules[0].closes_at: same as opens_at ({ends}): all day or not at all is not "
            "clear; schedule left out"
        ]
    opening, warnings = _opening([monday | {"opens_at": "17:00", "closes_at": "09:00"}])
    assert opening["weekly"] == {"monday": [["17:00", "09:00"]]}
    assert warnings == [
        "schedules[0].closes_at: 09:00 is before opens_at 17:00: read as overnight, 17:00 to "
        "09:00 the next morning"
    ]
    for closes in ("00:00", "24:00"):  # open until midnight: nothing to say
        opening, warnings = _opening([monday | {"opens_at": "22:00", "closes_at": closes}])
        assert opening["weekly"] == {"monday": [["22:00", closes]]} and warnings == []
    opening, warnings = _opening([monday | {"opens_at": "00:00", "closes_at": "00:00"}])
    assert opening["weekly"] == {"monday": [["00:00", "24:00"]]} and warnings == []


def test_a_closure_longer_than_the_cap_never_silently_reopens(session: Session) -> None:
    """Review of issue 15, finding 4: a closed holiday schedule (or dated range) over 366 days
    that has not ended by the load date closes the service; one that ended before it is left
    out; both warned. The load date is injected."""
    weekly = [{"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "17:00"}]
    forever = {"closed": True, "start_date": "2024-01-01", "end_date": "9999-12-31"}
    item = {"id": "svc-49", "name": "x", "status": "active", "organization": ORG}
    item["schedules"] = weekly
    today = date(2026, 12, 1)
    report = load(session, [item | {"holiday_schedules": [forever]}], today=today)
    record = read_services(session)["svc-49"]
    assert record["status"] == "temporarily_closed"
    assert record["opening"]["specified_dates"] == []
    assert report.warnings["svc-49"] == [
        "holiday_schedules[0]: closed 2024-01-01 to 9999-12-31 (over 366 days, more dates than "
        "navigator keeps), not ended by the load date 2026-12-01; the service is loaded as "
        "temporarily closed"
    ]
    ended = {"closed": True, "start_date": "2020-01-01", "end_date": "2022-06-30"}
    report = load(session, [item | {"holiday_schedules": [ended]}], today=today)
    record = read_services(session)["svc-49"]
    assert record["status"] == "active" and record["opening"]["specified_dates"] == []
    assert report.warnings["svc-49"] == [
        "holiday_schedules[0]: closed 2020-01-01 to 2022-06-30 (over 366 days), ended before "
        "the load date 2026-12-01; left out"
    ]
    dated = {"valid_from": "2026-01-01", "valid_to": "2028-01-01"}  # no hours: closed
    result = records_from_oruk([item | {"schedules": [*weekly, dated]}], today=today)
    assert result.services[0]["status"] == "temporarily_closed"
    defunct = records_from_oruk(
        [item | {"status": "defunct", "holiday_schedules": [forever]}], today=today
    )
    assert defunct.services[0]["status"] == "defunct"


UNSAFE = "A\x00b\x07c\x1b[31md\x7fe\x85f\u202eg\u2066h\u2069i\u202aj\ud800k"


def test_unsafe_characters_are_removed_from_every_loaded_string(session: Session) -> None:
    """Review of issue 15, findings 5 and the bidi remark: NUL (PostgreSQL refuses it, so one
    aborted the whole load there), other C0/C1 controls, DEL, lone surrogates and bidi
    embeddings/overrides/isolates go, in both formats, in names, descriptions, source terms
    and keys; tab and line breaks stay. Runs on PostgreSQL when the tests do."""
    term = {"id": "t", "taxonomy": {"id": f"local:{UNSAFE}", "vocabulary": "Local"}}
    oruk = [
        {"id": "ok-1", "name": "Fine service", "status": "active"},
        {
            "id": "nul-1",
            "name": f"Bad{UNSAFE}",
            "status": "active",
            "description": f"line\tone\r\nline two {UNSAFE}",
            "service_taxonomys": [term],
        },
    ]
    report = load(session, oruk)
    assert report.services["created"] == 2, report.lines()
    records = read_services(session)
    assert records["nul-1"]["name"] == "BadAbc[31mdefghijk"
    assert records["nul-1"]["description"] == "line\tone\r\nline two Abc[31mdefghijk"
    assert records["nul-1"]["source_terms"][0]["code"] == "local:Abc[31mdefghijk"
    navigator_format = service(id="nav-1", description=f"x{UNSAFE}")
    report = load_directory(services=[navigator_format])
    assert report.services["created"] == 1, report.lines()
    assert read_services(session)["nav-1"]["description"] == "xAbc[31mdefghijk"


def test_an_item_that_is_not_a_service_object_is_rejected_alone(session: Session) -> None:
    """Review of issue 15, finding 6: a `null` or a number among the services rejects only
    that item, in a bare list and in a page; a rejected document is not counted as a
    service."""
    good = {"id": "good-1", "name": "Good", "status": "active"}
    report = load(session, [good, None, 5], "mixed.json")
    assert report.services["created"] == 1
    assert [str(r) for r in report.rejections] == [
        "rejected service item 2 (mixed.json): not a service object",
        "rejected service item 3 (mixed.json): not a service object",
    ]
    page = load(session, {"contents": [good | {"id": "good-2"}, None]}, "page.json")
    assert page.services["created"] == 1 and page.services["rejected"] == 1
    junk = load(session, [None, 5], "junk.json")  # nothing in it is a service
    assert junk.rejections[0].kind == "document" and junk.services["rejected"] == 0


def test_a_service_nested_too_deeply_is_rejected_alone(session: Session) -> None:
    """Review of issue 15, finding 8: deep junk inside one service of a list (as a URL feed
    gives) rejects that service, not the feed, and never overflows the stack."""
    junk: Any = "deep"
    for _ in range(500):
        junk = {"x": [junk]}
    items = [
        {"id": "fine", "name": "Fine", "status": "active"},
        {"id": "deep", "name": "D", "status": "active", "extra": junk},
    ]
    report = load(session, items)
    assert report.services["created"] == 1
    assert [str(r) for r in report.rejections] == [
        "rejected service item 2 (feed.json): nested more than 64 levels deep"
    ]


def test_fields_that_are_not_text_or_lists_are_never_stored_as_python(app_ctx: Flask) -> None:
    """Review of issue 15, findings 13 and 17: a name that is a list or an object rejects the
    service (no usable name); an optional text field that is one is left out, warned; a
    number becomes its text; schedules that are not a list are warned about by field; no
    warning quotes a Python repr."""
    base = {"status": "active", "organization": ORG}
    result = records_from_oruk(
        [
            base | {"id": "list-name", "name": ["list", "name"]},
            base | {"id": "object-name", "name": {"nested": {"deep": [1, 2, {}]}}},
            base
            | {
                "id": "number-name",
                "name": 12345,
                "description": {"not": "text"},
                "alternate_name": ["x"],
                "url": ["x"],
                "phones": [{"number": 999}],
                "schedules": {"not": "a list"},
                "regular_schedules": "string",
                "service_areas": [{"extent_type": "x"}],
                "attributes": [{"taxonomy_term": {"code": 5}}, "junk"],
            },
        ]
    )
    assert result.rejected == [
        ("list-name", "no usable name (a list, not text)"),
        ("object-name", "no usable name (an object, not text)"),
    ]
    [record] = result.services
    assert (record["name"], record["description"], record["public_name"]) == ("12345", "", None)
    assert record["contact"]["website"] is None
    warnings = result.warnings["number-name"]
    for expected in (
        'description: an object ({"not": "text"}), not text; left out',
        'alternate_name: a list (["x"]), not text; left out',
        'url: a list (["x"]), not text; left out',
        'schedules: an object ({"not": "a list"}), not a list; left out',
        "regular_schedules: text ('string'), not a list; left out",
        "service_areas[0]: names no place (no name or uri); left out",
        "attributes[1]: 'junk' is not an object; left out",
    ):
        assert expected in warnings, (expected, warnings)
    assert not any("['" in w or "'None'" in w for w in warnings), warnings
    _, days = _opening(
        [{"freq": "WEEKLY", "byday": ["MO", "TU"], "opens_at": "09:00", "closes_at": "10:00"}]
    )
    assert days == [
        'schedules[0].byday: ["MO", "TU"] is not a list of RFC 5545 days; schedule left out'
    ]


def test_a_service_id_given_twice_with_different_data_is_reported(session: Session) -> None:
    """Review of issue 15, finding 14: within one ORUK document the first copy is kept and
    the second rejected with its reason, listed in the report."""
    first = {"id": "twice", "name": "First", "status": "active"}
    report = load(session, [first, first | {"name": "Second"}, first])
    assert report.services["created"] == 1 and report.services["rejected"] == 1
    assert "rejected service twice (feed.json): id given twice with different data" in (
        report.lines()
    )
    assert read_services(session)["twice"]["name"] == "First"
