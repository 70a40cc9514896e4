"""What came with a BaRS referral, on the console (issue 16 §1 "Safeguarding and
reasonable-adjustment Flags show prominently on the console's referral and call pages"; the
hazard of a flag not shown).

Protects: on the referral page and the call page of a referral received by BaRS, the
safeguarding and reasonable-adjustment Flags are in the warning callout at the top,
safeguarding first, other Flags listed outside it, 111's safety-netting (`patientInstruction`)
shown, and the sender named; the sender's text is only ever escaped (it comes from outside:
OWASP ASVS 5.0 V1.2.1); the referrals list marks rows with such flags; the referral page says
in plain words whether each status response reached the sender, on the London clock; reading
the flags on the call page is audited; and a referral not received by BaRS looks as before.

The BaRS rows are written directly (the receiver that writes them is tested in tests/fhir/):
a call routed through the real navigation service, a referral through the real referral
service, then its `BarsReferral` and `BarsOutboxMessage` rows as navigator.bars.models
defines them. The categories are those of the BaRS Flag profile's use in the standard
(NHSDigital-FHIR-BookingAndReferrals, guides: Flags for safeguarding and reasonable
adjustments).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from navigator.auth.keys import Caller
from navigator.bars.models import BarsOutboxMessage, BarsReferral
from navigator.console.formatting import when
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.core.reference import GAZETTEER
from navigator.directory.reference import directory_index
from navigator.patients.models import AuditEvent
from navigator.referrals.service import create_referral
from tests.builders import navigate_fall

pytestmark = pytest.mark.usefixtures("bedford_directory")

# The integrator the BaRS receiver acts as (API key role `integrator`).
RECEIVER = Caller(41, "nhs111-bars", "integrator", None)
ACK = {"emergency": 15, "urgent": 30, "same_day": 120, "within_72h": 480, "routine": 1440}
PATIENT = {
    "nhs_number": "9434765919",
    "name": "Pat Example",
    "date_of_birth": date(1940, 3, 15),
    "postcode": "MK42 9DJ",
}

SAFEGUARDING = {
    "category": "safeguarding",
    "code": "safeguarding-concern",
    "display": "Safeguarding concern",
    "text": "Lives with a partner the caller fears; speak to the patient alone.",
}
ADJUSTMENT = {
    "category": "reasonable_adjustment",
    "code": "hearing-impaired",
    "display": "Hearing impaired",
    "text": "Uses British Sign Language: book an interpreter.",
}
OTHER = {"category": "other", "code": "key-safe", "display": "Key safe", "text": "Code 1234"}
INSTRUCTION = "Call 111 again if the pain gets worse or you feel faint."
HOSTILE = '<script>alert("x")</script><b id="xss">\'&"</b>'


def bars_case(
    app: Flask,
    *,
    flags: Sequence[Any] | None,
    sender_name: str | None = "NHS 111 Example",
    patient_instruction: str | None = INSTRUCTION,
    outbox: Sequence[dict[str, Any]] = (),
    service_id: str = "ucr-one",
    navigation_id: str | None = None,
) -> tuple[str, str]:
    """A call and its referral as the BaRS receiver makes them (another referral of the call
    `navigation_id` when given); with `flags` None, a referral not received by BaRS (no
    BarsReferral). `outbox` rows are BarsOutboxMessage fields. Returns (navigation id,
    referral id)."""
    with app.app_context():
        session = db.session
        with transaction(session):
            if navigation_id is None:
                navigation_id = navigate_fall(session, created_by=RECEIVER.label)["id"]
            referral, _ = create_referral(
                session,
                {
                    "service_id": service_id,
                    "navigation_id": navigation_id,
                    "patient": PATIENT,
                    "urgency": "urgent",
                    "reason": "Fall at home, no injury (Dx: speak to a clinician)",
                },
                caller=RECEIVER,
                idempotency_key=None,
                index=directory_index(),
                gazetteer=GAZETTEER.get(),
                ack_minutes=ACK,
                now=utcnow(),
            )
            if flags is not None:
                correlation = str(uuid.uuid4())
                session.add(
                    BarsReferral(
                        referral_id=referral.id,
                        correlation_id=correlation,
                        service_request_id=str(uuid.uuid4()),
                        sender_endpoint="https://sender.example/fhir",
                        sender_name=sender_name,
                        sender_phone="0300 123 4567",
                        request_message_id=str(uuid.uuid4()),
                        target_identifier="ucr-one",
                        flags=list(flags),
                        patient_instruction=patient_instruction,
                        sender_updated_at=utcnow(),
                    )
                )
                for row in outbox:
                    session.add(
                        BarsOutboxMessage(
                            id=str(uuid.uuid4()),
                            referral_id=referral.id,
                            request_id=str(uuid.uuid4()),
                            correlation_id=correlation,
                            endpoint="https://sender.example/fhir",
                            bundle={"resourceType": "Bundle"},
                            **({"next_attempt_at": utcnow()} | row),
                        )
                    )
        ids = navigation_id, referral.id
        db.session.remove()
    return ids


def section(page: str, element_id: str) -> str:
    """The HTML of the element with this id up to its closing tag (one level of nesting of
    the same tag is enough for these partials)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"', page)
    assert match, f"no #{element_id} on the page"
    tag, start = match.group(1), match.start()
    depth, pos = 0, start
    for found in re.finditer(rf"<(/?){tag}\b[^>]*>", page[start:]):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            pos = start + found.end()
            break
    return page[start:pos]


