"""A person classifies a service kept from another directory (issue 15 §2): validated like a
directory load, each changed field in the change history, `classified_by = person:<name>`,
the index refreshed at once; `unclassified` is never a classification, a hand-kept service's
type is changed in its file, and nothing is written when anything is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.clock import max_age_days_from_years, min_age_days_from_years
from navigator.core.db import transaction
from navigator.core.errors import Problem
from navigator.core.reference import VOCABULARY
from navigator.directory.classify import (
    FROM_ITS_SOURCE,
    ClassificationRejected,
    classifiable,
    classify_service,
    unclassified_count,
    unclassified_services,
    unknown_codes,
)
from navigator.directory.models import ServiceChange
from navigator.directory.reference import directory_index
from navigator.directory.store import current_revision, read_services
from tests.builders import load_directory, organisation, service

ESD_TERM = {
    "taxonomy": "esdServiceTypes",
    "code": "http://id.esd.org.uk/service/1126",
    "name": "Befriending",
}


def feed_service(**extra: Any) -> dict[str, Any]:
    """A service as the ORUK import keeps one whose ESD term maps to no navigator type."""
    return service(
        id="befriend",
        service_type="unclassified",
        sector="voluntary",
        needs=[],
        source_terms=[ESD_TERM],
        **extra,
    )


@pytest.fixture
def directory(session: Session) -> None:
    load_directory(
        services=[
            feed_service(),
            service(id="ucr-one"),  # hand-kept: its type comes from its file
            service(id="mapped", classified_by="mapping:esd-services", source_terms=[ESD_TERM]),
        ],
        organisations=[organisation()],
    )


def classify(session: Session, service_id: str = "befriend", **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "service_type": "befriending",
        "sector": "voluntary",
        "needs": ["loneliness"],
        "caller_roles": ["public", "relative", "professional"],
        "min_age_days": min_age_days_from_years(18),
        "max_age_days": None,
        "sex": "any",
        "vocab": VOCABULARY.get(),
        "username": "sam@nhs.net",
        "changed_by": "user:7:sam@nhs.net",
    } | overrides
    with transaction(session):
        return classify_service(session, service_id, **arguments)


def vocabulary_has(scheme: str, *codes: str) -> None:
    """The tests name real vocabulary codes; fail loudly if the vocabulary moves."""
    missing = [code for code in codes if not VOCABULARY.get().has(scheme, code)]
    assert not missing, f"{scheme} has no {missing}: update this test"


@pytest.mark.usefixtures("directory")
def test_classifying_sets_the_fields_records_each_change_and_refreshes_the_index(
    session: Session,
) -> None:
    vocabulary_has("service_types", "befriending")
    vocabulary_has("needs", "loneliness")
    before = current_revision(session)
    assert directory_index().by_id["befriend"].service_type == "unclassified"

    record = classify(session, min_age_days=0, max_age_days=max_age_days_from_years(1.5))

    assert record == read_services(session, ["befriend"])["befriend"]
    assert record["service_type"] == "befriending"
    assert record["needs"] == ["loneliness"]
    assert record["eligibility"]["caller_roles"] == ["professional", "public", "relative"]
    assert record["eligibility"]["max_age_days"] == 548  # 18 months, never "1.5 plus a year"
    assert record["classified_by"] == "person:sam@nhs.net"
    assert record["source_terms"] == [ESD_TERM]  # the feed's own terms are kept
    changes = session.scalars(
        select(ServiceChange).where(ServiceChange.changed_by == "user:7:sam@nhs.net")
    ).all()
    assert {c.field for c in changes} == {
        "service_type",
        "needs",
        "eligibility",
        "classified_by",
    }
    by_field = {c.field: c for c in changes}
    assert (by_field["service_type"].old_value, by_field["service_type"].new_value) == (
        "unclassified",
        "befriending",
    )
    assert current_revision(session) != before
    assert directory_index().by_id["befriend"].service_type == "befriending"
    assert unclassified_count(session) == 0


@pytest.mark.usefixtures("directory")
def test_the_same_classification_again_writes_nothing(session: Session) -> None:
    classify(session)
    revision = current_revision(session)
    rows = len(session.scalars(select(ServiceChange)).all())
    classify(session)
    assert current_revision(session) == revision
    assert len(session.scalars(select(ServiceChange)).all()) == rows


@pytest.mark.usefixtures("directory")
@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"service_type": "unclassified"}, {"service_type"}),
        ({"service_type": "no_such_type"}, {"service_type"}),
        ({"sector": "nowhere", "needs": ["flying"]}, {"sector", "needs"}),
        ({"caller_roles": []}, {"caller_roles"}),
        ({"caller_roles": ["martian"]}, {"caller_roles"}),
        ({"min_age_days": 7000, "max_age_days": 6000}, {"max_age_days"}),
        ({"min_age_days": -1}, {"min_age_days"}),
        ({"sex": "either"}, {"sex"}),
    ],
)
def test_an_invalid_classification_names_the_parameter_and_writes_nothing(
    session: Session, overrides: dict[str, Any], fields: set[str]
) -> None:
    revision = current_revision(session)
    with pytest.raises(ClassificationRejected) as rejected:
        classify(session, **overrides)
    assert set(rejected.value.errors) == fields
    assert all(rejected.value.errors.values())
    record = read_services(session, ["befriend"])["befriend"]
    assert (record["service_type"], record["classified_by"]) == ("unclassified", None)
    assert current_revision(session) == revision
    assert not session.scalars(
        select(ServiceChange).where(ServiceChange.changed_by == "user:7:sam@nhs.net")
    ).all()


@pytest.mark.usefixtures("directory")
def test_a_mapping_s_classification_can_be_corrected_by_a_person(session: Session) -> None:
    record = classify(session, "mapped", needs=["loneliness", "fall_no_injury"])
    assert record["classified_by"] == "person:sam@nhs.net"
    change = session.scalars(
        select(ServiceChange).where(
            ServiceChange.service_id == "mapped", ServiceChange.field == "classified_by"
        )
    ).one()
    assert (change.old_value, change.new_value) == ("mapping:esd-services", "person:sam@nhs.net")


@pytest.mark.usefixtures("directory")
def test_a_hand_kept_service_is_changed_in_its_file_not_here(session: Session) -> None:
    assert not classifiable(read_services(session, ["ucr-one"])["ucr-one"])
    with pytest.raises(Problem) as refused:
        classify(session, "ucr-one")
    assert refused.value.status == 409
    assert read_services(session, ["ucr-one"])["ucr-one"]["classified_by"] is None


def test_a_trusted_feed_s_type_is_changed_at_its_source_and_the_refusal_says_so(
    session: Session,
) -> None:
    """A feed loaded with --trust-classification keeps its own type with `classified_by`
    None, as a hand-kept file does; the 409 must be true for both (review of issue 15,
    finding 1: "change it in its directory file" when there was no file), while a service a
    mapping classified from the same feed's terms stays correctable."""
    load_directory(
        services=[
            service(id="trusted", source_terms=[ESD_TERM]),  # classified_by None, real type
            service(id="mapped", classified_by="mapping:esd-services", source_terms=[ESD_TERM]),
        ],
        organisations=[organisation()],
    )
    assert not classifiable(read_services(session, ["trusted"])["trusted"])
    with pytest.raises(Problem) as refused:
        classify(session, "trusted")
    assert refused.value.status == 409
    assert refused.value.detail == FROM_ITS_SOURCE
    assert "directory file" in FROM_ITS_SOURCE and "--trust-classification" in FROM_ITS_SOURCE
    assert classify(session, "mapped")["classified_by"] == "person:sam@nhs.net"


