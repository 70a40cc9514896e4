"""Council-scale HSDS-UK 1.0 feeds load without loss (issue 15 §1, §2 and "Done when").

Issue 15 tried navigator's ORUK import on two councils' published feeds (819 and 738 services,
HSDS-UK list shape): every service was rejected for lacking a navigator service type, and 244
and 79 for `"url": ""` / `"email": ""`. `tests/directory/council_feed.py` builds feeds of that
shape and size (its docstring names where each shape rule came from); these tests load them
through `navigator.directory.loader.load_documents`, as `navigator directory load` does, and
protect:

- 0 services rejected: a service is rejected only without an id or a name;
- blank `url`/`email` are absent; malformed ones are dropped with a warning naming the field,
  never the service;
- ESD terms the shipped mapping (`directory_of_services/taxonomy_mappings/esd.yaml`) maps
  give a navigator type and needs (`classified_by` "mapping:esd"), whatever id form the feed
  wrote (`http://id.esd.org.uk/service/298`, `esdServiceType:298`, `298`); every other service
  is kept `unclassified`, with the feed's own terms in `source_terms`;
- monthly and fortnightly schedules are kept (`opening.recurring`) or warned, never widened
  into every week; schedules on service_at_locations and holiday schedules likewise;
  `00:00`-`23:59` every day is open all hours;
- fractional ages keep their precision (`maximum_age: 1.5` -> 548 days);
- re-loading the same feed changes nothing.

A navigator service id is the feed's id in lower case (ids must be lowercase slugs; a UUID or
a numeric string is one once lowered): `stored_id`.

Each feed is loaded twice, once per module (a load of 800 services takes seconds); the
tests read what those loads reported and stored. Run with `-s` to see how long each load
took (no time is asserted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy.orm import Session

from navigator.core.clock import max_age_days_from_years, min_age_days_from_years
from navigator.core.db import transaction
from navigator.core.extensions import db
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import LoadReport, load_documents
from navigator.directory.records import Record
from navigator.directory.store import read_services
from tests.conftest import PROJECT_ROOT, _empty_all_tables
from tests.directory.council_feed import (
    COUNCIL_738,
    COUNCIL_819,
    MALFORMED_EMAILS,
    MALFORMED_URLS,
    council_feed,
    paged,
    warnings_by_service,
)

UNCLASSIFIED = "unclassified"
ESD_VOCABULARIES = ("esdServiceTypes", "esdNeeds")
ESD_MAPPING = PROJECT_ROOT / "directory_of_services" / "taxonomy_mappings" / "esd.yaml"

Feed = list[dict[str, Any]]
Documents = list[tuple[str, Any]]


def _bare_list(feed: Feed) -> Documents:
    return [("council.json", feed)]


def _pages(feed: Feed) -> Documents:
    return [(f"services-page-{page['number']}.json", page) for page in paged(feed, size=50)]


# Each council once as the bare list a file holds and once as the HSDS-UK 1.0 pages an API
# answers (NOTES §3), so both accepted list shapes are tried at full size.
COUNCILS = [
    pytest.param((COUNCIL_819, _bare_list), id="council-819-bare-list"),
    pytest.param((COUNCIL_738, _pages), id="council-738-hsds-uk-pages"),
]


@dataclass(frozen=True)
class Loaded:
    """A council feed loaded twice into an empty database: both reports, the stored records
    after the first load, and the first load's warnings by service id."""

    feed: Feed
    report: LoadReport
    again: LoadReport
    stored: dict[str, Record]
    warnings: dict[str, list[str]]


def stored_id(feed_id: str) -> str:
    return feed_id.strip().lower()


def load(session: Session, documents: Documents, label: str) -> LoadReport:
    started = time.perf_counter()
    with transaction(session):
        report = load_documents(
            session, documents, vocab=VOCABULARY.get(), changed_by="test-council-feed"
        )
    print(f"\n{label}: {time.perf_counter() - started:.2f} s")
    return report


