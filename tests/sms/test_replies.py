"""Structured care-home replies (issue 17 §5), through the signed Twilio webhook and the
services behind it: a NEWS2 score is stored as an observation (SNOMED CT 1104051000000101,
linked to the reply, the follow-up, the call and the resident); NEWS2 5 or more, or a RESTORE2
soft sign, opens an urgent call-back task and queues one automatic reply through the outbox,
with 999 advice at 7 or more; a retried webhook (Twilio resends the same MessageSid) changes
nothing. The thresholds are NEWS2's (Royal College of Physicians, 2017)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Table, select, update

from navigator.core.db import utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import db
from navigator.navigation.models import Navigation
from navigator.patients.models import Patient
from navigator.sms.grammar import parse_reply
from navigator.sms.models import (
    SENT,
    CallbackTask,
    CareHomeObservation,
    SmsMessage,
    SmsReply,
)
from navigator.sms.replies import (
    AUTO_REPLY_EMERGENCY,
    AUTO_REPLY_URGENT,
    NAVIGATIONS,
    NO_REPLY_OPTED_OUT,
    NO_REPLY_RECENT,
)
from navigator.sms.worklist import (
    complete_callback_task,
    completed_callback_tasks,
    link_reply_to_call,
    open_callback_tasks,
    open_task_counts,
)
from tests.sms.conftest import HOME_NUMBER, care_home_call, load_care_home_directory
from tests.sms.test_webhooks import TOKEN, post_signed

INBOUND = "/webhooks/twilio/inbound"
WEEK = timedelta(days=7)


@pytest.fixture
def followed_up(app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A care-home resident's call whose first follow-up was sent an hour ago; the resident
    is a recorded patient. Returns the ids."""
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    with app.app_context():
        load_care_home_directory()
    response = client.post("/api/v1/navigations", json=care_home_call(), headers=auth["integrator"])
    assert response.status_code == 201, response.json
    navigation_id = response.json["id"]
    first = response.json["follow_ups"][0]["id"]
    with app.app_context():
        patient_id = str(uuid.uuid4())
        patient = Patient(id=patient_id, name="Resident Example", sex="female")
        db.session.add(patient)
        db.session.flush()
        db.session.execute(
            update(Navigation).where(Navigation.id == navigation_id).values(patient_id=patient_id)
        )
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == first)
            .values(status=SENT, sent_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        db.session.remove()
    return {"navigation_id": navigation_id, "message_id": first, "patient_id": patient_id}


def text_in(app: Flask, client: FlaskClient, body: str, *, sid: str | None = None, sender: str = HOME_NUMBER) -> str:  # fmt: skip
    sid = sid or "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "From": sender, "Body": body}
    assert post_signed(client, app, INBOUND, params).status_code == 200
    return sid


def rows(app: Flask, model: type) -> list[Any]:
    with app.app_context():
        found = list(db.session.scalars(select(model)))
        db.session.expunge_all()
        db.session.remove()
    return found


def auto_replies(app: Flask) -> list[SmsMessage]:
    return [m for m in rows(app, SmsMessage) if m.reply_id is not None]


def test_a_news2_score_is_stored_as_an_observation_of_the_resident(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    text_in(app, client, "NEWS2 3")
    (reply,) = rows(app, SmsReply)
    (observation,) = rows(app, CareHomeObservation)
    assert (observation.code_system, observation.code) == (
        "http://snomed.info/sct",
        "1104051000000101",
    )
    assert observation.value == 3 and observation.reply_id == reply.id
    assert observation.message_id == followed_up["message_id"]
    assert observation.navigation_id == followed_up["navigation_id"]
    assert observation.patient_id == followed_up["patient_id"]
    assert observation.service_id == "test-care-home"
    assert observation.effective_at == reply.received_at
    # Below 5: a person still sees it, but it is not urgent and nothing is texted back.
    (task,) = rows(app, CallbackTask)
    assert (task.reason, task.urgent) == ("news2", False)
    assert auto_replies(app) == []


def test_news2_of_5_opens_an_urgent_task_and_one_auto_reply_even_when_twilio_retries(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    sid = text_in(app, client, "N5")
    text_in(app, client, "N5", sid=sid)  # Twilio's retry: the same MessageSid
    text_in(app, client, "N5", sid=sid)
    assert len(rows(app, SmsReply)) == 1 and len(rows(app, CareHomeObservation)) == 1
    (task,) = rows(app, CallbackTask)
    assert (task.reason, task.urgent, task.navigation_id) == (
        "news2",
        True,
        followed_up["navigation_id"],
    )
    (message,) = auto_replies(app)
    assert message.body == AUTO_REPLY_URGENT.format(ref=f"R{rows(app, SmsReply)[0].id}")
    assert "A care navigator will call you" in message.body and "999" in message.body
    assert message.to_number == HOME_NUMBER and message.status == "scheduled"
    assert message.navigation_id == followed_up["navigation_id"]
    assert message.next_attempt_at <= utcnow()  # due now, whatever the quiet hours


def test_news2_of_7_or_more_auto_replies_with_999_advice(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    text_in(app, client, "news2=8")
    (message,) = auto_replies(app)
    (reply,) = rows(app, SmsReply)
    assert message.body == AUTO_REPLY_EMERGENCY.format(ref=f"R{reply.id}")
    assert "Call 999 now" in message.body


def test_a_soft_sign_opens_an_urgent_task_and_auto_replies_without_an_observation(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    text_in(app, client, "Not eating and more sleepy")
    (reply,) = rows(app, SmsReply)
    assert reply.kind == "soft_signs" and reply.soft_signs == ["not_eating", "more_sleepy"]
    (task,) = rows(app, CallbackTask)
    assert (task.reason, task.urgent) == ("soft_signs", True)
    assert [m.body for m in auto_replies(app)] == [AUTO_REPLY_URGENT.format(ref=f"R{reply.id}")]
    assert rows(app, CareHomeObservation) == []


def test_an_unreadable_score_is_free_text_with_a_note_and_an_urgent_task_but_no_auto_reply(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    text_in(app, client, "N25")
    (reply,) = rows(app, SmsReply)
    assert reply.kind == "free_text" and reply.note and "25 is not a NEWS2 score" in reply.note
    (task,) = rows(app, CallbackTask)
    assert (task.reason, task.urgent) == ("free_text", True)
    assert auto_replies(app) == [] and rows(app, CareHomeObservation) == []


def test_an_unmatched_urgent_reply_is_still_answered_and_linked_later(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    """No follow-up went to the home: the reply matches no call, but the home is known by
    its number, so the urgent task names it and the auto-reply goes (with no call)."""
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    with app.app_context():
        load_care_home_directory()
    navigation_id = client.post(
        "/api/v1/navigations", json=care_home_call(), headers=auth["integrator"]
    ).json["id"]
    text_in(app, client, "N6")
    (task,) = rows(app, CallbackTask)
    assert task.navigation_id is None and task.service_id == "test-care-home" and task.urgent
    (message,) = auto_replies(app)
    assert message.navigation_id is None and message.service_id == "test-care-home"
    with app.app_context():
        session = db.session()
        linked = link_reply_to_call(
            session,
            task.id,
            navigation_id=navigation_id,
            patient_id=None,
            by="user:1:a",
            now=utcnow(),
        )
        session.commit()
        assert linked["navigation_id"] == navigation_id and linked["news2"] == 6
        assert linked["reply"]["linked_by"] == "user:1:a"
        with pytest.raises(Problem) as again:
            link_reply_to_call(
                session, task.id, navigation_id=navigation_id, patient_id=None, by="x", now=utcnow()
            )
        assert again.value.status == 409
        session.rollback()
        db.session.remove()
    (observation,) = rows(app, CareHomeObservation)
    assert observation.navigation_id == navigation_id


def test_a_sender_that_is_no_uk_mobile_gets_no_auto_reply_but_a_task(
    app: Flask, client: FlaskClient
) -> None:
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    text_in(app, client, "N9", sender="CAREHOME")
    (task,) = rows(app, CallbackTask)
    assert task.urgent and task.service_id is None
    assert auto_replies(app) == []


def test_a_later_reply_attaches_to_the_follow_up_not_to_the_auto_reply(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    text_in(app, client, "N5")
    with app.app_context():
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.reply_id.is_not(None))
            .values(status=SENT, sent_at=utcnow())
        )
        db.session.commit()
        db.session.remove()
    text_in(app, client, "1")
    well = next(r for r in rows(app, SmsReply) if r.kind == "well")
    assert well.message_id == followed_up["message_id"]


def test_the_worklist_puts_urgent_tasks_first_and_counts_them(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    text_in(app, client, "2")
    text_in(app, client, "Resident is breathless")
    with app.app_context():
        session = db.session()
        tasks = open_callback_tasks(session)
        assert [(t["reason"], t["urgent"]) for t in tasks] == [
            ("soft_signs", True),
            ("call_back", False),
        ]
        assert open_task_counts(session) == (2, 1)
        complete_callback_task(
            session,
            tasks[0]["id"],
            by="user:1:a@nhs.net",
            outcome="Rang: GP visiting",
            now=utcnow(),
        )
        session.commit()
        assert open_task_counts(session) == (1, 0)
        (done,) = completed_callback_tasks(session)
        assert (done["completed_by"], done["outcome"]) == ("user:1:a@nhs.net", "Rang: GP visiting")
        db.session.remove()


def test_the_api_worklist_says_which_tasks_are_urgent_and_the_score(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any], auth: dict[str, dict[str, str]]
) -> None:
    text_in(app, client, "N7 new confusion")
    (item,) = client.get("/api/v1/worklist", headers=auth["navigator"]).json["items"]
    assert item["urgent"] is True and item["news2"] == 7
    assert item["reply"]["soft_signs"] == ["new_confusion"]


def test_the_navigations_columns_replies_read_by_name_exist() -> None:
    """sms reads a call's resident from the navigations table by name (it sits below
    navigation in the layers): a rename in `Navigation` must fail here."""
    table = Navigation.__table__
    assert isinstance(table, Table)
    assert {c.name for c in NAVIGATIONS.c} <= {c.name for c in table.c}
    assert table.c.patient_id.references(Patient.__table__.c.id)  # type: ignore[attr-defined]


# --- review findings on issue 17 (each failed before the fix) -------------------------------


def test_an_opted_out_home_gets_no_auto_reply_but_its_urgent_task_opens(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    """STOP must be honoured by automatic replies too (PECR / the carrier's opt-out)."""
    text_in(app, client, "STOP")
    text_in(app, client, "NEWS2 8")
    assert auto_replies(app) == []
    urgent = [t for t in rows(app, CallbackTask) if t.reason == "news2"]
    assert len(urgent) == 1 and urgent[0].urgent
    reply = next(r for r in rows(app, SmsReply) if r.kind == "news2")
    assert reply.note is not None and NO_REPLY_OPTED_OUT in reply.note


@pytest.mark.parametrize("body", ["Resident unresponsive", "collapsed", "chest pain"])
def test_an_emergency_word_opens_an_urgent_task_and_the_999_auto_reply(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any], body: str
) -> None:
    text_in(app, client, body)
    (task,) = rows(app, CallbackTask)
    assert task.urgent
    (message,) = auto_replies(app)
    assert "Call 999 now" in message.body


@pytest.mark.parametrize("template", [AUTO_REPLY_URGENT, AUTO_REPLY_EMERGENCY])
def test_the_auto_replies_never_read_as_a_score_or_sign(template: str) -> None:
    """A peer that echoes our text back must not start a loop of urgent tasks and replies."""
    for ref in ("R1", "R7", "R20", "R123456"):
        parsed = parse_reply(template.format(ref=ref))
        assert parsed.kind == "free_text" and not parsed.urgent and not parsed.unclear_score


def test_at_most_one_auto_reply_per_number_in_10_minutes_and_each_body_is_distinct(
    app: Flask, client: FlaskClient, followed_up: dict[str, Any]
) -> None:
    """Later urgent texts still open urgent tasks; the second reply's note says why no text
    went. After 10 minutes another may go, and its body differs (the outbox finds a retried
    message at the provider by number and exact body)."""
    text_in(app, client, "NEWS2 8")
    text_in(app, client, "NEWS2 9")
    assert len(auto_replies(app)) == 1
    tasks = rows(app, CallbackTask)
    assert len(tasks) == 2 and all(t.urgent for t in tasks)
    second = max(rows(app, SmsReply), key=lambda r: r.id)
    assert second.note is not None and NO_REPLY_RECENT in second.note
    with app.app_context():
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.reply_id.is_not(None))
            .values(created_at=utcnow() - timedelta(minutes=11))
        )
        db.session.commit()
        db.session.remove()
    text_in(app, client, "NEWS2 8")
    bodies = [m.body for m in auto_replies(app)]
    assert len(bodies) == 2 and len(set(bodies)) == 2


def test_an_unknown_sender_is_on_the_api_worklist_with_their_number(
    app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    text_in(app, client, "NEWS2 8 Mrs Smith room 4", sender="+447700900999")
    items = client.get("/api/v1/worklist", headers=auth["navigator"]).json["items"]
    (item,) = items
    assert item["care_home"] is None and item["reply"]["from_number"] == "+447700900999"
    assert item["urgent"] and item["emergency"] and item["news2"] == 8
