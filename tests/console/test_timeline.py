"""A call's timeline in words (`console/timeline.py`, issue 17 §1): the follow-up texts'
events from `sms.history.navigation_timeline` worded with times on the London clock, task
reasons by label and people by name, and an automatic reply to a care home named as one."""

from __future__ import annotations

from datetime import UTC, datetime

from navigator.console.formatting import LABELS
from navigator.console.timeline import SMS_TITLES, _sms_detail
from navigator.console.worklist import REASONS
from navigator.sms.grammar import parse_reply
from navigator.sms.models import FINAL_STATUSES, REPLY_KINDS, TASK_REASONS

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


def test_every_follow_up_event_has_a_title_in_words() -> None:
    """Each reply kind the SMS code knows (`sms.models.REPLY_KINDS`, checked against the
    grammar's own kinds) and each final message status has a timeline title, so none is
    shown as its code ("Reply news2")."""
    kinds = set(REPLY_KINDS) | {parse_reply(text).kind for text in SAMPLE_REPLIES}
    missing = [kind for kind in sorted(kinds) if f"reply_{kind}" not in SMS_TITLES]
    assert not missing, missing
    assert all(f"text_{status}" in SMS_TITLES for status in FINAL_STATUSES)


# One reply of each kind the grammar reads (navigator/sms/grammar.py's module docstring).
SAMPLE_REPLIES = (
    "1",
    "2",
    "STOP",
    "START",
    "NEWS2 5",
    "NEWS2 9",
    "more sleepy",
    "chest pain",
    "hi",
)


def test_the_worklist_and_the_timeline_say_a_tasks_reason_in_the_same_words() -> None:
    """One table of task reasons (`formatting.LABELS["task_reasons"]`), with every reason
    the SMS code opens a task for."""
    assert REASONS is LABELS["task_reasons"]
    assert set(TASK_REASONS) <= set(LABELS["task_reasons"])
    for reason in TASK_REASONS:
        item = {"event": "callback_opened", "reason": reason}
        assert _sms_detail(item) == LABELS["task_reasons"][reason]
    assert _sms_detail({"event": "callback_opened", "reason": "news2"}) == "Sent a NEWS2 score"