@pytest.fixture(scope="module", params=COUNCILS)
def council(request: pytest.FixtureRequest, app: Flask, database_url: str) -> Loaded:
    """Each feed is loaded once per module (a load takes seconds), not once per test: the
    tests read the reports and records kept here. The tables are emptied before and after."""
    profile, shape = request.param
    feed = council_feed(**profile)
    documents = shape(feed)
    _empty_all_tables(database_url)
    with app.app_context():
        session = db.session()
        label = f"council of {profile['services']} ({shape.__name__})"
        report = load(session, documents, f"{label}: first load")
        stored = read_services(session)
        again = load(session, documents, f"{label}: second load")
        db.session.remove()
    _empty_all_tables(database_url)
    warnings = warnings_by_service(report.as_json())
    return Loaded(feed, report, again, stored, warnings)


def _services_where(feed: Feed, test: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    chosen = [s for s in feed if test(s)]
    assert chosen, "the generated feed has no such service: the generator changed"
    return chosen


def test_every_service_loads_none_rejected(council: Loaded) -> None:
    """Done when: 0 services rejected for optional-field problems. Every generated service has
    an id and a name, so none may be rejected, and each is stored under its id."""
    feed, report = council.feed, council.report
    assert report.services["rejected"] == 0, report.lines()[:20]
    assert report.organisations["rejected"] == 0, report.lines()[:20]
    assert report.services["created"] == len(feed)
    assert set(council.stored) == {stored_id(s["id"]) for s in feed}


def test_blank_contact_details_are_absent_and_malformed_ones_dropped_with_a_warning(
    council: Loaded,
) -> None:
    """Issue 15 §1: empty and whitespace-only values are absent; a malformed email or URL is
    dropped with a warning naming the field, and the service kept. A scheme-less
    `www.example.org` may instead be kept as `https://www.example.org`, with a warning. Good
    values are kept as given."""
    feed, stored, warnings = council.feed, council.stored, council.warnings
    for service in feed:
        sid = stored_id(service["id"])
        contact, lines = stored[sid]["contact"], warnings.get(sid, [])
        email, url = service["email"], service["url"]
        if not email.strip():
            assert contact["email"] is None, sid
        elif email in MALFORMED_EMAILS:
            assert contact["email"] is None, (sid, contact["email"])
            assert any("email" in line for line in lines), (sid, lines)
        else:
            assert contact["email"] == email, sid
        if not url.strip():
            assert contact["website"] is None, sid
        elif url in MALFORMED_URLS:
            assert contact["website"] in (None, f"https://{url}", f"http://{url}"), sid
            assert any("url" in line for line in lines), (sid, lines)
        else:
            assert contact["website"] == url, sid


def _esd_key(term: dict[str, Any]) -> tuple[str, str] | None:
    """(list, code) of an ESD service or need term, whatever id form the feed used."""
    vocabulary, ident = term["vocabulary"], str(term["id"])
    if vocabulary not in ESD_VOCABULARIES:
        return None
    return vocabulary, ident.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _esd_mapping() -> dict[tuple[str, str], dict[str, Any]]:
    """The shipped ESD mapping's terms by (list, code), read from the data file itself."""
    data = yaml.safe_load(ESD_MAPPING.read_text(encoding="utf-8"))
    return {(t["list"], str(t["code"])): t for t in data["terms"]}


def test_esd_terms_the_mapping_maps_classify_and_the_rest_stay_unclassified_with_their_terms(
    council: Loaded,
) -> None:
    """Issue 15 §2: a service whose terms map to no navigator type is kept `unclassified`
    (never rejected), its own terms kept in `source_terms` as the feed gave them; a service
    whose ESD terms `directory_of_services/taxonomy_mappings/esd.yaml` maps to a type gets that
    type and the mapped needs, with `classified_by` "mapping:esd", whatever id form the feed
    wrote (`http://id.esd.org.uk/service/298`, `esdServiceType:298`, `298`). A council's own
    and OpenActive-like terms, and no terms, leave a service unclassified, and the load
    report's `unclassified` gives each one's reason."""
    feed, stored = council.feed, council.stored
    unclassified = council.report.as_json()["unclassified"]
    mapping = _esd_mapping()
    mapped = 0
    for service in feed:
        record = stored[stored_id(service["id"])]
        terms = [link["taxonomy"] for link in service["service_taxonomys"]]
        given = {(t["vocabulary"], str(t["id"]), t["name"]) for t in terms}
        kept = {(t["taxonomy"], t["code"], t["name"]) for t in record["source_terms"]}
        assert kept == given, record["id"]
        entries = [mapping[k] for k in map(_esd_key, terms) if k in mapping]
        types = [e["service_type"] for e in entries if e.get("service_type")]
        needs = {n for e in entries for n in e.get("needs", [])}
        assert set(record["needs"]) == needs, (record["id"], terms)
        if types:
            mapped += 1
            # Terms mapping to several types: the first in the feed's order is used (warned).
            assert record["service_type"] == types[0], (record["id"], terms)
            assert record["classified_by"] == "mapping:esd", record["id"]
        else:
            assert record["service_type"] == UNCLASSIFIED, (record["id"], terms)
            assert unclassified.get(record["id"]), (record["id"], "no reason in the report")
            assert record["classified_by"] == ("mapping:esd" if needs else None), record["id"]
    assert mapped, "no service was classified by the ESD mapping"


def _schedules(service: dict[str, Any]) -> list[dict[str, Any]]:
    return list(service["regular_schedules"]) + [
        entry for sal in service["service_at_locations"] for entry in sal["regular_schedule"]
    ]


def _not_plain_weekly(entry: dict[str, Any]) -> bool:
    return entry.get("freq") == "MONTHLY" or str(entry.get("interval") or "1") != "1"


def _schedule_paths(service: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each schedule entry with the field path a warning about it starts with."""
    paths = [(f"regular_schedules[{i}]", e) for i, e in enumerate(service["regular_schedules"])]
    for j, sal in enumerate(service["service_at_locations"]):
        paths += [
            (f"service_at_locations[{j}].regular_schedule[{k}]", e)
            for k, e in enumerate(sal["regular_schedule"])
        ]
    return paths


def _same_rule(kept: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether a stored `opening.recurring` entry is exactly the feed's rule and hours."""
    return (
        kept["freq"] == entry["freq"]
        and (kept["byday"] or "") == (entry.get("byday") or "")
        and kept["interval"] == int(entry.get("interval") or 1)
        and (kept["dtstart"] or "") == (entry.get("dtstart") or "")
        and [entry["opens_at"], entry["closes_at"]] in kept["sessions"]
    )


def test_monthly_and_fortnightly_schedules_are_kept_or_warned_never_widened(
    council: Loaded,
) -> None:
    """Issue 15 §1: `MONTHLY` `1SA`/`-1FR`/`2TU` and fortnightly (`interval` "2", `dtstart`)
    schedules are kept as recurring entries with exactly their rule (ordinal, interval and
    start kept), or reported per service with a warning about that very schedule; never
    dropped silently and never widened into every week."""
    feed, stored, warnings = council.feed, council.stored, council.warnings
    checked = 0
    for service in _services_where(feed, lambda s: any(map(_not_plain_weekly, _schedules(s)))):
        sid = stored_id(service["id"])
        opening = stored[sid]["opening"]
        assert opening["weekly"] == {}, (sid, "widened into every week", opening["weekly"])
        assert not opening["open_all_hours"], sid
        for path, entry in _schedule_paths(service):
            if not _not_plain_weekly(entry):
                continue
            checked += 1
            kept = any(_same_rule(r, entry) for r in opening.get("recurring") or [])
            warned = any(line.startswith(path) for line in warnings.get(sid, []))
            assert kept or warned, (sid, path, "schedule silently dropped or changed", entry)
    assert checked >= 20  # the feed really has such schedules


def test_weekly_schedules_wherever_placed_are_read(council: Loaded) -> None:
    """Plain weekly schedules, on the service or on a service_at_location (HSDS-UK 1.0
    `regular_schedule`), and the first UK schema's `weekday` day names, give weekly hours;
    holiday schedules are kept as dated entries or warned. `opens_at`/`closes_at` are
    HSDS-UK's `HH:mm`."""
    feed, stored, warnings = council.feed, council.stored, council.warnings
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    codes = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    timed = [
        s
        for s in feed
        if _schedules(s)
        and all(e.get("opens_at") not in ("", "00:00") for e in _schedules(s))
        and not any(map(_not_plain_weekly, _schedules(s)))
    ]
    assert any(s["service_at_locations"] and not s["regular_schedules"] for s in timed)
    for service in timed:
        sid = stored_id(service["id"])
        expected: dict[str, set[tuple[str, str]]] = {}
        # A service's and its locations' schedules are one timetable (their union).
        for entry in _schedules(service):
            if "weekday" in entry:
                on = [days[names.index(entry["weekday"])]]
            else:
                on = [days[codes.index(code)] for code in entry["byday"].split(",")]
            for day in on:
                expected.setdefault(day, set()).add((entry["opens_at"], entry["closes_at"]))
        weekly = {day: sorted(map(list, periods)) for day, periods in expected.items()}
        assert stored[sid]["opening"]["weekly"] == weekly, sid
    for service in _services_where(feed, lambda s: bool(s["holiday_schedules"])):
        sid = stored_id(service["id"])
        dated = stored[sid]["opening"]["specified_dates"]
        warned = any("holiday" in line for line in warnings.get(sid, []))
        assert dated or warned, (sid, "holiday schedule silently dropped")


def test_00_00_to_23_59_every_day_is_open_all_hours(council: Loaded) -> None:
    """Issue 15 §1 and NOTES §2: `00:00`-`23:59` on all seven days (one entry with seven
    `byday` codes, or seven entries) is HSDS's 24 hours: open all hours, so open on bank
    holidays too."""
    feed, stored = council.feed, council.stored

    def all_day(service: dict[str, Any]) -> bool:
        entries = service["regular_schedules"]
        return bool(entries) and all(
            (e.get("opens_at"), e.get("closes_at")) == ("00:00", "23:59") for e in entries
        )

    for service in _services_where(feed, all_day):
        opening = stored[stored_id(service["id"])]["opening"]
        assert opening["open_all_hours"] is True, service["id"]


def test_ages_keep_their_precision(council: Loaded) -> None:
    """Issue 15 §1: decimal years become days without rounding (`maximum_age: 1.5` -> 548
    days, `navigator.core.clock.max_age_days_from_years`); a whole `maximum_age` admits up to
    the day before the next birthday. Services with exactly one eligibility entry that gives
    an age are checked (how several entries combine is the importer's documented choice)."""
    feed, stored = council.feed, council.stored

    def one_aged_entry(service: dict[str, Any]) -> bool:
        entries = service["eligibilitys"]
        return len(entries) == 1 and (
            entries[0]["minimum_age"] is not None or entries[0]["maximum_age"] is not None
        )

    saw_fraction = False
    for service in _services_where(feed, one_aged_entry):
        entry = service["eligibilitys"][0]
        low, high = entry["minimum_age"], entry["maximum_age"]
        eligibility = stored[stored_id(service["id"])]["eligibility"]
        assert eligibility["min_age_days"] == min_age_days_from_years(low or 0), service["id"]
        expected_max = None if high is None else max_age_days_from_years(high)
        assert eligibility["max_age_days"] == expected_max, service["id"]
        if high == 1.5:
            saw_fraction = True
            assert eligibility["max_age_days"] == 548
    assert saw_fraction


def test_reloading_the_same_feed_changes_nothing(council: Loaded) -> None:
    """Issue 15 §1/§2: loading a feed is idempotent: the second load reports every service
    unchanged and nothing created, updated or rejected."""
    feed, again = council.feed, council.again
    assert again.services["unchanged"] == len(feed), again.lines()[:20]
    assert (again.services["created"], again.services["updated"]) == (0, 0)
    assert again.services["rejected"] == 0
    assert not again.changed
