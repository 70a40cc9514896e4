"""Editing one service: validated like a load, recorded in the history, indexed at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.reference import VOCABULARY
from navigator.directory.editing import EditRejected, confirm_details, edit_service
from navigator.directory.models import ServiceChange
from navigator.directory.reference import directory_index
from tests.builders import load_directory, organisation, service


@pytest.fixture
def one_service(session: Session) -> None:
    load_directory(services=[service(id="ucr-one")], organisations=[organisation()])


@pytest.mark.usefixtures("one_service")
def test_invalid_changes_name_the_field_and_write_nothing(session: Session) -> None:
    with pytest.raises(EditRejected) as rejected:
        edit_service(
            session,
            "ucr-one",
            {"contact.public_phone": "12", "status": "gone"},
            vocab=VOCABULARY.get(),
            changed_by="tests",
        )
    assert set(rejected.value.errors) == {"contact.public_phone", "status"}
    session.rollback()
    assert (
        session.scalars(select(ServiceChange).where(ServiceChange.changed_by == "admin")).all()
        == []
    )


@pytest.mark.usefixtures("one_service")
def test_a_change_is_recorded_and_reaches_the_index(session: Session) -> None:
    with transaction(session):
        edit_service(
            session,
            "ucr-one",
            {"status": "temporarily_closed"},
            vocab=VOCABULARY.get(),
            changed_by="user:1:admin",
        )
    change = session.scalars(
        select(ServiceChange).where(ServiceChange.changed_by == "user:1:admin")
    ).one()
    assert (change.field, change.new_value) == ("status", "temporarily_closed")
    assert not directory_index().by_id["ucr-one"].active  # never recommended from now on


@pytest.mark.usefixtures("one_service")
def test_details_confirmed_sets_assured_at_now(session: Session) -> None:
    now = utcnow()
    with transaction(session):
        record = confirm_details(
            session, "ucr-one", vocab=VOCABULARY.get(), confirmed_by="user:2:sup", now=now
        )
    assert record["assured_by"] == "user:2:sup"
    assert record["assured_at"][:16] == now.isoformat()[:16]


def test_unknown_service_is_404(session: Session) -> None:
    with pytest.raises(Problem) as missing:
        edit_service(session, "nope", {}, vocab=VOCABULARY.get(), changed_by="tests")
    assert missing.value.status == 404
