"""`navigator directory load`: idempotent, updates in place, keeps good records, and never
lets an untrusted feed overwrite what navigator keeps from another source."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import LoadReport, load_documents
from navigator.directory.models import Service, ServiceChange
from navigator.directory.store import read_organisations, read_services, update_service
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


# --- review of issue 15, H1: a feed never overwrites what navigator keeps from elsewhere ---


def _derived(ident: str, original: str) -> str:
    """The id the rule in FORMAT.md ("Ids") gives a feed's record that meets a kept id."""
    digest = hashlib.sha1(original.encode()).hexdigest()[:8]  # noqa: S324 (an id, not security)
    return f"{ident}-feed-{digest}"


def _hand_kept(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
    """The BLMK directory's shape of it: Bedford Hospital (ODS RC1) runs the urgent community
    response `ucr-bedford`, open all hours; both from a navigator-format file."""
    load_directory(
        organisations=[
            organisation(id="bedford-hospital", ods_code="RC1", name="Bedford Hospital")
        ],
        services=[service(id="ucr-bedford", organisation="bedford-hospital")],
    )
    return read_services(session)["ucr-bedford"], read_organisations(session)["bedford-hospital"]


def test_a_feed_service_and_organisation_never_overwrite_hand_kept_ones(session: Session) -> None:
    """A council feed's service `UCR-Bedford` (lowercased, the id of the hand-kept urgent
    community response) under an organization `Bedford-Hospital` (the hand-kept hospital's id)
    used to replace the curated service and rename the hospital, wiping its ODS code, without
    a word. Neither is rejected nor overwritten: both load under stable derived ids, the
    service under the derived organisation, each warned naming its field; loading the same
    feed again updates those same records (unchanged)."""
    kept_service, kept_org = _hand_kept(session)
    feed = [
        _feed_service("UCR-Bedford", [LOCAL_TERM], name="Lunch club")
        | {"organization": {"id": "Bedford-Hospital", "name": "Lunch club org"}}
    ]
    report = _load_feed(session, feed)
    sid, oid = (
        _derived("ucr-bedford", "UCR-Bedford"),
        _derived("bedford-hospital", "Bedford-Hospital"),
    )
    assert read_services(session)["ucr-bedford"] == kept_service
    assert read_organisations(session)["bedford-hospital"] == kept_org
    assert kept_org["ods_code"] == "RC1"
    loaded = read_services(session)[sid]
    assert (loaded["name"], loaded["organisation"]) == ("Lunch club", oid)
    assert read_organisations(session)[oid]["name"] == "Lunch club org"
    assert (report.services["created"], report.organisations["created"]) == (1, 1)
    assert report.rejections == []
    assert report.warnings[sid][:2] == [
        f"id: 'UCR-Bedford' is the id of a service navigator keeps from another source; "
        f"loaded as {sid!r}",
        f"organization.id: 'Bedford-Hospital' is the id of an organisation navigator keeps "
        f"from another source; loaded as {oid!r}",
    ]
    again = _load_feed(session, feed)
    assert (again.services["unchanged"], again.organisations["unchanged"]) == (1, 1)
    assert not again.changed
    renamed = _load_feed(session, [feed[0] | {"name": "Lunch club (Tuesdays)"}])
    assert (renamed.services["updated"], renamed.services["created"]) == (1, 0)
    assert read_services(session)["ucr-bedford"] == kept_service


def test_an_organisation_is_kept_elsewhere_by_its_services_or_when_it_has_none(
    session: Session,
) -> None:
    """An organisation with a hand-kept service, or with no service at all (nothing says a
    feed made it), keeps its id from a feed; one whose services all came from untrusted
    feeds is the feeds' to update. A feed never leaves an organisation without services
    behind: one named only by rejected services is not created."""
    _, kept_org = _hand_kept(session)
    load_directory(organisations=[organisation(id="empty-org", ods_code=None)], services=[])
    report = _load_feed(
        session,
        [
            _feed_service("new-1", [LOCAL_TERM]) | {"organization": {"id": "bedford-hospital"}},
            _feed_service("new-2", [LOCAL_TERM]) | {"organization": {"id": "empty-org"}},
            _feed_service("new-3", [LOCAL_TERM]),  # under feed-org
            _feed_service("gone", [LOCAL_TERM], name="")
            | {"organization": {"id": "rejected-only-org", "name": "R"}},
        ],
    )
    services = read_services(session)
    assert services["new-1"]["organisation"] == _derived("bedford-hospital", "bedford-hospital")
    assert services["new-2"]["organisation"] == _derived("empty-org", "empty-org")
    assert services["new-3"]["organisation"] == "feed-org"
    assert read_organisations(session)["bedford-hospital"] == kept_org
    assert "rejected-only-org" not in read_organisations(session)
    assert report.organisations["created"] == 3
    renamed = _load_feed(
        session,
        [
            _feed_service("new-3", [LOCAL_TERM])
            | {"organization": {"id": "feed-org", "name": "New name"}}
        ],
    )
    assert renamed.organisations["updated"] == 1
    assert read_organisations(session)["feed-org"]["name"] == "New name"


def test_a_feed_may_update_services_from_feeds_and_a_trusted_one_anything(
    session: Session,
) -> None:
    """The rule reads provenance from the record: a feed's service (a mapping's type, a
    person's, or unclassified) is updated in place by a later untrusted load; a hand-kept one
    only by a trusted load (`--trust-classification`: navigator's own export)."""
    _hand_kept(session)
    _load_feed(session, [_feed_service("m", [CARERS_GROUP])])
    assert read_services(session)["m"]["classified_by"] == "mapping:esd"
    report = _load_feed(session, [_feed_service("m", [CARERS_GROUP], name="Renamed")])
    assert report.services["updated"] == 1 and set(report.warnings) == set()
    assert read_services(session)["m"]["name"] == "Renamed"
    _load_feed(session, [_feed_service("UCR-Bedford", [LOCAL_TERM])], trust=True)
    assert read_services(session)["ucr-bedford"]["service_type"] == "unclassified"
