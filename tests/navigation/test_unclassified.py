"""An unclassified service is never recommended (issue 15 §2, hazard H30), however well it
fits the call, and becomes recommendable as soon as a person classifies it: the
classification bumps the directory's revision, so routing's index sees it at once."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator.core.db import transaction, utcnow
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.classify import classify_service
from navigator.directory.loader import load_documents
from navigator.directory.reference import directory_index, stale_hours
from navigator.navigation.service import navigate
from navigator.rules.reference import RULESET
from tests.builders import (
    ALL_ROLES,
    console_user,
    load_directory,
    navigate_fall,
    organisation,
    service,
)
from tests.console.conftest import post_form

FEED_TERM = {"taxonomy": "esdServiceTypes", "code": "http://id.esd.org.uk/service/1", "name": "X"}


def offered(result: dict[str, Any]) -> set[str]:
    """Every service id the navigation names: the recommendation, alternatives and gaps."""
    ids = {result["recommendation"]["service"]["id"]}
    ids |= {item["service"]["id"] for item in result["alternatives"]}
    ids |= {gap["service_id"] for gap in result["gaps"]}
    return ids


def test_an_unclassified_service_is_never_recommended_until_a_person_classifies_it(
    session: Session,
) -> None:
    # Everything a fall without injury at 80 in MK42 9DJ asks for (see navigate_fall): every
    # caller, all ages, Bedford, open all hours, the need listed; only the type is missing.
    load_directory(
        organisations=[organisation()],
        services=[
            service(
                id="feed-falls-team",
                service_type="unclassified",
                sector="voluntary",
                source_terms=[FEED_TERM],
            )
        ],
    )
    with transaction(session):
        before = navigate_fall(session, created_by="tests")
    assert "feed-falls-team" not in offered(before)
    assert before["recommendation"]["service"]["id"] != "feed-falls-team"

    with transaction(session):
        classify_service(
            session,
            "feed-falls-team",
            service_type="urgent_community_response",
            sector="community",
            needs=["fall_no_injury"],
            caller_roles=ALL_ROLES,
            min_age_days=0,
            max_age_days=None,
            sex="any",
            vocab=VOCABULARY.get(),
            username="sam@nhs.net",
            changed_by="user:7:sam@nhs.net",
        )
        after = navigate_fall(session, created_by="tests")
    assert after["recommendation"]["service"]["id"] == "feed-falls-team"


def test_a_service_the_esd_mapping_classifies_is_routed_to(session: Session) -> None:
    """Issue 15 "Done when": a mapped service routes. A council feed's HSDS 3.0 service tagged
    with the LGA ESD term 298 "Carers support groups" (as a term URI, the form the HSDS-UK
    README uses) is classified by `directory_of_services/taxonomy_mappings/esd.yaml` as
    `carers_support` meeting `carer_support`, and the shipped rule `carer-support` recommends
    it for a carer's call in its area. The same service with a term no mapping knows is not."""

    def feed(term_uri: str) -> list[dict[str, Any]]:
        return [
            {
                "id": "0b6f6a8e-2f57-4c8e-9a51-3f1d3c1a2b01",
                "name": "Bedford Carers Café",
                "status": "active",
                "organization": {
                    "id": "5f0c3b9e-8a8d-4f7e-b2a4-0c7f1e2d3a45",
                    "name": "Carers in Bedfordshire",
                    "description": "A carers' charity",
                },
                "service_areas": [{"id": "a1", "name": "Bedford"}],
                "schedules": [
                    {
                        "freq": "WEEKLY",
                        "byday": "MO,TU,WE,TH,FR,SA,SU",
                        "opens_at": "00:00",
                        "closes_at": "23:59",
                    }
                ],
                "attributes": [
                    {
                        "taxonomy_term": {
                            "id": "t1",
                            "name": "Carers",
                            "taxonomy": "esdServiceTypes",
                            "term_uri": term_uri,
                        }
                    }
                ],
            }
        ]

    def carer_call() -> dict[str, Any]:
        located = GAZETTEER.get().locate(parse_postcode("MK42 9DJ", allow_outward=False))
        with transaction(session):
            return navigate(
                session,
                {
                    "caller_role": "relative",
                    "need": "carer_support",
                    "age": 70,
                    "postcode": located,
                    "at": utcnow(),
                },
                created_by="tests",
                index=directory_index(),
                ruleset=RULESET.get(),
                vocab=VOCABULARY.get(),
                now=utcnow(),
                stale_hours=stale_hours(),
            )

    service_id = "0b6f6a8e-2f57-4c8e-9a51-3f1d3c1a2b01"
    with transaction(session):
        report = load_documents(
            session,
            [("feed.json", feed("http://id.esd.org.uk/service/9999999"))],
            vocab=VOCABULARY.get(),
            changed_by="tests",
        )
    assert service_id in report.as_json()["unclassified"]
    assert service_id not in offered(carer_call())

    with transaction(session):
        load_documents(
            session,
            [("feed.json", feed("http://id.esd.org.uk/service/298"))],
            vocab=VOCABULARY.get(),
            changed_by="tests",
        )
    result = carer_call()
    assert result["recommendation"]["service"]["id"] == service_id


def _ticked(page: str, name: str) -> list[str]:
    """The values of the checkboxes called `name` that a page renders ticked."""
    ticked = []
    for box in re.findall(rf'<input[^>]*\bname="{name}"[^>]*>', page):
        value = re.search(r'value="([^"]*)"', box)
        if value and " checked" in box:
            ticked.append(value[1])
    return ticked


def test_the_classify_form_ticks_no_caller_for_an_unclassified_service(
    session: Session, client: FlaskClient
) -> None:
    """Review of issue 15, H2: an unclassified service holds every caller role only as a
    placeholder (it is never routed to), so the classify form used to offer a hurried
    supervisor every role ticked, public included. It ticks none: the person classifying
    chooses. A mapped service's form shows the roles its mapping gave it."""
    load_directory(
        organisations=[organisation()],
        services=[
            service(
                id="feed-unclassified",
                service_type="unclassified",
                sector="voluntary",
                source_terms=[FEED_TERM],
            ),
            service(
                id="feed-mapped",
                service_type="carers_support",
                classified_by="mapping:esd",
                eligibility={"caller_roles": ["professional", "relative"]},
                source_terms=[FEED_TERM],
            ),
        ],
    )
    email, password = console_user(role="supervisor")
    assert post_form(client, "/login", {"email": email, "password": password}).status_code == 302
    page = client.get("/directory/feed-unclassified/classify")
    assert page.status_code == 200
    assert len(re.findall(r'name="caller_roles"', page.text)) == len(ALL_ROLES)
    assert _ticked(page.text, "caller_roles") == []
    mapped = client.get("/directory/feed-mapped/classify").text
    assert sorted(_ticked(mapped, "caller_roles")) == ["professional", "relative"]
