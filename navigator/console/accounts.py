"""Signing in and out of the console."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from navigator.auth.login import LOCKOUT, MAX_FAILED_LOGINS, check_login
from navigator.console.access import console_user
from navigator.console.blueprint import bp
from navigator.db import utcnow
from navigator.extensions import current_session

FAILED = (
    "The email address or password is not right, or the account is locked. After "
    f"{MAX_FAILED_LOGINS} failed attempts an account is locked for "
    f"{int(LOCKOUT.total_seconds() // 60)} minutes."
)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("console.new_call")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("console.new_call"))
    errors: dict[str, str] = {}
    email = request.form.get("email", "").strip()
    if request.method == "POST":
        password = request.form.get("password", "")
        if not email:
            errors["email"] = "Enter your email address"
        if not password:
            errors["password"] = "Enter your password"  # noqa: S105 (a message)
        if not errors:
            session_ = current_session()
            user = check_login(session_, email, password, utcnow())
            session_.commit()  # failed attempts count even though sign-in fails
            if user is not None:
                session.clear()  # a fresh session on sign-in: no fixation
                login_user(console_user(user))
                return redirect(_safe_next(request.args.get("next")))
            errors["password"] = FAILED
    status = 401 if errors and request.method == "POST" else 200
    return render_template("console/login.jinja", email=email, errors=errors), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("console.login"))


@bp.route("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("console.new_call"))
