"""Signing in and out of the console."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from navigator.auth.device_cookies import DEVICE_COOKIE, device_vouches_for, issue_device_cookie
from navigator.auth.login import LOCKOUT, MAX_FAILED_LOGINS, check_login
from navigator.auth.sessions import SIGNED_OUT, end_session, start_session
from navigator.auth.throttle import (
    CONSOLE,
    limit_from_config,
    record_failure,
    retry_after,
    source_address,
)
from navigator.console.access import console_user, me
from navigator.console.blueprint import bp
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.web.access import public

FAILED = (
    "The email address or password is not right, or the account is locked. After "
    f"{MAX_FAILED_LOGINS} failed attempts an account is locked for "
    f"{int(LOCKOUT.total_seconds() // 60)} minutes."
)


def throttled_message(wait_seconds: int) -> str:
    minutes = max(1, -(-wait_seconds // 60))  # rounded up: never tell people to come back early
    return (
        "There have been too many failed sign-in attempts from your network. Wait "
        f"{minutes} minute{'s' if minutes != 1 else ''}, then try again. If you did not make "
        "these attempts, tell your system administrator."
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("console.new_call")


@bp.route("/login", methods=["GET", "POST"])
@public("the sign-in page: throttled per source address, locked per account")
def login() -> ResponseReturnValue:
    """Sign in. Failed attempts count against the account (lockout) and against the source
    address, whichever account they name (`AUTH_THROTTLE_CONSOLE_*`): a source over its limit
    gets 429 with `Retry-After` for every attempt, the right password included, so spraying
    one password over many accounts learns nothing more until the wait is over.

    Except from a known browser (OWASP device cookies, `navigator.auth.device_cookies`): an attempt
    that presents a valid device cookie for the account it names is neither refused by nor
    counted against the source's throttle, so colleagues behind one NAT are not locked out by
    an outsider's failures. The account's lockout applies to it as to any attempt. Each
    successful sign-in sets a fresh device cookie.
    """
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("console.new_call"))
    errors: dict[str, str] = {}
    email = request.form.get("email", "").strip()
    if request.method == "POST":
        db, now = current_session(), utcnow()
        source = source_address(request.remote_addr)
        limit = limit_from_config(current_app.config, CONSOLE)
        secret = current_app.config["SECRET_KEY"]
        device = request.cookies.get(DEVICE_COOKIE)
        known = bool(email) and device_vouches_for(
            db, device, email, secret, now, _device_max_age()
        )
        wait = None if known else retry_after(db, source, CONSOLE, limit, now)
        if wait is not None:
            page = render_template(
                "console/login.jinja", email=email, errors={}, throttled=throttled_message(wait)
            )
            return page, 429, {"Retry-After": str(wait)}
        password = request.form.get("password", "")
        if not email:
            errors["email"] = "Enter your email address"
        if not password:
            errors["password"] = "Enter your password"  # noqa: S105 (a message)
        if not errors:
            # Committed whichever way it goes: failed attempts count even though sign-in fails.
            with transaction(db):
                user = check_login(db, email, password, now)
                if user is None:
                    if not known:  # a known browser's failures count only towards the lockout
                        record_failure(db, source, CONSOLE, limit, now)
                else:
                    signed_in = console_user(user, start_session(db, user.id, now))
            if user is None:
                errors["password"] = FAILED
            else:
                session.clear()  # a fresh session on sign-in: no fixation
                login_user(signed_in)
                response = redirect(_safe_next(request.args.get("next")))
                _set_device_cookie(response, issue_device_cookie(secret, user, device, now))
                return response
    status = 401 if errors and request.method == "POST" else 200
    return render_template("console/login.jinja", email=email, errors=errors), status


def _device_max_age() -> timedelta:
    return timedelta(days=int(current_app.config["CONSOLE_DEVICE_COOKIE_DAYS"]))


def _set_device_cookie(response: Response, value: str) -> None:
    """Long-lived, HttpOnly (no script reads it), SameSite=Strict (no other site's form sends
    it), sent only to the sign-in page, and Secure over HTTPS (or when session cookies are)."""
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(_device_max_age().total_seconds()),
        path=url_for("console.login"),
        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Strict",
    )


@bp.route("/logout", methods=["POST"])
@public("signing out needs no sign-in: ends the session sent, if any; CSRF-checked POST")
def logout() -> ResponseReturnValue:
    """Sign out: the server-side session is ended, so the cookie is worthless from now on,
    even to someone who copied it."""
    if current_user.is_authenticated:
        with transaction(current_session()):
            end_session(current_session(), me().session_token, SIGNED_OUT, utcnow())
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("console.login"))


@bp.route("/")
@public("only redirects to the new-call page, which requires sign-in")
def home() -> ResponseReturnValue:
    return redirect(url_for("console.new_call"))
