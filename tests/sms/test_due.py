"""When texts are due (`navigator.sms.due`): quiet hours on the Europe/London clock (both
clock changes), and which navigations get follow-ups, written in the navigation's own
transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.reference import VOCABULARY
from navigator.directory.reference import directory_index, stale_hours
from navigator.navigation.schemas import NavigationRequestSchema
from navigator.navigation.service import navigate
from navigator.rules.reference import RULESET
from navigator.sms.due import in_quiet_hours, out_of_quiet_hours
from navigator.sms.models import SmsMessage
from navigator.sms.plan import QuietHours
from navigator.sms.reference import FOLLOW_UP_PLAN
from tests.sms.conftest import care_home_call, load_care_home_directory

QUIET = QuietHours(21 * 60, 8 * 60)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 1, 15, 12, 0), utc(2026, 1, 15, 12, 0)),  # daytime: unchanged
        (utc(2026, 1, 15, 20, 59), utc(2026, 1, 15, 20, 59)),  # 20:59 GMT
        (utc(2026, 1, 15, 21, 0), utc(2026, 1, 16, 8, 0)),  # 21:00 GMT -> 08:00 GMT next day
        (utc(2026, 1, 16, 3, 0), utc(2026, 1, 16, 8, 0)),  # early morning -> same day
        (utc(2026, 7, 1, 20, 30), utc(2026, 7, 2, 7, 0)),  # 21:30 BST -> 08:00 BST = 07:00 UTC
        (utc(2026, 7, 1, 6, 59), utc(2026, 7, 1, 7, 0)),  # 07:59 BST -> 08:00 BST
        (utc(2026, 7, 1, 7, 0), utc(2026, 7, 1, 7, 0)),  # 08:00 BST: allowed
        # Clocks go forward on Sunday 29 March 2026: 22:00 GMT Saturday -> 08:00 BST Sunday.
        (utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 7, 0)),
        # Clocks go back on Sunday 25 October 2026: 23:00 BST Saturday -> 08:00 GMT Sunday.
        (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 8, 0)),
    ],
)
def test_due_times_in_quiet_hours_move_to_8am_london(at: datetime, expected: datetime) -> None:
    assert out_of_quiet_hours(at, QUIET) == expected
    assert not in_quiet_hours(expected, QUIET)


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    assert not in_quiet_hours(utc(2026, 1, 1, 23, 0), QuietHours(0, 0))


def record(session: Session, **extra: object) -> dict[str, object]:
    call = {k: v for k, v in care_home_call(**extra).items() if v is not None}
    with transaction(session):
        return navigate(
            session,
            NavigationRequestSchema().load(call),
            created_by="test",
            index=directory_index(),
            ruleset=RULESET.get(),
            vocab=VOCABULARY.get(),
            now=utc(2026, 1, 15, 12, 0),
            stale_hours=stale_hours(),
            follow_ups=FOLLOW_UP_PLAN.get(),
        )


def test_a_care_home_residents_ucr_gets_4h_and_24h_follow_ups(
    app_ctx: Flask, session: Session
) -> None:
    load_care_home_directory()
    follow_ups = record(session)["follow_ups"]
    assert isinstance(follow_ups, list)
    assert [f["due_at"] for f in follow_ups] == [
        "2026-01-15T16:00:00+00:00",
        "2026-01-16T12:00:00+00:00",
    ]
    bodies = session.scalars(select(SmsMessage.body)).all()
    assert all("CASE-1" in b and "88" not in b for b in bodies)


@pytest.mark.parametrize(
    ("home", "call"),
    [
        ({"sms": None}, {}),  # no number
        ({"sms": {"number": "07700 900101", "consent": False}}, {}),  # no consent
        ({}, {"care_home_service_id": None, "lives_in_care_home": False}),  # not a resident
    ],
)
def test_no_follow_ups_without_a_number_consent_or_a_care_home(
    app_ctx: Flask, session: Session, home: dict[str, object], call: dict[str, object]
) -> None:
    load_care_home_directory(**home)
    assert record(session, **call)["follow_ups"] == []
    assert session.scalar(select(func.count()).select_from(SmsMessage)) == 0