def text_of(html: str) -> str:
    """The words of some HTML, as a reader sees them (no space before punctuation)."""
    words = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return re.sub(r" ([:.,;])", r"\1", words)


@pytest.fixture
def navigator_client(sign_in: Callable[[str], FlaskClient]) -> FlaskClient:
    return sign_in("navigator")


@pytest.mark.parametrize("page_of", ["referral", "call"])
def test_safeguarding_and_adjustments_are_in_the_warning_callout_safeguarding_first(
    app: Flask, navigator_client: FlaskClient, page_of: str
) -> None:
    # Received in the "wrong" order: other, adjustment, safeguarding.
    navigation_id, referral_id = bars_case(app, flags=[OTHER, ADJUSTMENT, SAFEGUARDING])
    path = f"/referrals/{referral_id}" if page_of == "referral" else f"/calls/{navigation_id}"
    page = navigator_client.get(path).text

    callout = section(page, "bars-flags")
    assert "nhsuk-card--warning" in callout
    words = text_of(callout)
    assert "Safeguarding and reasonable adjustments" in words
    for flag in (SAFEGUARDING, ADJUSTMENT):
        assert str(escape(flag["display"])) in callout
        assert str(escape(flag["text"])) in callout
    assert words.index("Safeguarding concern") < words.index("Hearing impaired")
    assert "Key safe" not in callout  # other flags are not in the callout...
    others = text_of(section(page, "bars-other-flags"))
    assert "Key safe: Code 1234" in others  # ...but listed below it
    assert INSTRUCTION in text_of(section(page, "bars-patient-instruction"))
    assert "Received from NHS 111 Example by BaRS" in text_of(section(page, "bars-sender"))
    # At the top: before everything else the page says about the referral or the call.
    first_after = r">\s*Status\s*<" if page_of == "referral" else r">\s*Urgency:"
    following = re.search(first_after, page)
    assert following and page.index('id="bars-flags"') < following.start()
    assert page.index("<h1") < page.index('id="bars-flags"')


