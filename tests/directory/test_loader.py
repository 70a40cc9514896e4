"""`navigator directory load`: idempotent, updates in place, keeps good records."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import LoadReport, load_documents
from navigator.directory.models import Service, ServiceChange
from navigator.directory.store import read_services, update_service
from tests.builders import load_directory, organisation, service


def test_loading_the_same_data_twice_changes_nothing(session: Session) -> None:
    services = [service(id="a"), service(id="b", service_type="district_nursing")]
    first = load_directory(services=services)
    assert (first.services["created"], first.organisations["created"]) == (2, 1)
    changes_before = session.scalar(select(func.count()).select_from(ServiceChange))

    second = load_directory(services=services)
    assert second.services["unchanged"] == 2 and second.services["created"] == 0
    assert second.organisations["unchanged"] == 1
    assert not second.changed
    assert session.scalar(select(func.count()).select_from(ServiceChange)) == changes_before


def test_changed_data_updates_in_place_and_records_each_field(session: Session) -> None:
    load_directory(services=[service(id="a")])
    report = load_directory(
        services=[
            service(id="a", name="Renamed", opening={"weekly": {"monday": [["09:00", "17:00"]]}})
        ]
    )
    assert report.services["updated"] == 1
    assert session.scalar(select(func.count()).select_from(Service)) == 1
    record = read_services(session)["a"]
    assert record["name"] == "Renamed"
    assert record["opening"]["weekly"] == {"monday": [["09:00", "17:00"]]}
    fields = set(
        session.scalars(select(ServiceChange.field).where(ServiceChange.field != "created"))
    )
    assert fields == {"name", "opening"}
    change = session.scalar(select(ServiceChange).where(ServiceChange.field == "name"))
    assert change is not None
    assert (change.old_value, change.new_value, change.changed_by) == (
        "Service a",
        "Renamed",
        "tests",
    )


def test_bad_records_are_rejected_with_reasons_and_good_ones_kept(session: Session) -> None:
    report = load_directory(
        services=[
            service(id="good"),
            service(id="bad-type", service_type="spaceship"),
            service(id="bad-hours", opening={"weekly": {"monday": [["8am", "5pm"]]}}),
            service(id="bad-org", organisation="nobody"),
            service(id="bad-need", needs=["teleportation"]),
            service(id="Bad Id"),
        ]
    )
    assert report.services["created"] == 1 and report.services["rejected"] == 5
    reasons = {r.id: r.reason for r in report.rejections}
    assert "service_type" in reasons["bad-type"] and "spaceship" in reasons["bad-type"]
    assert "opening.weekly.monday" in reasons["bad-hours"]
    assert "unknown organisation" in reasons["bad-org"]
    assert "teleportation" in reasons["bad-need"]
    assert "slug" in reasons["Bad Id"]
    assert set(read_services(session)) == {"good"}


def test_unknown_fields_are_rejected_not_silently_dropped(session: Session) -> None:
    report = load_directory(services=[service(id="x", colour="blue")])
    assert report.services["rejected"] == 1
    assert "colour" in report.rejections[0].reason


def test_an_ods_code_cannot_belong_to_two_organisations(session: Session) -> None:
    report = load_directory(
        organisations=[
            organisation(id="one", ods_code="RC9"),
            organisation(id="two", ods_code="rc9"),
        ],
        services=[service(id="s", organisation="one")],
    )
    assert report.organisations["created"] == 1 and report.organisations["rejected"] == 1
    assert "belongs to one" in report.rejections[0].reason


# --- issue 15: ORUK feeds, the load report, and classifications people made ---------------


def _feed_service(sid: str, terms: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """An HSDS-UK 1.0 service (keys of the HSDS-UK reference implementation's models)."""
    return {
        "id": sid,
        "name": f"Feed service {sid}",
        "status": "active",
        "url": "",
        "organization": {"id": "feed-org", "name": "Feed organisation"},
        "service_taxonomys": [{"id": f"t{i}", "taxonomy": t} for i, t in enumerate(terms)],
    } | extra


CARERS_GROUP = {"id": "http://id.esd.org.uk/service/298", "vocabulary": "esdServiceTypes"}
LOCAL_TERM = {"id": "bccservicetype:78", "name": "Autism", "vocabulary": "BCC Service Types"}


def _load_feed(
    session: Session, services: list[dict[str, Any]], *, trust: bool = False
) -> LoadReport:
    with transaction(session):
        return load_documents(
            session,
            [("feed.json", {"content": services})],
            vocab=VOCABULARY.get(),
            changed_by="load:feed.json",
            trust_classification=trust,
        )


def _classify_as_person(session: Session, sid: str) -> None:
    old = read_services(session)[sid]
    new = old | {
        "service_type": "befriending",
        "sector": "voluntary",
        "needs": ["loneliness"],
        "eligibility": old["eligibility"] | {"caller_roles": ["professional"]},
        "classified_by": "person:alice",
    }
    with transaction(session):
        update_service(session, old, new, changed_by="alice")


def test_reloading_a_feed_keeps_a_persons_classification(session: Session) -> None:
    """The feed owns its fields, navigator owns the classification (issue 15 §2): a reload
    whose classification is a mapping's or none keeps the person's; the feed's other fields
    still update."""
    _load_feed(session, [_feed_service("u", [LOCAL_TERM]), _feed_service("m", [CARERS_GROUP])])
    for sid in ("u", "m"):
        _classify_as_person(session, sid)
    report = _load_feed(
        session,
        [
            _feed_service("u", [LOCAL_TERM], name="Renamed by the council"),
            _feed_service("m", [CARERS_GROUP]),
        ],
    )
    records = read_services(session)
    for sid in ("u", "m"):
        assert records[sid]["service_type"] == "befriending", sid
        assert records[sid]["classified_by"] == "person:alice"
        assert records[sid]["eligibility"]["caller_roles"] == ["professional"]
        assert records[sid]["needs"] == ["loneliness"]
    assert records["u"]["name"] == "Renamed by the council"
    assert (report.services["updated"], report.services["unchanged"]) == (1, 1)
    assert report.unclassified == {}  # a person classified it


def test_only_a_trusted_feed_with_navigators_own_terms_overrides_a_person(
    session: Session,
) -> None:
    """navigator's own terms in a feed are a classification only when the load trusts the
    feed (another navigator's); from any other feed they change nothing (hazard H30)."""
    _load_feed(session, [_feed_service("n", [LOCAL_TERM])])
    _classify_as_person(session, "n")
    own = {
        "taxonomy_term": {
            "name": "Carers support service",
            "code": "carers_support",
            "taxonomy": "navigator-service-types",
        }
    }
    untrusted = _load_feed(session, [_feed_service("n", [LOCAL_TERM], attributes=[own])])
    record = read_services(session)["n"]
    assert (record["service_type"], record["classified_by"]) == ("befriending", "person:alice")
    assert any("not trusted from this feed" in w for w in untrusted.warnings["n"])
    _load_feed(session, [_feed_service("n", [LOCAL_TERM], attributes=[own])], trust=True)
    record = read_services(session)["n"]
    assert (record["service_type"], record["classified_by"]) == ("carers_support", None)


def test_a_kept_classification_whose_feed_ages_changed_is_warned(session: Session) -> None:
    """Review of issue 15, finding 2: the feed now says 0-17 while the person's classification
    (kept) says 65 and over; the report says so for that service ("kept with warnings"),
    on every load while they differ, and not when the feed agrees."""
    _load_feed(session, [_feed_service("e", [LOCAL_TERM], minimum_age=65)])
    _classify_as_person(session, "e")
    same = _load_feed(session, [_feed_service("e", [LOCAL_TERM], minimum_age=65)])
    assert "e" not in same.warnings and same.services["unchanged"] == 1
    children = [_feed_service("e", [LOCAL_TERM], minimum_age=0, maximum_age=17)]
    for _ in range(2):
        report = _load_feed(session, children)
        assert report.warnings["e"] == [
            "eligibility: kept as classified by alice; the feed now says ages 0–17"
        ]
        assert "  e: eligibility: kept as classified by alice; the feed now says ages 0–17" in (
            report.lines()
        )
    record = read_services(session)["e"]
    assert record["eligibility"]["min_age_days"] == 23742  # still the person's (65 years)


def test_a_mapping_classification_is_in_the_change_history(session: Session) -> None:
    _load_feed(session, [_feed_service("h", [LOCAL_TERM])])
    _load_feed(session, [_feed_service("h", [LOCAL_TERM, CARERS_GROUP])])
    changes = {
        c.field: (c.new_value, c.changed_by)
        for c in session.scalars(select(ServiceChange).where(ServiceChange.service_id == "h"))
    }
    assert changes["service_type"] == ("carers_support", "load:feed.json")
    assert changes["classified_by"] == ("mapping:esd", "load:feed.json")


def test_the_report_lists_warnings_and_unclassified_in_lines_and_json(session: Session) -> None:
    report = _load_feed(
        session,
        [
            _feed_service("w", [LOCAL_TERM], email="not-an-email"),
            _feed_service("bad", [], service_areas=[]) | {"name": ""},
            _feed_service("rejected-later", [], status="active", organization={"id": "Bad Org!"})
            | {"email": "nope"},
        ],
    )
    data = report.as_json()
    assert data["services"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert data["rejected"] == [
        {"kind": "service", "id": "bad", "source": "feed.json", "reason": "no name"}
    ]
    assert data["kept_with_warnings"]["w"] == [
        "email: 'not-an-email' is not an email address; left out"
    ]
    assert "BCC Service Types bccservicetype:78 (Autism)" in data["unclassified"]["w"]
    assert json.loads(json.dumps(data)) == data
    lines = report.lines()
    assert lines[1] == "services: created 2, updated 0, unchanged 0, rejected 1"
    assert "kept with warnings: 2 services" in lines
    assert "  w: email: 'not-an-email' is not an email address; left out" in lines
    assert any(line.startswith("unclassified") for line in lines)
