"""An unclassified service is never recommended (issue 15 §2, hazard H30), however well it
fits the call, and becomes recommendable as soon as a person classifies it: the
classification bumps the directory's revision, so routing's index sees it at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.classify import classify_service
from tests.builders import ALL_ROLES, load_directory, navigate_fall, organisation, service

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