@pytest.mark.parametrize(
    ("flags", "heading", "tag_class"),
    [
        ([SAFEGUARDING], "Safeguarding", "nhsuk-tag--red"),
        ([ADJUSTMENT], "Reasonable adjustments", "nhsuk-tag--orange"),
    ],
)
def test_each_prominent_category_alone(
    app: Flask,
    navigator_client: FlaskClient,
    flags: list[dict[str, str]],
    heading: str,
    tag_class: str,
) -> None:
    navigation_id, referral_id = bars_case(app, flags=flags)
    for path in (f"/referrals/{referral_id}", f"/calls/{navigation_id}"):
        callout = section(navigator_client.get(path).text, "bars-flags")
        title = re.search(r"<h2.*?</h2>", callout, re.S)
        assert title and text_of(title.group(0)) == f"Important: {heading}"
        assert tag_class in callout
        assert str(escape(flags[0]["text"])) in callout


def test_the_call_page_shows_the_flags_of_all_its_bars_referrals_each_once(
    app: Flask, navigator_client: FlaskClient
) -> None:
    navigation_id, _ = bars_case(app, flags=[ADJUSTMENT, OTHER])
    bars_case(
        app,
        flags=[OTHER, SAFEGUARDING, ADJUSTMENT],
        sender_name="NHS 111 Other",
        patient_instruction="Another instruction.",
        service_id="ucr-two",
        navigation_id=navigation_id,
    )
    page = navigator_client.get(f"/calls/{navigation_id}").text
    callout = text_of(section(page, "bars-flags"))
    assert callout.count("Safeguarding concern") == 1 and callout.count("Hearing impaired") == 1
    assert callout.index("Safeguarding concern") < callout.index("Hearing impaired")
    assert text_of(section(page, "bars-other-flags")).count("Key safe") == 1
    sender = text_of(section(page, "bars-sender"))
    assert "Received from NHS 111 Example and NHS 111 Other by BaRS" in sender
    instructions = text_of(section(page, "bars-patient-instruction"))
    assert INSTRUCTION in instructions and "Another instruction." in instructions


def test_other_flags_only_are_listed_without_a_callout(
    app: Flask, navigator_client: FlaskClient
) -> None:
    navigation_id, referral_id = bars_case(app, flags=[OTHER], patient_instruction=None)
    for path in (f"/referrals/{referral_id}", f"/calls/{navigation_id}"):
        page = navigator_client.get(path).text
        assert 'id="bars-flags"' not in page
        assert "Key safe: Code 1234" in text_of(section(page, "bars-other-flags"))
        assert 'id="bars-patient-instruction"' not in page
        assert "Received from NHS 111 Example by BaRS" in text_of(section(page, "bars-sender"))


def test_a_flag_without_display_or_category_is_still_shown(
    app: Flask, navigator_client: FlaskClient
) -> None:
    """A flag not shown is the hazard: a safeguarding flag with only a code shows its code, and
    one with an unknown category is listed with the others."""
    odd = [
        {"category": "safeguarding", "code": "SG-CODE-ONLY", "display": None, "text": None},
        {"category": "unheard-of", "code": None, "display": "Odd flag", "text": "odd text"},
    ]
    _, referral_id = bars_case(app, flags=odd, sender_name=None)
    page = navigator_client.get(f"/referrals/{referral_id}").text
    assert "SG-CODE-ONLY" in section(page, "bars-flags")
    assert "Odd flag: odd text" in text_of(section(page, "bars-other-flags"))
    assert "Received from the sender by BaRS" in text_of(section(page, "bars-sender"))


def test_hostile_text_from_the_sender_is_only_shown_escaped(
    app: Flask, navigator_client: FlaskClient
) -> None:
    hostile = [
        {"category": c, "code": HOSTILE, "display": HOSTILE, "text": HOSTILE}
        for c in ("safeguarding", "reasonable_adjustment", "other")
    ] + [{"category": "safeguarding", "code": HOSTILE, "display": None, "text": HOSTILE}]
    navigation_id, referral_id = bars_case(
        app,
        flags=hostile,
        sender_name=HOSTILE,
        patient_instruction=HOSTILE,
        outbox=[
            {"referral_status": "accepted", "state": "failed", "attempts": 5, "last_error": HOSTILE}
        ],
    )
    for path in (f"/referrals/{referral_id}", f"/calls/{navigation_id}", "/referrals"):
        page = navigator_client.get(path).text
        assert "<script>" not in page and 'id="xss"' not in page, path
        if path != "/referrals":  # the list shows categories only
            assert str(escape(HOSTILE)) in page
            assert page.count(str(escape(HOSTILE))) >= 5
    assert str(escape(HOSTILE)) in section(
        navigator_client.get(f"/referrals/{referral_id}").text, "bars-deliveries"
    )


