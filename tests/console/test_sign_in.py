"""Signing in: argon2 passwords, lockout, CSRF, idle timeout, server-side sessions that sign-out
and a new password end (a copied cookie replayed afterwards gets the sign-in page and does not
renew the session), and failed sign-ins throttled per source address across accounts, except
for a browser holding a device cookie for the account it signs in to. Issue 12 §3; OWASP ASVS
3.3.1 (logout invalidates the session), 3.3.2 (idle timeout), 3.2.1 (new session token at
sign-in), 2.2.1 (anti-automation: password spraying); OWASP "Slow Down Online Guessing Attacks
with Device Cookies"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from navigator.auth.device_cookies import DEVICE_COOKIE, issue_device_cookie
from navigator.auth.login import MAX_FAILED_LOGINS
from navigator.auth.models import AuthFailure, ConsoleSession, User
from navigator.auth.passwords import set_password
from navigator.auth.throttle import API_KEY, CONSOLE
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from tests.builders import console_user
from tests.console.conftest import csrf_token, post_form, replay, session_cookie


def _sessions(app: Flask) -> list[ConsoleSession]:
    with app.app_context():
        rows = list(db.session.scalars(select(ConsoleSession).order_by(ConsoleSession.created_at)))
        db.session.remove()
    return rows


def _last_seen(app: Flask) -> list[datetime]:
    return [row.last_seen_at for row in _sessions(app)]


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        email, _ = console_user(role="navigator")
    response = post_form(client, "/login", {"email": email, "password": "not-the-password"})
    assert response.status_code == 401
    assert "email address or password is not right" in response.text
    unknown = post_form(client, "/login", {"email": "nobody@x.example", "password": "whatever1"})
    assert unknown.status_code == 401
    assert client.get("/calls/new").status_code == 302  # still signed out


def test_right_password_signs_in_and_logout_signs_out(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    response = post_form(client, "/login", {"email": email.upper(), "password": password})
    assert response.status_code == 302
    assert response.location.endswith("/calls/new")
    assert client.get("/calls/new").status_code == 200
    post_form(client, "/logout", {}, page="/calls/new")
    assert client.get("/calls/new").status_code == 302


def test_account_locks_after_repeated_failures_even_for_the_right_password(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    for _ in range(MAX_FAILED_LOGINS):
        post_form(client, "/login", {"email": email, "password": "wrong-password"})
    locked = post_form(client, "/login", {"email": email, "password": password})
    assert locked.status_code == 401
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and user.locked_until is not None


def test_forms_without_a_csrf_token_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    assert client.post("/login", data={"email": email, "password": password}).status_code == 400
    assert client.get("/calls/new").status_code == 302


def test_every_console_page_needs_sign_in(client: FlaskClient) -> None:
    for path in ("/calls/new", "/calls", "/referrals", "/directory", "/dtoc", "/dashboard"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.location


def test_idle_session_is_signed_out(sign_in: Callable[[str], FlaskClient], app: Flask) -> None:
    client = sign_in("navigator")
    cookie = session_cookie(client)
    idle = timedelta(minutes=app.config["CONSOLE_IDLE_MINUTES"], seconds=5)
    with app.app_context(), transaction(db.session):
        for row in db.session.scalars(select(ConsoleSession)):
            row.created_at -= idle
            row.last_seen_at -= idle
    seen = _last_seen(app)
    response = client.get("/calls")
    assert response.status_code == 302 and "/login" in response.location
    assert "without activity" in client.get(response.location).text
    assert client.get("/calls").status_code == 302
    for _ in range(2):  # the copied cookie stays dead, and does not revive the session
        assert replay(app, cookie).get("/calls").status_code == 302
    assert _last_seen(app) == seen
    assert [row.ended_reason for row in _sessions(app)] == ["idle"]


def test_a_copied_cookie_works_until_sign_out_and_never_after(
    sign_in: Callable[[str], FlaskClient], app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault in issue 12: the old cookie still worked after sign-out and renewed its idle
    timer on each replay."""
    monkeypatch.setitem(app.config, "CONSOLE_SESSION_TOUCH_SECONDS", 0)  # every request writes
    client = sign_in("navigator")
    cookie = session_cookie(client)
    before = _last_seen(app)
    assert replay(app, cookie).get("/calls").status_code == 200  # the replay itself is real
    assert _last_seen(app) > before  # and a live session's timer does move
    post_form(client, "/logout", {}, page="/calls/new")
    ended = _sessions(app)
    assert [row.ended_reason for row in ended] == ["signed_out"]
    for path in ("/calls", "/calls/new", "/referrals"):
        response = replay(app, cookie).get(path)
        assert response.status_code == 302 and "/login" in response.location, path
    assert _last_seen(app) == [row.last_seen_at for row in ended]  # not renewed
    assert _sessions(app)[0].ended_at == ended[0].ended_at