def test_unknown_codes_names_each_parameter_and_skips_blank_choices(session: Session) -> None:
    """The console shows unknown codes with its own errors in one round (review of issue 15,
    finding 15), in the words of a directory load."""
    vocab = VOCABULARY.get()
    vocabulary_has("needs", "loneliness")
    vocabulary_has("caller_roles", "public")
    assert (
        unknown_codes(
            vocab,
            service_type="befriending",
            sector="voluntary",
            needs=["loneliness"],
            caller_roles=["public"],
        )
        == {}
    )
    found = unknown_codes(
        vocab, service_type="warp_drive", sector=None, needs=["x-need"], caller_roles=["martian"]
    )
    assert found == {
        "service_type": ["'warp_drive' is not a known service type"],
        "needs": ["'x-need' is not a known need"],
        "caller_roles": ["'martian' is not a known caller role"],
    }
    blank = unknown_codes(vocab, service_type="", sector="", needs=[], caller_roles=[])
    assert blank == {}


def test_an_unknown_service_is_404(session: Session) -> None:
    with pytest.raises(Problem) as missing:
        classify(session, "nope")
    assert missing.value.status == 404


@pytest.mark.usefixtures("directory")
def test_a_long_username_still_fits_the_column(session: Session) -> None:
    name = "a" * 240 + "@nhs.net"
    record = classify(session, username=name)
    assert record["classified_by"] == f"person:{name}"[:200]


@pytest.mark.usefixtures("directory")
def test_the_queue_lists_unclassified_services_with_the_feed_s_terms(session: Session) -> None:
    items = unclassified_services(session)
    assert [(i.id, i.organisation, i.source_terms) for i in items] == [
        ("befriend", "Organisation test-trust", [ESD_TERM])
    ]
    assert unclassified_count(session) == 1
    classify(session)
    assert unclassified_services(session) == []


@pytest.mark.usefixtures("directory")
def test_the_api_finds_unclassified_services_and_shows_who_classified(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    """`GET /api/v1/services` searches unclassified services like any other (issue 15 §2:
    "searchable by the directory API"), with `unclassified` as their type and as a filter;
    the detail adds `classified_by` and the feed's `source_terms` beside `assured_by`."""
    headers = auth["integrator"]
    found = client.get("/api/v1/services?service_type=unclassified", headers=headers)
    assert found.status_code == 200, found.json
    assert [(i["id"], i["service_type"]) for i in found.json["items"]] == [
        ("befriend", "unclassified")
    ]
    by_text = client.get("/api/v1/services?q=befriend", headers=headers).json["items"]
    assert "befriend" in {item["id"] for item in by_text}
    detail = client.get("/api/v1/services/befriend", headers=headers).json
    assert (detail["classified_by"], detail["source_terms"]) == (None, [ESD_TERM])
    mapped = client.get("/api/v1/services/mapped", headers=headers).json
    assert mapped["classified_by"] == "mapping:esd-services"