def test_bidi_overrides_never_reach_the_page(app: Flask, navigator_client: FlaskClient) -> None:
    """Review of issue 16 (attack): escaping leaves U+202E alone, so a sender could make a
    safeguarding flag or its own name read backwards; every `{{ }}` of the console drops
    bidi overrides and control characters (`core.text.without_unsafe` as Jinja's finalize)."""
    spoof = "Safe\u202egnidraugefas\u202c \u2066x\u2069\x07"
    navigation_id, referral_id = bars_case(
        app,
        flags=[{"category": "safeguarding", "code": "SG", "display": spoof, "text": spoof}],
        sender_name=spoof,
        patient_instruction=spoof,
    )
    for path in (f"/referrals/{referral_id}", f"/calls/{navigation_id}", "/referrals"):
        page = navigator_client.get(path).text
        assert not any(c in page for c in "\u202e\u202c\u2066\u2069\x07"), path
    assert "Safegnidraugefas x" in navigator_client.get(f"/referrals/{referral_id}").text


def test_a_referral_not_received_by_bars_looks_as_before(
    app: Flask, navigator_client: FlaskClient
) -> None:
    navigation_id, referral_id = bars_case(app, flags=None)
    for path in (f"/referrals/{referral_id}", f"/calls/{navigation_id}"):
        page = navigator_client.get(path).text
        assert 'id="bars' not in page
        assert "BaRS" not in page and "Status sent back" not in page
        if path.startswith("/referrals/"):  # the call page has its own "Read this" callout
            assert "nhsuk-card--warning" not in page
    assert "app-bars-marker" not in navigator_client.get("/referrals").text
    # The partials add nothing at all for such a referral: the pages are as before.
    with app.test_request_context():
        for partial in ("_bars_flags", "_bars_delivery"):
            rendered = render_template(f"console/{partial}.jinja", bars=None, bars_deliveries=[])
            assert rendered.strip() == ""


