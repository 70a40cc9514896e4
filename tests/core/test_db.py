"""The unit of work: `transaction` commits or rolls back, and `retry_on_conflict` runs a unit
of work (which only flushes) in one, rerunning it when a concurrent writer won a unique
constraint. The services rely on both instead of committing themselves (issue 14)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from navigator.auth.models import User
from navigator.core.db import CONFLICT_ATTEMPTS, retry_on_conflict, transaction
from navigator.core.extensions import db


def committed_users(email: str) -> int:
    """Users with this email as another connection sees them: only what was committed."""
    with db.engine.connect() as connection:
        query = select(func.count()).select_from(User).where(User.email == email)
        return int(connection.scalar(query) or 0)


def add_user(session: Session, email: str) -> User:
    user = User(email=email, password_hash="not-a-hash", role="navigator")
    session.add(user)
    session.flush()
    return user


def test_a_failed_statement_never_carries_its_values(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Review of issue 16 (attack): a DataError logged the BaRS message's safety-netting text
    with the statement's parameters. The engine hides bound values (`hide_parameters`), so
    neither the exception nor any log line carries patient data."""
    add_user(session, "taken@test")
    session.commit()
    secret = "Julie Jones 9434765919"

    def duplicate() -> None:
        with transaction(session):
            session.add(User(email="taken@test", password_hash=secret, role="navigator"))
            session.flush()

    with pytest.raises(IntegrityError) as failed:
        duplicate()
    assert secret not in str(failed.value)
    assert secret not in caplog.text


def test_a_transaction_commits_on_success_and_rolls_back_on_error(session: Session) -> None:
    with transaction(session):
        add_user(session, "kept@test")
    assert not session.in_transaction() and committed_users("kept@test") == 1

    def refused() -> None:
        with transaction(session):
            add_user(session, "dropped@test")
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused()
    assert committed_users("dropped@test") == 0
    assert session.scalar(select(User).where(User.email == "dropped@test")) is None


def test_retry_on_conflict_commits_the_unit_of_work_and_returns_its_result(
    session: Session,
) -> None:
    user_id = retry_on_conflict(session, lambda: add_user(session, "once@test").id)
    assert not session.in_transaction()
    assert committed_users("once@test") == 1
    assert session.get(User, user_id) is not None


def test_a_lost_unique_race_is_rolled_back_and_run_again(session: Session) -> None:
    """The first run collides with a row another request committed first (the same email
    here, an idempotency key or event_id in the services); the rerun finds that row."""
    with transaction(session):
        add_user(session, "winner@test")
    runs: list[int] = []

    def unit() -> int:
        runs.append(1)
        if len(runs) == 1:  # as if the winner's row were not yet visible when we looked
            add_user(session, "winner@test")
        found = session.scalar(select(User).where(User.email == "winner@test"))
        assert found is not None
        return found.id

    retry_on_conflict(session, unit)
    assert len(runs) == 2 and committed_users("winner@test") == 1


def test_any_other_error_rolls_back_at_once_without_a_rerun(session: Session) -> None:
    runs: list[int] = []

    def unit() -> None:
        runs.append(1)
        add_user(session, "refused@test")
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        retry_on_conflict(session, unit)
    assert len(runs) == 1 and committed_users("refused@test") == 0


def test_a_conflict_that_never_clears_is_raised_after_the_last_attempt(
    session: Session,
) -> None:
    with transaction(session):
        add_user(session, "taken@test")
    runs: list[int] = []

    def unit() -> None:
        runs.append(1)
        add_user(session, "taken@test")

    with pytest.raises(IntegrityError):
        retry_on_conflict(session, unit)
    assert len(runs) == CONFLICT_ATTEMPTS and committed_users("taken@test") == 1
