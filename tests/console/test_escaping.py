"""Text from outside reaches a navigator's browser only as text, never as HTML (issue 12 §1,
hazard H26; OWASP ASVS 5.0 V1.2.1: output encoding for the HTML context).

A marker holding `<`, `>`, `"`, `'` and `&` (live HTML if output raw) is put into every field
an actor can set: API clients (navigations, patients, referrals, DTOC, capacity, transitions,
the key's own name), the directory (organisation and service text), a care home's SMS
replies (signed Twilio webhooks from the fake Twilio), console forms (call, hand-over,
override, referral status, DTOC, capacity, service edit, call-back outcome, user email, a
failed sign-in) and the URL (path parameters and query strings). Then every console page is
walked as an admin, and the marker must appear only escaped.

The walk is built from `app.url_map` (every GET rule of the `console` blueprint), so a page
added later is walked too; a rule whose path parameters the test cannot fill fails the test
rather than being skipped.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import product
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from werkzeug.routing import Rule

from navigator.core.extensions import db
from navigator.referrals.models import Referral
from navigator.sms.models import CallbackTask
from tests.builders import api_key_for, console_user, load_directory, organisation, service
from tests.console.conftest import csrf_token, post_form
from tests.sms.conftest import HOME_NUMBER, Live, care_home, care_home_call, wait_for

MARKS: dict[str, str] = {}


def mark(field: str) -> str:
    """The marker for one field: distinct per field, so a failure names the field that leaked.
    Lower case, because e-mail addresses are stored lower-cased."""
    MARKS[field] = f'<b id="xss-{field}">\'&"</b>'
    return MARKS[field]


def escaped(field: str) -> str:
    return str(escape(MARKS[field]))


# GET rules of the console that are not pages.
NOT_PAGES = {"console.static": "the console's stylesheet, scripts and images"}

# Every query parameter a console page reads, each set to a marker.
QUERY_NAMES = (
    "q", "postcode", "radius_km", "need", "service_type", "place", "sector", "caller_role",
    "age", "sex", "open_at", "open_now", "include_unavailable", "checks", "from", "to",
    "next", "nhs_number", "case_ref", "date", "status",
)  # fmt: skip

# Where each field is shown: its escaped marker must be on the page of these endpoints.
SHOWN: dict[str, set[str]] = {
    "org-name": {"console.service", "console.call"},
    "service-name": {"console.service", "console.directory", "console.call", "console.calls"},
    "service-description": {"console.service", "console.service_edit"},
    "referral-info": {"console.service", "console.service_edit", "console.call"},
    "care-home-name": {"console.worklist", "console.new_call"},
    "admin-email": {"console.users", "console.new_call", "console.call", "console.referral"},
    "integrator-key": {"console.call", "console.referral"},
    "api-case-ref": {"console.call", "console.calls"},
    "api-referral-reason": {"console.referral"},
    "api-referral-notes": {"console.referral"},
    "api-capacity-note": {"console.service", "console.call"},
    "provider-key": {"console.referral", "console.service"},
    "api-referral-note": {"console.referral", "console.call"},
    "api-referral-outcome": {"console.referral", "console.call"},
    "api-dtoc-site": {"console.dtoc_board", "console.dtoc_episode"},
    "api-dtoc-patient-name": {"console.dtoc_board", "console.dtoc_episode"},
    "sms-reply-open": {"console.worklist", "console.call"},
    "sms-reply-done": {"console.call"},
    "callback-outcome": {"console.call"},
    "console-case-ref": {"console.call", "console.calls"},
    "console-patient-name": {"console.call"},
    "handover-patient-name": {"console.call"},
    "override-reason": {"console.call", "console.dashboard"},
    "call-notes": {"console.referral"},
    "console-referral-note": {"console.referral"},
    "console-dtoc-name": {"console.dtoc_episode"},
    "console-dtoc-site": {"console.dtoc_episode"},
    "console-capacity-note": {"console.service"},
    "edited-description": {"console.service", "console.service_edit"},
    "query-q": {"console.directory"},
    "query-from": {"console.dashboard"},
    "query-to": {"console.dashboard"},
    "query-postcode": {"console.directory"},
}


def _directory() -> None:
    load_directory(
        organisations=[organisation(id="test-trust", ods_code="RC9", name=mark("org-name"))],
        services=[
            service(
                id="ucr",
                name=mark("service-name"),
                description=mark("service-description"),
                referral={"method": "phone", "info": mark("referral-info")},
            ),
            service(id="ucr-two", name="UCR Two", postcode="MK40 1AA", lat=52.2, lng=-0.5),
            care_home(name=mark("care-home-name")),
        ],
    )


def _api(client: FlaskClient, keys: dict[str, dict[str, str]]) -> dict[str, str]:
    """Everything the API lets a client write, each free-text field a marker; returns ids."""

    def ok(response: Any) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return dict(response.json)

    navigation = ok(
        client.post(
            "/api/v1/navigations",
            json=care_home_call(case_ref=mark("api-case-ref")),
            headers=keys["integrator"],
        )
    )
    ok(
        client.post(
            "/api/v1/patients",
            json={"nhs_number": "9434765919", "name": mark("api-patient-name")},
            headers=keys["integrator"],
        )
    )
    referral = ok(
        client.post(
            "/api/v1/referrals",
            json={
                "service_id": "ucr",
                "navigation_id": navigation["id"],
                "patient": {"name": mark("api-referral-patient-name")},
                "reason": mark("api-referral-reason"),
                "notes": mark("api-referral-notes"),
                "urgency": "urgent",
                "consent": True,
            },
            headers=keys["integrator"],
        )
    )
    for body in (
        {"status": "accepted", "note": mark("api-referral-note")},
        {"status": "completed", "outcome": mark("api-referral-outcome")},
    ):
        ok(client.patch(f"/api/v1/referrals/{referral['id']}", json=body, headers=keys["provider"]))
    episode = ok(
        client.post(
            "/api/v1/dtoc",
            json={
                "patient": {
                    "name": mark("api-dtoc-patient-name"),
                    "date_of_birth": "1941-03-02",
                    "postcode": "MK42 9DJ",
                },
                "provider_ods": "RC9",
                "site": mark("api-dtoc-site"),
                "care_type": "acute",
                "clinically_ready_at": "2026-11-20T10:00:00Z",
                "reason": "E",
                "responsible": "social_care",
            },
            headers=keys["navigator"],
        )
    )
    ok(
        client.put(
            "/api/v1/services/ucr/capacity",
            json={"status": "amber", "note": mark("api-capacity-note")},
            headers=keys["provider"],
        )
    )
    ok(
        client.post(
            "/api/v1/transitions",
            json={
                "event_id": "escaping-1",
                "type": "ae_attendance",
                "occurred_at": "2026-11-01T10:00:00Z",
                "patient": {"name": mark("api-transition-patient-name")},
                "organisation": "RC9",
                "specialty": mark("api-specialty"),
            },
            headers=keys["integrator"],
        )
    )
    return {"navigation": navigation["id"], "referral": referral["id"], "episode": episode["id"]}


def _sms_replies(live: Live) -> None:
    """The care home's follow-up goes out through the real twilio client; it answers twice in
    words (signed inbound webhooks), so two call-back tasks open."""
    live.make_due()
    live.dispatch()
    wait_for(lambda: set(live.statuses()) == {"delivered"})
    assert live.fake.reply(HOME_NUMBER, mark("sms-reply-done")) == 200
    assert live.fake.reply(HOME_NUMBER, mark("sms-reply-open")) == 200


def _console(client: FlaskClient, app: Flask, api_navigation: str) -> dict[str, str]:
    """Everything the console's forms let a signed-in user write; returns new record ids."""

    def redirected(response: Any) -> str:
        assert response.status_code == 302, response.get_data(as_text=True)
        return urlsplit(response.location).path

    call = redirected(
        post_form(
            client,
            "/calls/new",
            {
                "caller_role": "professional",
                "caller_name": mark("caller-name"),
                "caller_phone": mark("caller-phone"),
                "need": "fall_no_injury",
                "age": "88",
                "postcode": "MK42 9DJ",
                "name": mark("console-patient-name"),
                "case_ref": mark("console-case-ref"),
                "notes": mark("call-notes"),
            },
        )
    )
    navigation = call.rsplit("/", 1)[1]
    # Accepted, so its page shows the recommended service (and its capacity note); a second
    # call, with no patient yet, is overridden and names the patient at the hand-over (after
    # an override the page shows the chosen service instead, issue 13 §8).
    redirected(post_form(client, f"{call}/decision", {"action": "accept"}, page=call))
    overridden = redirected(
        post_form(
            client,
            "/calls/new",
            {
                "caller_role": "professional",
                "need": "fall_no_injury",
                "age": "88",
                "postcode": "MK42 9DJ",
            },
            page="/calls/new",
        )
    )
    redirected(
        post_form(
            client,
            f"{overridden}/decision",
            {
                "action": "override",
                "service_id": "ucr-two",
                "override_reason": mark("override-reason"),
                "patient_name": mark("handover-patient-name"),
            },
            page=overridden,
        )
    )
    api_call = f"/calls/{api_navigation}"  # its patient is its API referral's: none is typed
    redirected(post_form(client, f"{api_call}/decision", {"action": "accept"}, page=api_call))
    with app.app_context():
        referral = db.session.scalars(
            select(Referral.id).where(Referral.navigation_id == navigation)
        ).one()
        db.session.remove()
    page = f"/referrals/{referral}"
    redirected(
        post_form(
            client,
            f"{page}/status",
            {"status": "accepted", "note": mark("console-referral-note")},
            page=page,
        )
    )
    episode = redirected(
        post_form(
            client,
            "/dtoc",
            {
                "name": mark("console-dtoc-name"),
                "date_of_birth": "15/3/1940",
                "postcode": "MK42 9DJ",
                "provider_ods": "RC9",
                "site": mark("console-dtoc-site"),
                "care_type": "acute",
                "clinically_ready_at": "2026-11-20T10:00",
                "reason": "E",
                "responsible": "social_care",
            },
        )
    )
    redirected(
        post_form(
            client,
            episode,
            {"transferred_at": "2026-11-22T11:00", "destination": mark("console-destination")},
        )
    )
    redirected(
        post_form(
            client,
            "/directory/ucr-two/capacity",
            {"status": "amber", "note": mark("console-capacity-note")},
            page="/directory/ucr-two",
        )
    )
    redirected(
        post_form(
            client,
            "/directory/ucr-two/edit",
            {
                "name": "UCR Two",
                "description": mark("edited-description"),
                "status": "active",
                "referral.method": "phone",
            },
        )
    )
    # Not a possible email address, so the form refuses it: the refusal echoes it, escaped.
    refused = post_form(
        client,
        "/users",
        {
            "email": mark("user-email") + "@nhs.net",
            "role": "navigator",
            "password": "a-long-test-password",
        },
    )
    assert refused.status_code == 422
    assert escaped("user-email") in assert_only_escaped("/users (refused)", refused)
    with app.app_context():
        task = db.session.scalars(select(CallbackTask.id).order_by(CallbackTask.id)).first()
        db.session.remove()
    redirected(
        post_form(
            client,
            f"/worklist/{task}",
            {"outcome": mark("callback-outcome")},
            page="/worklist",
        )
    )
    return {
        "navigation": navigation,
        "overridden": overridden.rsplit("/", 1)[1],
        "referral": referral,
        "episode": episode.rsplit("/", 1)[1],
    }


