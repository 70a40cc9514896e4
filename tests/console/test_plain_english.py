"""Issue 17 §1: raw values never reach the screen. Every console page, on a demo-like data set
(calls with a recommendation and a red flag, referrals with events, a BaRS referral, a service
with capacity history, a DTOC episode, users, the classify queue), signed in as an admin and
as a navigator, is read as a person sees it, and fails on what only a program should say:
`None`, a Python dict (`{'`), an ISO timestamp, or a snake_case code, outside `<code>`.

Also the forms' validation messages: none says marshmallow's "Missing data for required
field."; each names its field (the NHS design system's error-message guidance,
https://service-manual.nhs.uk/design-system/components/error-message).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html
from sqlalchemy import update

from navigator.core.db import utcnow
from navigator.core.extensions import db
from navigator.sms.models import SENT, SmsMessage
from tests.builders import api_key_for, console_user, load_directory, organisation, service
from tests.console.calls.conftest import take_call
from tests.console.conftest import post_form
from tests.console.test_bars_flags import SAFEGUARDING, bars_case
from tests.sms.conftest import HOME_NUMBER, care_home_call
from tests.sms.test_webhooks import TOKEN, post_signed

RAW = {
    "None": re.compile(r"\bNone\b"),
    "a Python dict": re.compile(r"\{'"),
    # With a "T" as the API writes it, or a space as a database prints it.
    "an ISO timestamp": re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
    "a snake_case code": re.compile(r"\b[a-z]+_[a-z_]+\b"),
}
# marshmallow's own wording, which no console form may show (each names its field instead).
MARSHMALLOW = ("Missing data for required field", "Not a valid", "Longer than maximum length")


def visible_text(page: str) -> str:
    """The words a person reads: no <code>, <script>, <style> or <template> content and no
    attribute values (lxml's text of the remaining tree)."""
    tree = lxml_html.fromstring(page)
    for element in tree.xpath("//code|//script|//style|//template|//noscript"):
        element.drop_tree()  # keeps the text after it (its tail), which is the page's
    # Each text node apart, so words of neighbouring elements never run together.
    return " ".join(" ".join(tree.itertext()).split())


def raw_values(text: str) -> list[str]:
    """Each raw value found in `text`, as "<what>: <match in context>"."""
    found = []
    for what, pattern in RAW.items():
        for match in pattern.finditer(text):
            start, end = max(0, match.start() - 30), min(len(text), match.end() + 30)
            found.append(f"{what}: …{text[start:end]}…")
    return found


def test_the_checker_finds_each_kind_of_raw_value() -> None:
    """The checker itself: each pattern is caught in text and ignored in <code> and attributes."""
    page = (
        "<html><body><p>Phone: None</p><p>{'status': 'red'}</p><p>at 2026-12-01T09:00:00</p>"
        "<p>care_home</p><code>on_hold None</code><a href='/x?a_b=None'>Link</a>"
        "<p>since 2026-12-01 09:00</p></body></html>"
    )
    found = raw_values(visible_text(page))
    assert [item.split(":")[0] for item in found] == [
        "None",
        "a Python dict",
        "an ISO timestamp",
        "an ISO timestamp",
        "a snake_case code",
    ]
    assert raw_values(visible_text("<p>Tuesday 1 December, 9am <code>on_hold</code></p>")) == []
    words = "<p>NEWS2 score 6, 2nd call, 5:30pm, MK42 9DJ, amy@nhs.net, 07700 900101</p>"
    assert raw_values(visible_text(words)) == []


@dataclass(frozen=True)
class Demo:
    admin: FlaskClient
    navigator: FlaskClient
    pages: dict[str, str]  # name -> path


def _care_home_texts(app: Flask, navigator: FlaskClient) -> tuple[str, str]:
    """A care home's call with follow-up texts (through the API, as 111 sends it), the first
    text sent an hour ago, and the home's replies: a NEWS2 score, soft signs, a call back,
    and a reply from a number in no directory record (unmatched); one task then completed.
    Returns the call's path and the completed task's id."""
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    with app.app_context():
        integrator = {"Authorization": f"Bearer {api_key_for(role='integrator')}"}
        db.session.remove()
    client = app.test_client()
    made = client.post(
        "/api/v1/navigations",
        json=care_home_call(care_home_service_id="care-home-a"),
        headers=integrator,
    )
    assert made.status_code == 201, made.json
    navigation_id, first = made.json["id"], made.json["follow_ups"][0]["id"]
    with app.app_context():
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == first)
            .values(status=SENT, sent_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        db.session.remove()
    for sender, body in (
        (HOME_NUMBER, "NEWS2 6"),
        (HOME_NUMBER, "more sleepy today"),
        (HOME_NUMBER, "2"),
        ("+447700900999", "NEWS2 8 Mrs Smith room 4"),
    ):
        params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": sender, "Body": body}
        assert post_signed(client, app, "/webhooks/twilio/inbound", params).status_code == 200
    worklist = navigator.get("/worklist").text
    task = re.search(r'id="task-(\d+)"', worklist)
    assert task, "no call-back task listed"
    done = post_form(navigator, f"/worklist/{task.group(1)}", {"outcome": "Rang"}, page="/worklist")
    assert done.status_code == 302, done.text
    return f"/calls/{navigation_id}", task.group(1)


def _client_for(app: Flask, role: str, email: str) -> FlaskClient:
    with app.app_context():
        email, password = console_user(role=role, email=email)
        db.session.remove()
    client = app.test_client()
    signed_in = post_form(client, "/login", {"email": email, "password": password})
    assert signed_in.status_code == 302, signed_in.text
    return client


@pytest.fixture
def demo(app: Flask) -> Demo:
    with app.app_context():
        load_directory(
            services=[
                service(id="ucr-one", name="UCR One"),
                service(id="ucr-two", name="UCR Two", postcode="MK40 1AA", lat=52.2, lng=-0.5),
                service(
                    id="care-home-a",
                    service_type="care_home",
                    sector="social_care",
                    needs=[],
                    sms={
                        "number": "07700 900101",
                        "consent": True,
                        "consent_recorded_at": "2026-09-01T09:00:00Z",
                    },
                ),
                service(
                    id="befriend",
                    name="Befriending Bedford",
                    service_type="unclassified",
                    sector="voluntary",
                    needs=[],
                    source_terms=[
                        {
                            "taxonomy": "esd",
                            "code": "http://id.esd.org.uk/service/1126",
                            "name": "Befriending",
                        }
                    ],
                ),
            ],
            organisations=[organisation()],
        )
        db.session.remove()
    admin = _client_for(app, "admin", "amy.admin@nhs.net")
    navigator = _client_for(app, "navigator", "nick.navigator@nhs.net")

    # A call with a recommendation, accepted: a referral, then moved on (referral events).
    call = take_call(navigator)
    accepted = post_form(
        navigator, f"/calls/{call}/decision", {"action": "accept"}, page=f"/calls/{call}"
    )
    assert accepted.status_code == 302, accepted.text
    referrals = navigator.get("/referrals").text
    referral = re.search(r'href="/referrals/([0-9a-f-]{36})"', referrals)
    assert referral, "no referral listed"
    referral_path = f"/referrals/{referral.group(1)}"
    moved = post_form(
        navigator,
        f"{referral_path}/status",
        {"status": "on_hold", "note": "Waiting for a call back"},
        page=referral_path,
    )
    assert moved.status_code == 302, moved.text
    # A red-flag call.
    red_flag_call = take_call(navigator, red_flags="chest_pain")
    # A BaRS referral with a safeguarding flag.
    _bars_call, bars_referral = bars_case(app, flags=[SAFEGUARDING])
    # Capacity history on a service.
    capacity = post_form(
        navigator,
        "/directory/ucr-one/capacity",
        {"status": "red", "note": "No crews until 2pm", "reset_after_minutes": "60"},
        page="/directory/ucr-one",
    )
    assert capacity.status_code == 302, capacity.text
    # A DTOC episode.
    episode = post_form(
        navigator,
        "/dtoc",
        {
            "name": "Pat Example",
            "date_of_birth": "15/3/1940",
            "postcode": "MK42 9DJ",
            "provider_ods": "RC9",
            "site": "Ward 4",
            "care_type": "acute",
            "clinically_ready_at": "2026-11-20T10:00",
            "reason": "E",
            "responsible": "social_care",
        },
    )
    assert episode.status_code == 302, episode.text
    episode_path = episode.location
    texts_call, _task = _care_home_texts(app, navigator)
    pages = {
        "home": "/",
        "new call": "/calls/new",
        "calls": "/calls",
        "call with a recommendation": f"/calls/{call}",
        "red-flag call": f"/calls/{red_flag_call}",
        "referrals": "/referrals",
        "referral with events": referral_path,
        "BaRS referral": f"/referrals/{bars_referral}",
        "worklist": "/worklist",
        "completed tasks": "/worklist/completed",
        "call with follow-up texts": texts_call,
        "directory": "/directory",
        "directory search": "/directory?postcode=MK42+9DJ&need=fall_no_injury",
        "service with capacity history": "/directory/ucr-one",
        "care home": "/directory/care-home-a",
        "DTOC board": "/dtoc",
        "DTOC episode": episode_path,
        "dashboard": "/dashboard",
        "users": "/users",
        "to classify": "/to-classify",
        "classify": "/directory/befriend/classify",
        "edit service": "/directory/ucr-one/edit",
        "page not found": "/referrals/no-such-referral",
    }
    return Demo(admin, navigator, pages)


# Every page the demo data reaches, by name (`Demo.pages`).
PAGES = (
    "home",
    "referrals",
    "referral with events",
    "BaRS referral",
    "service with capacity history",
    "care home",
    "DTOC board",
    "DTOC episode",
    "users",
    "to classify",
    "classify",
    "edit service",
    "page not found",
    "new call",
    "calls",
    "call with a recommendation",
    "red-flag call",
    "directory",
    "directory search",
    "dashboard",
    "worklist",
    "completed tasks",
    "call with follow-up texts",
)


def _failures(client: FlaskClient, name: str, path: str) -> list[str]:
    response = client.get(path, follow_redirects=True)
    if response.status_code == 403:
        return []  # not this role's to see: the other role's run reads it
    if response.status_code not in (200, 404):
        return [f"{name} ({path}): HTTP {response.status_code}"]
    found = raw_values(visible_text(response.text))
    return [f"{name} ({path}) shows {item}" for item in found]


@pytest.mark.parametrize("name", PAGES)
def test_no_page_shows_a_raw_value(demo: Demo, name: str) -> None:
    """The page, read by an admin and by a navigator, shows no `None`, dict, ISO timestamp or
    snake_case code outside a `<code>` element (issue 17 §1)."""
    assert set(PAGES) == set(demo.pages), "every page of the demo data is checked"
    path = demo.pages[name]
    failures = [
        failure
        for client in (demo.admin, demo.navigator)
        for failure in _failures(client, name, path)
    ]
    assert not failures, "\n".join(dict.fromkeys(failures))


def _error_messages(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [
        " ".join(li.text_content().split())
        for li in tree.xpath("//div[contains(@class, 'nhsuk-error-summary')]//li")
    ]


def test_an_empty_dtoc_form_names_each_field(demo: Demo) -> None:
    response = post_form(demo.navigator, "/dtoc", {})
    assert response.status_code == 422
    messages = _error_messages(response.text)
    assert messages, "no error summary"
    assert not [m for m in messages if m.startswith(MARSHMALLOW)], messages
    assert "Enter the provider's ODS code" in messages
    assert "Select the care type" in messages
    assert "Select the reason" in messages
    assert "Select the responsible organisation" in messages
    assert "Enter the patient's full name" in messages
    assert raw_values(visible_text(response.text)) == []


def test_every_form_error_on_the_console_names_its_field(demo: Demo) -> None:
    """The forms of the pages this part owns, each sent empty or wrong."""
    referral_path = demo.pages["referral with events"]
    sent = post_form(demo.navigator, f"{referral_path}/status", {"note": "x"}, page=referral_path)
    assert sent.status_code == 422
    assert _error_messages(sent.text) == ["Select the new status"]
    episode_path = demo.pages["DTOC episode"]
    wrong = post_form(demo.navigator, episode_path, {"pathway": "seven"}, page=episode_path)
    assert wrong.status_code == 422
    assert _error_messages(wrong.text) == ["The discharge pathway must be a number"]
    new_user = post_form(demo.admin, "/users", {"email": "", "role": ""})
    assert new_user.status_code == 422
    messages = _error_messages(new_user.text)
    assert messages and not [m for m in messages if m.startswith(MARSHMALLOW)], messages