def test_the_list_marks_referrals_with_safeguarding_or_adjustment_flags(
    app: Flask, navigator_client: FlaskClient
) -> None:
    _, both = bars_case(app, flags=[ADJUSTMENT, SAFEGUARDING])
    _, adjusted = bars_case(app, flags=[ADJUSTMENT], service_id="ucr-two")
    _, other_only = bars_case(app, flags=[OTHER])
    _, plain = bars_case(app, flags=None, service_id="ucr-two")
    page = navigator_client.get("/referrals").text
    marker = re.compile(r'app-bars-marker"\s*>\s*([^<]+?)\s*<')
    rows = {
        ident: row
        for row in re.findall(r"<tr class=\"nhsuk-table__row\">.*?</tr>", page, re.S)
        for ident in (both, adjusted, other_only, plain)
        if f"/referrals/{ident}" in row
    }
    assert len(rows) == 4
    assert marker.findall(rows[both]) == [
        "Safeguarding",
        "Reasonable adjustment",
    ]
    assert marker.findall(rows[adjusted]) == ["Reasonable adjustment"]
    assert "app-bars-marker" not in rows[other_only]
    assert "app-bars-marker" not in rows[plain]
    assert "Code 1234" not in page and "Safeguarding concern" not in page  # no flag text


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_referral_page_says_where_each_status_response_has_got_to(
    app: Flask, navigator_client: FlaskClient
) -> None:
    """Times on the London clock: 09:02 UTC on 1 July is 10:02 BST."""
    navigation_id, referral_id = bars_case(
        app,
        flags=[SAFEGUARDING],
        outbox=[
            {
                "referral_status": "accepted",
                "state": "sent",
                "attempts": 1,
                "created_at": at("2026-07-01T09:01:00"),
                "sent_at": at("2026-07-01T09:02:00"),
                "response_status": 200,
            },
            {
                "referral_status": "on_hold",
                "state": "scheduled",
                "attempts": 2,
                "created_at": at("2026-07-01T09:05:00"),
                "next_attempt_at": at("2026-07-01T09:10:00"),
                "last_error": "HTTP 503 from the sender",
            },
            {
                "referral_status": "completed",
                "state": "failed",
                "attempts": 8,
                "created_at": at("2026-07-01T09:20:00"),
                "last_error": "connection refused",
            },
            {
                "referral_status": "cancelled",
                "state": "scheduled",
                "attempts": 0,
                "created_at": at("2026-07-01T09:30:00"),
            },
        ],
    )
    page = navigator_client.get(f"/referrals/{referral_id}").text
    items = [
        text_of(li) for li in re.findall(r"<li.*?</li>", section(page, "bars-deliveries"), re.S)
    ]
    assert len(items) == 4
    # On the London clock (BST in July), NHS style; the year only when it is not this year.
    sent, retry = when(at("2026-07-01T09:02:00")), when(at("2026-07-01T09:10:00"))
    assert sent.startswith("Wednesday 1 July") and sent.endswith(", 10:02am")
    assert f"Accepted: sent to NHS 111 Example on {sent}." in items[0]
    assert f"On hold: waiting to be sent (attempt 3, next try {retry})." in items[1]
    assert "Last problem: HTTP 503 from the sender" in items[1]
    assert "Not delivered Completed: not delivered." in items[2]
    assert "NHS 111 Example has not been told – phone them on 0300 123 4567." in items[2]
    assert "Gave up after 8 attempts. Last problem: connection refused" in items[2]
    assert "Cancelled: waiting to be sent." in items[3]
    assert "next try" not in items[3]
    # Only on the referral page: the call page links to it.
    assert 'id="bars-deliveries"' not in navigator_client.get(f"/calls/{navigation_id}").text


def test_a_bars_referral_without_status_changes_says_so(
    app: Flask, navigator_client: FlaskClient
) -> None:
    _, referral_id = bars_case(app, flags=[])
    page = navigator_client.get(f"/referrals/{referral_id}").text
    assert "No status change to send yet." in page
    assert 'id="bars-flags"' not in page and 'id="bars-other-flags"' not in page


def test_reading_the_flags_on_the_call_page_is_audited(
    app: Flask, navigator_client: FlaskClient
) -> None:
    """The referral page audits the referral it shows; the call page, which shows the flags of
    the call's BaRS referrals, audits each of them as read too."""
    navigation_id, referral_id = bars_case(app, flags=[SAFEGUARDING])

    def reads() -> list[tuple[str, str | None, str]]:
        with app.app_context():
            rows = db.session.execute(
                select(AuditEvent.actor, AuditEvent.patient_id, AuditEvent.route).where(
                    AuditEvent.entity == "referral",
                    AuditEvent.entity_id == referral_id,
                    AuditEvent.action == "read",
                )
            ).all()
            db.session.remove()
        return [tuple(r) for r in rows]

    assert reads() == []
    navigator_client.get(f"/calls/{navigation_id}")
    after_call = reads()
    assert len(after_call) == 1
    actor, patient_id, route = after_call[0]
    assert actor.startswith("user:") and patient_id and route == f"GET /calls/{navigation_id}"
    navigator_client.get(f"/referrals/{referral_id}")
    assert len(reads()) == 2


def test_signed_out_the_pages_show_nothing(app: Flask, client: FlaskClient) -> None:
    navigation_id, referral_id = bars_case(app, flags=[SAFEGUARDING])
    for path in (f"/referrals/{referral_id}", f"/calls/{navigation_id}", "/referrals"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location
        assert "Safeguarding" not in response.text
