"""The whole loop with the real `twilio` client: navigation → outbox → fake Twilio → signed
receipts and replies back to the app served on a real port."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from navigator.core.clock import to_local, to_utc
from navigator.core.db import utcnow
from navigator.core.settings import DEV_TWILIO_AUTH_TOKEN
from navigator.sms.models import CallbackTask, SmsMessage, SmsReply
from navigator.sms.plan import QuietHours
from tests.sms.conftest import (
    HOME_NUMBER,
    Live,
    care_home_call,
    load_care_home_directory,
    wait_for,
)


def navigate(live: Live, auth: dict[str, dict[str, str]], **extra: Any) -> dict[str, Any]:
    response = live.app.test_client().post(
        "/api/v1/navigations", json=care_home_call(**extra), headers=auth["integrator"]
    )
    assert response.status_code == 201, response.json
    return dict(response.json or {})


def read(live: Live, auth: dict[str, dict[str, str]], navigation_id: str) -> dict[str, Any]:
    response = live.app.test_client().get(
        f"/api/v1/navigations/{navigation_id}", headers=auth["navigator"]
    )
    assert response.status_code == 200
    return dict(response.json or {})


def test_follow_ups_are_sent_once_and_delivered(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    navigation = navigate(live, auth)
    assert navigation["recommendation"]["service"]["service_type"] == "urgent_community_response"
    assert [f["status"] for f in navigation["follow_ups"]] == ["scheduled", "scheduled"]
    assert {f["to"] for f in navigation["follow_ups"]} == {HOME_NUMBER}
    live.make_due()
    report = live.dispatch()
    assert report.sent == 2
    assert live.dispatch().claimed == 0  # nothing is sent twice
    wait_for(lambda: live.statuses() == ["delivered", "delivered"])
    follow_ups = read(live, auth, navigation["id"])["follow_ups"]
    assert [f["status"] for f in follow_ups] == ["delivered", "delivered"]
    sent = live.fake.sent()
    assert len(sent) == 2 and {m["to"] for m in sent} == {HOME_NUMBER}
    assert all("CASE-1" in m["body"] and "STOP" in m["body"] for m in sent)
    assert all(m["status_callback"].startswith(live.base_url) for m in sent)


def test_outage_then_recovery_delivers_every_message_exactly_once(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    for number in range(5):
        navigate(live, auth, case_ref=f"OUT-{number}")
    live.make_due()
    live.fake.fail(3, "500")
    live.fake.fail(2, "timeout", seconds=0.8)
    live.fake.fail(2, "accept_timeout", seconds=0.8)  # accepted, but the answer is lost
    first = live.dispatch()
    assert first.retrying == 7 and first.sent == 3
    for _ in range(4):
        live.make_due()
        live.dispatch()
    wait_for(lambda: live.statuses() == ["delivered"] * 10)
    counts = Counter(m["body"] for m in live.fake.sent())
    assert len(counts) == 10 and set(counts.values()) == {1}


def test_nothing_is_sent_in_quiet_hours_and_due_times_move_to_8am(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    navigate(live, auth)
    live.make_due()
    quiet = QuietHours(21 * 60, 8 * 60)
    today = to_local(utcnow()).date()
    night = to_utc(datetime(today.year, today.month, today.day, 23, 30)) + timedelta(days=1)
    assert live.dispatch(now=night, quiet=quiet).claimed == 0
    assert live.dispatch(now=night + timedelta(hours=8, minutes=29), quiet=quiet).claimed == 0
    assert live.fake.sent() == []
    assert live.dispatch(now=night + timedelta(hours=8, minutes=30), quiet=quiet).sent == 2


def test_stop_cancels_what_is_scheduled_and_start_lets_new_ones_through(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    first = navigate(live, auth, case_ref="A1")
    live.make_due()
    live.dispatch()
    wait_for(lambda: live.statuses() == ["delivered", "delivered"])
    navigate(live, auth, case_ref="A2")
    assert live.fake.reply(HOME_NUMBER, "STOP") == 200
    statuses = Counter(live.statuses())
    assert statuses == {"delivered": 2, "cancelled": 2}
    assert navigate(live, auth, case_ref="A3")["follow_ups"] == []  # opted out
    live.make_due()
    assert live.dispatch().claimed == 0
    assert live.fake.reply(HOME_NUMBER, "START") == 200
    assert len(navigate(live, auth, case_ref="A4")["follow_ups"]) == 2
    kinds = [r["kind"] for f in read(live, auth, first["id"])["follow_ups"] for r in f["replies"]]
    assert kinds == ["stop", "start"]


def test_a_2_reply_reaches_the_worklist(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    navigation = navigate(live, auth)
    live.make_due()
    live.dispatch()
    wait_for(lambda: live.statuses() == ["delivered", "delivered"])
    assert live.fake.reply(HOME_NUMBER, " 2 ") == 200
    assert live.fake.reply(HOME_NUMBER, "1") == 200
    worklist = live.app.test_client().get("/api/v1/worklist", headers=auth["navigator"]).json
    assert worklist is not None
    [task] = worklist["items"]
    assert task["reason"] == "call_back" and task["navigation_id"] == navigation["id"]
    assert task["care_home"]["id"] == "test-care-home"
    done = live.app.test_client().post(
        f"/api/v1/worklist/{task['id']}/complete",
        json={"outcome": "Rang the home; resident comfortable."},
        headers=auth["navigator"],
    )
    assert done.status_code == 200 and done.json and done.json["status"] == "done"
    assert live.app.test_client().get("/api/v1/worklist", headers=auth["navigator"]).json == {
        "items": []
    }
    assert (
        live.app.test_client().get("/api/v1/worklist", headers=auth["integrator"]).status_code
        == 403
    )


def test_bad_signatures_are_403_and_record_nothing(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    navigate(live, auth)
    params = {"MessageSid": "SMforged", "From": HOME_NUMBER, "Body": "2"}
    inbound = f"{live.base_url}/webhooks/twilio/inbound"
    assert live.fake.post_signed(inbound, params, token="not-the-token") == 403
    unsigned = live.app.test_client().post("/webhooks/twilio/inbound", data=params)
    assert unsigned.status_code == 403
    assert unsigned.headers["Content-Type"] == "application/problem+json"
    # Signed for another URL (what request.url would be behind a proxy) is refused too.
    elsewhere = RequestValidator(DEV_TWILIO_AUTH_TOKEN).compute_signature(
        "https://evil.example/webhooks/twilio/inbound", params
    )
    assert (
        live.app.test_client()
        .post("/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": elsewhere})
        .status_code
        == 403
    )
    [message_id, _] = [f["id"] for f in navigate(live, auth, case_ref="S2")["follow_ups"]]
    status = f"{live.base_url}/webhooks/twilio/status?message_id={message_id}"
    forged = {"MessageSid": "SMforged", "MessageStatus": "delivered"}
    assert live.fake.post_signed(status, forged, token="not-the-token") == 403
    assert live_session.scalar(select(func.count()).select_from(SmsReply)) == 0
    assert live_session.scalar(select(func.count()).select_from(CallbackTask)) == 0
    assert live_session.get(SmsMessage, message_id).status == "scheduled"  # type: ignore[union-attr]


def test_late_and_duplicate_receipts_never_move_a_message_backwards(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    message_id = navigate(live, auth)["follow_ups"][0]["id"]
    live.make_due()
    live.dispatch()
    wait_for(lambda: live.statuses() == ["delivered", "delivered"])
    url = f"{live.base_url}/webhooks/twilio/status?message_id={message_id}"
    for status in ("sent", "queued", "delivered", "undelivered", "sent"):
        assert live.fake.post_signed(url, {"MessageSid": "SMx", "MessageStatus": status}) == 204
    live_session.expire_all()
    message = live_session.get(SmsMessage, message_id)
    assert message is not None and message.status == "delivered"
    assert message.twilio_sid != "SMx"


def test_an_undelivered_text_opens_a_task_so_someone_knows(
    live: Live, live_session: Session, auth: dict[str, dict[str, str]]
) -> None:
    load_care_home_directory()
    navigation = navigate(live, auth)
    live.fake.undeliverable.add(HOME_NUMBER)
    live.make_due()
    live.dispatch()
    wait_for(lambda: live.statuses() == ["undelivered", "undelivered"])
    tasks = live.app.test_client().get("/api/v1/worklist", headers=auth["navigator"]).json
    assert tasks is not None
    assert [t["reason"] for t in tasks["items"]] == ["not_delivered", "not_delivered"]
    assert {t["navigation_id"] for t in tasks["items"]} == {navigation["id"]}
