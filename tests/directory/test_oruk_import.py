"""Open Referral UK import: navigator's own export loads back field for field (hazard H7),
third-party HSDS without `navigator-details` is mapped from its HSDS fields, and the loader
recognises an ORUK file by its shape."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_documents, load_path
from navigator.directory.oruk_export import export_oruk
from navigator.directory.store import read_organisations, read_services
from tests.builders import load_directory, service
from tests.conftest import PROJECT_ROOT, _empty_all_tables

BLMK = PROJECT_ROOT / "directory_of_services" / "blmk"


def test_blmk_directory_round_trips_through_oruk(session: Session, database_url: str) -> None:
    """Export then import into an empty database gives the same directory, field for field."""
    with transaction(session):
        load_path(session, BLMK, vocab=VOCABULARY.get(), changed_by="test")
    before = (read_organisations(session), read_services(session))
    exported = export_oruk(session, include_professional=True)
    session.close()
    _empty_all_tables(database_url)
    with transaction(session):
        report = load_documents(
            session, [("oruk.json", exported)], vocab=VOCABULARY.get(), changed_by="test"
        )
    assert report.services["rejected"] == 0, report.lines()
    assert (read_organisations(session), read_services(session)) == before
    # and importing the same export again changes nothing
    with transaction(session):
        again = load_documents(
            session, [("oruk.json", exported)], vocab=VOCABULARY.get(), changed_by="test"
        )
    assert not again.changed


def test_third_party_oruk_without_navigator_details_is_mapped_from_hsds(session: Session) -> None:
    load_directory(
        services=[service(id="s", opening={"weekly": {"tuesday": [["09:00", "17:00"]]}})]
    )
    feed = export_oruk(session, include_professional=False)
    for item in feed:
        item["attributes"] = [
            a for a in item["attributes"] if a["taxonomy_term"]["name"] != "navigator-details"
        ]
        item["id"] = "third-party-" + item["id"]
    with transaction(session):
        report = load_documents(
            session, [("third.json", feed)], vocab=VOCABULARY.get(), changed_by="test"
        )
    assert report.services["created"] == 1, report.lines()
    record = read_services(session)["third-party-s"]
    assert record["service_type"] == "urgent_community_response"
    assert record["opening"]["weekly"] == {"tuesday": [["09:00", "17:00"]]}
    assert record["coverage"]["places"] == ["bedford"]
    assert record["locations"][0]["postcode"] == "MK42 9DJ"


def test_oruk_export_file_loads_with_the_cli_detection(tmp_path: Path, session: Session) -> None:
    load_directory(services=[service(id="s")])
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"contents": export_oruk(session, include_professional=True)}))
    with transaction(session):
        report = load_path(session, path, vocab=VOCABULARY.get(), changed_by="test")
    assert report.services["unchanged"] == 1
    assert report.lines()[1].startswith("services: created 0, updated 0, unchanged 1")
