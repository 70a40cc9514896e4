"""The one idempotency helper (referrals' Idempotency-Key, transitions' event_id): the same
key and body is a replay of the stored record; the same key with another body is a 409 with
the domain's own message and code; the fingerprint is stable, since it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from navigator.core.errors import Problem
from navigator.core.idempotency import KeyReused, replay_or_conflict, request_hash
from navigator.referrals.service import KEY_REUSED
from navigator.transitions.service import EVENT_ID_REUSED

REUSED = KeyReused("This key was already used for a different request.", "key_reused")


@dataclass
class Stored:
    request_hash: str


def test_the_fingerprint_ignores_key_order_and_tells_bodies_apart() -> None:
    body = {"service_id": "ucr", "urgency": "urgent", "patient": {"name": "A", "sex": "female"}}
    reordered = {
        "patient": {"sex": "female", "name": "A"},
        "urgency": "urgent",
        "service_id": "ucr",
    }
    assert request_hash(body) == request_hash(reordered)
    assert request_hash(body) != request_hash(body | {"urgency": "routine"})


def test_the_fingerprint_is_the_stored_one_and_reads_dates_as_text() -> None:
    """Records made by earlier releases keep their hash: the recipe must not change."""
    assert request_hash({}) == (
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # sha256("{}")
    )
    when = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    assert request_hash({"at": when, "on": date(2026, 1, 6)}) == request_hash(
        {"at": "2026-01-06 10:00:00+00:00", "on": "2026-01-06"}
    )


def test_the_same_body_is_a_replay_of_the_stored_record() -> None:
    stored = Stored(request_hash({"a": 1}))
    assert replay_or_conflict(stored, request_hash({"a": 1}), REUSED) is stored


def test_another_body_under_the_same_key_is_409_with_the_domains_message_and_code() -> None:
    stored = Stored(request_hash({"a": 1}))
    with pytest.raises(Problem) as refused:
        replay_or_conflict(stored, request_hash({"a": 2}), REUSED)
    assert refused.value.status == 409
    assert refused.value.detail == REUSED.detail
    assert refused.value.code == "key_reused"


def test_referrals_and_transitions_keep_their_public_messages_and_codes() -> None:
    """Clients match on these: they are part of the API (issue 14 changes no public name)."""
    assert (
        KeyReused(
            "This Idempotency-Key was already used for a different request.",
            "idempotency_key_reused",
        )
        == KEY_REUSED
    )
    assert (
        KeyReused("This event_id was already recorded with different details.", "event_id_reused")
        == EVENT_ID_REUSED
    )
