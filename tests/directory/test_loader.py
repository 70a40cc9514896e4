"""`navigator directory load`: idempotent, updates in place, keeps good records."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.directory.models import Service, ServiceChange
from navigator.directory.store import read_services
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