def test_each_sign_in_starts_a_new_server_side_session(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    anonymous = (client.get("/login"), session_cookie(client))[1]
    post_form(client, "/login", {"email": email, "password": password})
    first = session_cookie(client)
    assert first != anonymous
    other = app.test_client()
    post_form(other, "/login", {"email": email, "password": password})
    assert session_cookie(other) != first
    assert len(_sessions(app)) == 2  # two browsers, two sessions, both live
    assert client.get("/calls").status_code == 200 and other.get("/calls").status_code == 200
    assert replay(app, anonymous).get("/calls").status_code == 302  # no fixation


def test_changing_the_password_ends_existing_sessions(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    cookie = session_cookie(client)
    seen = _last_seen(app)
    with app.app_context(), transaction(db.session):
        user = db.session.scalar(select(User).where(User.role == "navigator"))
        assert user is not None
        set_password(user, "another-long-password")
    assert client.get("/calls").status_code == 302
    assert replay(app, cookie).get("/calls").status_code == 302
    assert [row.ended_reason for row in _sessions(app)] == ["password_changed"]
    assert _last_seen(app) == seen


SPRAYER, NEIGHBOUR = "203.0.113.99", "198.51.100.7"


def test_password_spraying_from_one_address_is_throttled_with_429(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failures count per source across accounts, so one password tried on many accounts is
    slowed even though no account reaches its own lockout."""
    monkeypatch.setitem(app.config, "AUTH_THROTTLE", {API_KEY: (20, 300), CONSOLE: (3, 300)})
    with app.app_context():
        email, password = console_user(role="navigator")
    client.environ_base["REMOTE_ADDR"] = SPRAYER
    for n in range(3):
        guess = {"email": f"person{n}@nhs.example", "password": "Winter2026!"}
        assert post_form(client, "/login", guess).status_code == 401
    throttled = post_form(client, "/login", {"email": email, "password": password})
    assert throttled.status_code == 429
    wait = int(throttled.headers["Retry-After"])
    assert 0 < wait <= 300
    assert "too many failed sign-in attempts from your network" in throttled.text
    assert "Wait 5 minutes" in throttled.text
    assert client.get("/calls").status_code == 302  # the right password did not sign in
    with app.app_context():
        failures = db.session.scalar(select(func.count()).select_from(AuthFailure))
        assert failures == 3  # the refused attempt is not counted
        db.session.remove()
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = NEIGHBOUR
    signed = post_form(neighbour, "/login", {"email": email, "password": password})
    assert signed.status_code == 302 and neighbour.get("/calls").status_code == 200


def test_sign_in_never_redirects_off_site(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=//evil.example/x",
        data={"csrf_token": token, "email": email, "password": password},
    )
    assert response.location.endswith("/calls/new")


def test_console_pages_are_not_cached_or_framed(sign_in: Callable[[str], FlaskClient]) -> None:
    response = sign_in("navigator").get("/calls")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# Device cookies: OWASP, "Slow Down Online Guessing Attacks with Device Cookies"
# (owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies). Issue 12 §3:
# "A successful request is never throttled by another client's failures", yet navigators behind
# one NHS NAT share an address with whoever is guessing.
NAT = "203.0.113.40"


def _colleague_browser(app: Flask, email: str, password: str) -> FlaskClient:
    """A navigator's browser behind the NAT that has signed in once (so holds a device cookie)
    and signed out again."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = NAT
    assert post_form(browser, "/login", {"email": email, "password": password}).status_code == 302
    post_form(browser, "/logout", {}, page="/calls/new")
    assert browser.get("/calls").status_code == 302
    return browser


def _outsider_throttles_the_nat(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "AUTH_THROTTLE", {API_KEY: (20, 300), CONSOLE: (3, 300)})
    outsider = app.test_client()
    outsider.environ_base["REMOTE_ADDR"] = NAT
    for n in range(3):
        guess = {"email": f"person{n}@nhs.example", "password": "Winter2026!"}
        assert post_form(outsider, "/login", guess).status_code == 401
    assert (
        post_form(outsider, "/login", {"email": "x@nhs.example", "password": "y"}).status_code
        == 429
    )


def _device_cookie(browser: FlaskClient) -> str:
    cookie = browser.get_cookie(DEVICE_COOKIE, path="/login")
    assert cookie is not None, "no device cookie"
    return cookie.value


def test_sign_in_sets_a_long_lived_httponly_strict_device_cookie_for_the_sign_in_page(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    response = post_form(client, "/login", {"email": email, "password": password})
    header = next(
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith(f"{DEVICE_COOKIE}=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "max-age", "path"} <= attributes
    assert "SameSite=Strict" in header and "Path=/login" in header
    assert f"Max-Age={app.config['CONSOLE_DEVICE_COOKIE_DAYS'] * 86400}" in header
    assert "secure" not in attributes  # plain-http test server; https below


def test_the_device_cookie_is_secure_over_https(app: Flask) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    browser = app.test_client()
    form = {"csrf_token": csrf_token(browser, "/login"), "email": email, "password": password}
    response = browser.post(  # over https, Flask-WTF also checks the Referer is this site
        "/login",
        data=form,
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302
    header = next(
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith(f"{DEVICE_COOKIE}=")
    )
    assert "Secure" in header.split("; ")


def test_a_known_browser_signs_in_from_a_throttled_address(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's fault: after an outsider's 20 failures, a navigator behind the same address
    got 429 for the right password. A browser with a device cookie for the account is exempt."""
    with app.app_context():
        email, password = console_user(role="navigator")
    browser = _colleague_browser(app, email, password)
    _outsider_throttles_the_nat(app, monkeypatch)
    signed = post_form(browser, "/login", {"email": email, "password": password})
    assert signed.status_code == 302 and browser.get("/calls").status_code == 200
    # The same cookie copied into a fresh browser works as well: the device is the cookie.
    copy = app.test_client()
    copy.environ_base["REMOTE_ADDR"] = NAT
    copy.set_cookie(DEVICE_COOKIE, _device_cookie(browser), path="/login")
    assert post_form(copy, "/login", {"email": email, "password": password}).status_code == 302
    # Without the cookie the address is still throttled.
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = NAT
    assert post_form(stranger, "/login", {"email": email, "password": password}).status_code == 429


def test_a_device_cookie_for_another_account_does_not_lift_the_throttle(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
        other_email, other_password = console_user(role="supervisor")
    browser = _colleague_browser(app, other_email, other_password)
    _outsider_throttles_the_nat(app, monkeypatch)
    refused = post_form(browser, "/login", {"email": email, "password": password})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert browser.get("/calls").status_code == 302
    # The account it does name still signs in.
    assert (
        post_form(browser, "/login", {"email": other_email, "password": other_password}).status_code
        == 302
    )


def test_a_forged_or_expired_device_cookie_does_not_lift_the_throttle(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        long_ago = utcnow() - timedelta(days=app.config["CONSOLE_DEVICE_COOKIE_DAYS"], hours=1)
        expired = issue_device_cookie(app.config["SECRET_KEY"], user, None, long_ago)
        forged = issue_device_cookie("not-the-server-secret", user, None, utcnow())
        db.session.remove()
    browser = _colleague_browser(app, email, password)
    real = _device_cookie(browser)
    tampered = real[:-2] + ("AA" if real[-2:] != "AA" else "BB")
    _outsider_throttles_the_nat(app, monkeypatch)
    for cookie in (expired, forged, tampered, "garbage", ""):
        attempt = app.test_client()
        attempt.environ_base["REMOTE_ADDR"] = NAT
        attempt.set_cookie(DEVICE_COOKIE, cookie, path="/login")
        response = post_form(attempt, "/login", {"email": email, "password": password})
        assert response.status_code == 429, cookie


def test_a_new_password_makes_the_old_device_cookie_worthless(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    browser = _colleague_browser(app, email, password)
    with app.app_context(), transaction(db.session):
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        set_password(user, password)  # even the same password: argon2 salts afresh
    _outsider_throttles_the_nat(app, monkeypatch)
    refused = post_form(browser, "/login", {"email": email, "password": password})
    assert refused.status_code == 429


def test_a_known_browser_still_meets_the_account_lockout(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The device cookie lifts only the per-source throttle: a stolen one gives its holder the
    account's 5 guesses per lockout, no more, and those failures are not charged to the NAT."""
    with app.app_context():
        email, password = console_user(role="navigator")
    browser = _colleague_browser(app, email, password)
    _outsider_throttles_the_nat(app, monkeypatch)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuthFailure))
        db.session.remove()
    for _ in range(MAX_FAILED_LOGINS):
        wrong = post_form(browser, "/login", {"email": email, "password": "wrong-password"})
        assert wrong.status_code == 401  # answered, not throttled
    locked = post_form(browser, "/login", {"email": email, "password": password})
    assert locked.status_code == 401 and browser.get("/calls").status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and user.locked_until is not None
        assert db.session.scalar(select(func.count()).select_from(AuthFailure)) == before
        db.session.remove()
