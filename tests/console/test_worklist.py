"""Replies from care homes reach navigators: the worklist page, the call's timeline, and the
care home's texts switched off from the console."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.core.extensions import db
from navigator.directory.models import Service
from navigator.patients.models import AuditEvent
from navigator.sms.models import SmsMessage
from tests.builders import console_user
from tests.console.conftest import post_form
from tests.sms.conftest import HOME_NUMBER, Live, load_care_home_directory, wait_for

CALL = {
    "caller_role": "care_home",
    "need": "fall_no_injury",
    "age": "88",
    "postcode": "MK42 9DJ",
    "care_home_service_id": "test-care-home",
    "name": "Resident Example",
}


def test_a_2_reply_reaches_the_worklist_and_the_call_timeline(live: Live) -> None:
    """The whole loop: a console call, the follow-up sent through the real twilio client to
    the fake Twilio, the care home's signed "2" reply, then the navigator's worklist."""
    with live.app.app_context():
        load_care_home_directory()
        email, password = console_user(role="navigator")
        db.session.remove()
    client = live.app.test_client()
    post_form(client, "/login", {"email": email, "password": password})
    created = post_form(client, "/calls/new", CALL)
    assert created.status_code == 302
    call_path = created.location
    live.make_due()
    live.dispatch()
    wait_for(lambda: set(live.statuses()) == {"delivered"})
    assert live.fake.reply(HOME_NUMBER, "2") == 200
    worklist = client.get("/worklist").text
    assert "Asked for a call back" in worklist and "Resident Example" in worklist
    assert "matched no call" not in worklist
    with live.app.app_context():
        shown = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "sms_reply")).all()
        assert shown and shown[0].patient_id is not None  # the reply's resident, audited
        db.session.remove()
    timeline = client.get(call_path).text
    assert "Follow-up text delivered" in timeline and "Call-back task opened" in timeline
    # The texts' story in words (issue 17 §1): no ISO time, the task's reason by its label.
    assert "Follow-up text due " in timeline and "Attempt 1" in timeline
    assert "Asked for a call back" in timeline.split('id="timeline"')[1]
    task_id = worklist.split('id="task-')[1].split('"')[0]
    missing = post_form(client, f"/worklist/{task_id}", {"outcome": ""}, page="/worklist")
    assert missing.status_code == 422
    # The API's limit holds in the console too (fresh-eyes review: 6,000 characters were kept).
    too_long = post_form(client, f"/worklist/{task_id}", {"outcome": "x" * 2001}, page="/worklist")
    assert too_long.status_code == 422 and "2000 characters or fewer" in too_long.text
    done = post_form(
        client,
        f"/worklist/{task_id}",
        {"outcome": "Spoke to the nurse: resident settled."},
        page="/worklist",
    )
    assert done.status_code == 302
    assert "Nothing to call back" in client.get("/worklist").text
    assert "Call-back task completed" in client.get(call_path).text


def test_texts_switched_off_from_the_console_cancel_what_is_scheduled(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    with app.app_context():
        load_care_home_directory()
    client = sign_in("navigator")
    post_form(client, "/calls/new", CALL)
    page = "/directory/test-care-home"
    assert "follow-up texts are on" in client.get(page).text
    post_form(client, f"{page}/texts", {"texts": "off"}, page=page)
    with app.app_context():
        home = db.session.get(Service, "test-care-home")
        assert home is not None and home.sms_opted_out_at is not None
        statuses = {m.status for m in db.session.scalars(select(SmsMessage))}
        assert statuses == {"cancelled"}
    assert "switched off since" in client.get(page).text


def test_a_sender_not_in_the_directory_is_shown_with_their_number(
    app: Flask, client: FlaskClient, sign_in: Callable[[str], FlaskClient]
) -> None:
    """The automatic reply tells an unknown sender "A care navigator will call you": the
    worklist must show the number to ring (review finding on issue 17). An emergency word
    makes the card an emergency one."""
    import uuid

    from tests.sms.test_webhooks import TOKEN, post_signed

    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": "+447700900999", "Body": "collapsed"}
    assert post_signed(client, app, "/webhooks/twilio/inbound", params).status_code == 200
    page = sign_in("navigator").get("/worklist").text
    assert "Sender not in the directory" in page and "07700 900999" in page
    assert "Collapsed" in page and "--emergency" in page
    # An emergency says who calls 999 (second-look review: the same words as "not eating").
    assert "If they have not called 999, tell them to call 999 now." in page