def console_pages(app: Flask) -> list[Rule]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("console.")
            and "GET" in (rule.methods or ())
            and rule.endpoint not in NOT_PAGES
        ),
        key=lambda rule: rule.rule,
    )


def assert_only_escaped(path: str, response: Any) -> str:
    assert response.status_code < 500, f"{path}: {response.status_code}"
    body = str(response.get_data(as_text=True))
    leaked = [field for field, marker in MARKS.items() if marker in body]
    assert not leaked, f"{path} outputs {leaked} as raw HTML"
    assert '<b id="xss-' not in body and "'&\"</b>" not in body, f"{path}: part of a marker raw"
    return body


@pytest.fixture
def admin(live: Live) -> FlaskClient:
    """An admin whose own e-mail address is a marker (it shows in the header and as the
    author of everything they do), signed in through the real form."""
    with live.app.app_context():
        email, password = console_user(role="admin", email=mark("admin-email") + "@nhs.net")
        db.session.remove()
    client = live.app.test_client()
    signed_in = post_form(client, "/login", {"email": email, "password": password})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    return client


def test_every_console_page_shows_outsiders_text_only_escaped(
    live: Live, admin: FlaskClient
) -> None:
    app = live.app
    with app.app_context():
        _directory()
        keys = {
            "integrator": api_key_for(role="integrator", name=mark("integrator-key")),
            "navigator": api_key_for(role="navigator"),
            "provider": api_key_for(
                role="provider", organisation_ods="RC9", name=mark("provider-key")
            ),
        }
        db.session.remove()
    headers = {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
    api_ids = _api(app.test_client(), headers)
    _sms_replies(live)
    console_ids = _console(admin, app, api_ids["navigation"])
    ids = {
        "navigation_id": [
            api_ids["navigation"],
            console_ids["navigation"],
            console_ids["overridden"],
        ],
        "referral_id": [api_ids["referral"], console_ids["referral"]],
        "episode_id": [api_ids["episode"], console_ids["episode"]],
        "service_id": ["ucr", "ucr-two", "test-care-home"],
    }
    query = {name: mark(f"query-{name.replace('_', '-')}") for name in QUERY_NAMES}
    adapter = app.url_map.bind("localhost")
    seen: dict[str, set[str]] = defaultdict(set)
    pages = console_pages(app)
    assert {"console.call", "console.worklist", "console.dtoc_episode"} <= {
        rule.endpoint for rule in pages
    }
    for rule in pages:
        names = sorted(rule.arguments)
        unfilled = [name for name in names if name not in ids]
        assert not unfilled, f"{rule.rule}: add records for {unfilled} to this walk"
        for values in product(*(ids[name] for name in names)):
            args = dict(zip(names, values, strict=True))
            for path in (
                adapter.build(rule.endpoint, args),
                adapter.build(rule.endpoint, args | query),
            ):
                body = assert_only_escaped(path, admin.get(path))
                for field in MARKS:
                    if escaped(field) in body:
                        seen[field].add(rule.endpoint)
            # The URL itself: every path parameter a marker (the 404 page, issue 12's example).
            if names:
                hostile = adapter.build(rule.endpoint, {name: MARKS["query-q"] for name in names})
                response = admin.get(hostile)
                assert response.status_code == 404, hostile
                assert_only_escaped(hostile, response)
    missing = {
        field: sorted(endpoints - seen[field])
        for field, endpoints in SHOWN.items()
        if endpoints - seen[field]
    }
    assert not missing, f"markers not shown (escaped) where their field is shown: {missing}"


def test_a_failed_sign_in_echoes_the_email_escaped(client: FlaskClient) -> None:
    """The sign-in page shows back what was typed; anyone on the network can type it."""
    email = mark("login-email")
    response = client.post(
        "/login?next=" + mark("login-next"),
        data={"csrf_token": csrf_token(client, "/login"), "email": email, "password": "wrong"},
    )
    assert response.status_code == 401
    assert escaped("login-email") in assert_only_escaped("/login", response)


@pytest.mark.usefixtures("bedford_directory")
def test_nhsuk_components_still_render_the_markup_the_console_builds(
    app: Flask, client: FlaskClient
) -> None:
    """Autoescaping must not break the NHS.UK macros' `html` params that the pages build
    themselves: the sign-out form in the header, the 999 card, the safety-netting callout."""
    with app.app_context():
        email, password = console_user(role="navigator")
        db.session.remove()
    post_form(client, "/login", {"email": email, "password": password})
    emergency = post_form(
        client,
        "/calls/new",
        {"caller_role": "professional", "red_flags": ["chest_pain"], "postcode": "MK42 9DJ"},
        page="/calls/new",
    )
    assert emergency.status_code == 302  # a red flag is recorded however unfinished (issue 13)
    page = client.get(emergency.location).get_data(as_text=True)
    assert '<form method="post" action="/logout" class="nhsuk-header__account-form">' in page
    assert '<p class="app-phone-large">999</p>' in page
    call = post_form(
        client,
        "/calls/new",
        {"caller_role": "professional", "need": "fall_no_injury", "age": "88"}
        | {"postcode": "MK42 9DJ"},
    )
    assert call.status_code == 302, call.get_data(as_text=True)
    page += client.get(call.location).get_data(as_text=True)
    assert '<p id="safety-netting">' in page
    assert "&lt;form" not in page and "&lt;p" not in page
