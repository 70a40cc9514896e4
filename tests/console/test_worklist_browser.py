"""The worklist in a real browser (headless Chromium through Playwright, issue 17 §3 and §5).

Protects what a navigator sees: an urgent task (a NEWS2 score of 7 with a soft sign) marked
and at the top, above an older task that is not urgent; a matched reply naming its resident
and call; a reply that matched no call saying so, with the home's recent calls to choose
from, and linking it; the open-task counter in the navigation bar on every page; and the
completed tasks with who, when and what happened. Every page passes axe-core (no serious or
critical WCAG 2.2 AA violation) and is saved in tests/screenshots/ (worklist-urgent,
worklist-linked, worklist-completed)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import update

from navigator.core.db import utcnow
from navigator.core.extensions import db
from navigator.navigation.models import Navigation
from navigator.patients.models import Patient
from navigator.sms.models import SENT, SmsMessage
from navigator.sms.replies import record_reply
from tests.builders import load_directory, organisation, service
from tests.console import test_browser
from tests.sms.conftest import HOME_NUMBER, care_home, care_home_call
from tests.sms.test_webhooks import TOKEN

browser, base_url, page, sign_in_as = (
    test_browser.browser,
    test_browser.base_url,
    test_browser.page,
    test_browser.sign_in_as,
)
check_page = test_browser.check_page

OTHER_HOME_NUMBER = "+447700900102"


def reply(app: Flask, number: str, body: str, *, minutes_ago: int) -> None:
    with app.app_context():
        session = db.session()
        record_reply(
            session,
            sid=f"SM{number[-4:]}{minutes_ago}",
            from_number=number,
            body=body,
            now=utcnow() - timedelta(minutes=minutes_ago),
            window=timedelta(days=7),
        )
        session.commit()
        db.session.remove()


@pytest.fixture
def two_homes(app: Flask, client: FlaskClient, auth: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Two care homes, each with a call for a resident: the first home's follow-up went an
    hour ago (its texts match that call), the second's has not gone (its texts match none)."""
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    sms = {"number": "07700 900102", "consent": True, "consent_recorded_at": "2026-09-01T09:00:00Z"}
    other = service(
        id="second-home", name="Greenacre Lodge", service_type="care_home", needs=[], sms=sms
    )
    with app.app_context():
        load_directory(
            organisations=[organisation()],
            services=[service(id="ucr", needs=["fall_no_injury"]), care_home(), other],
        )
    ids = {}
    for home, ref in (("test-care-home", "CASE-1"), ("second-home", "CASE-2")):
        call = care_home_call(care_home_service_id=home, case_ref=ref)
        response = client.post("/api/v1/navigations", json=call, headers=auth["integrator"])
        assert response.status_code == 201, response.json
        ids[home] = response.json
    with app.app_context():
        patient_id = str(uuid.uuid4())
        db.session.add(Patient(id=patient_id, name="Resident Example", sex="female"))
        db.session.flush()
        db.session.execute(
            update(Navigation)
            .where(Navigation.id == ids["test-care-home"]["id"])
            .values(patient_id=patient_id)
        )
        # The calls were taken this morning, before the replies (screenshots read in order).
        db.session.execute(update(Navigation).values(called_at=utcnow() - timedelta(hours=3)))
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == ids["test-care-home"]["follow_ups"][0]["id"])
            .values(status=SENT, sent_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        db.session.remove()
    return ids


def test_a_navigator_sees_urgent_replies_first_links_an_unmatched_one_and_completes_it(
    app: Flask,
    two_homes: dict[str, Any],
    sign_in_as: Callable[[str], Page],
) -> None:
    reply(app, HOME_NUMBER, "2", minutes_ago=30)  # older, not urgent
    reply(app, HOME_NUMBER, "NEWS2 7, more sleepy", minutes_ago=5)
    reply(app, OTHER_HOME_NUMBER, "Not eating since breakfast", minutes_ago=2)
    page = sign_in_as("navigator")

    # The counter is in the navigation bar of every page, urgent ones said too.
    nav = page.get_by_role("navigation", name="Menu")
    expect(nav.get_by_role("link", name="Worklist 3 open tasks, 2 urgent")).to_be_visible()

    page.goto("/worklist")
    cards = page.locator(".nhsuk-card[id^=task-]")
    expect(cards).to_have_count(3)
    # Urgent first (oldest first among them), then the "2".
    expect(cards.nth(0)).to_contain_text("NEWS2 score")
    expect(cards.nth(0)).to_contain_text("7 (7 or more: call 999)")
    expect(cards.nth(0)).to_contain_text("More sleepy or hard to wake")
    expect(cards.nth(0)).to_contain_text("Resident Example")
    expect(cards.nth(1)).to_contain_text("This reply matched no call.")
    expect(cards.nth(1)).to_contain_text("Not eating")
    expect(cards.nth(2)).to_contain_text("Asked for a call back")
    expect(cards.nth(2)).not_to_contain_text("Urgent")
    for n in (0, 1):
        expect(cards.nth(n).locator(".nhsuk-tag--red", has_text="Urgent")).to_be_visible()
    check_page(page, "worklist-urgent")

    # Linking without choosing names the field; then choose the home's call.
    unmatched = cards.nth(1)
    unmatched.get_by_role("button", name="Link reply to this call").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Choose the call this reply is about"
    )
    unmatched = page.locator(".nhsuk-card[id^=task-]").nth(1)
    unmatched.get_by_role("radio").first.check()
    unmatched.get_by_role("button", name="Link reply to this call").click()
    expect(page.get_by_text("Reply linked to the call.")).to_be_visible()
    linked = page.locator(".nhsuk-card[id^=task-]").nth(1)
    expect(linked).not_to_contain_text("matched no call")
    expect(linked).to_contain_text("Linked by")
    expect(linked).to_contain_text("Reference CASE-2")
    check_page(page, "worklist-linked")

    # Complete the urgent one; the completed view says who, when and what happened.
    first = page.locator(".nhsuk-card[id^=task-]").first
    first.get_by_label("What happened when you called back").fill(
        "Spoke to the nurse in charge: 999 called, ambulance on the way."
    )
    first.get_by_role("button", name="Mark as done").click()
    expect(nav.get_by_role("link", name="Worklist 2 open tasks, 1 urgent")).to_be_visible()
    page.get_by_role("link", name="See completed tasks").click()
    done = page.locator(".nhsuk-card[id^=task-]")
    expect(done).to_have_count(1)
    expect(done.first).to_contain_text("ambulance on the way")
    expect(done.first).to_contain_text("By")
    expect(done.first).not_to_contain_text("Mark as done")
    check_page(page, "worklist-completed")
