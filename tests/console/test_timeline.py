"""A call's timeline in words (`console/timeline.py`, issue 17 §1): the follow-up texts'
events from `sms.history.navigation_timeline` worded with times on the London clock, task
reasons by label and people by name, and an automatic reply to a care home named as one."""

from __future__ import annotations

from datetime import UTC, datetime

from navigator.console.timeline import _sms_detail

DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_scheduled_follow_up_reads_in_words_on_the_london_clock() -> None:
    item = {
        "event": "text_scheduled",
        "follow_up": "ucr-4h",
        "due_at": DUE,
        "to": "+447700900123",
    }
    assert _sms_detail(item) == "Follow-up text due Tuesday 1 December, 9am to +447700900123"


def test_an_automatic_reply_is_named_as_one_not_by_its_internal_id() -> None:
    item = {
        "event": "text_scheduled",
        "follow_up": "reply-42",
        "due_at": DUE,
        "to": "+447700900123",
    }
    assert _sms_detail(item).startswith("Automatic reply due Tuesday 1 December, 9am")


def test_a_completed_task_names_the_person_not_their_actor_id() -> None:
    item = {"event": "callback_completed", "actor": "user:7:amy@nhs.net", "outcome": "Rang back"}
    assert _sms_detail(item) == "amy@nhs.net: Rang back"
