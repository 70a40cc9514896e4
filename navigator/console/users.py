"""Console accounts, for admins: who can sign in, with which role; create, unlock, and set a
new password. Unlocking and a new password end every console session the user has."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from navigator.auth.login import unlock
from navigator.auth.models import USER_ROLES, User
from navigator.auth.passwords import create_user, set_password
from navigator.console.access import requires
from navigator.console.blueprint import bp
from navigator.console.forms import form_values, plain_options
from navigator.db import transaction, utcnow
from navigator.extensions import current_session


def _page(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    users = list(current_session().scalars(select(User).order_by(User.email)))
    return render_template(
        "console/users.jinja",
        title="Users",
        users=users,
        now=utcnow(),
        roles=plain_options(USER_ROLES),
        emails=[(user.email, user.email) for user in users],
        values=values,
        errors=errors,
    ), status


@bp.route("/users")
@requires("manage_users")
def users() -> ResponseReturnValue:
    return _page({}, {})


@bp.route("/users", methods=["POST"])
@requires("manage_users")
def user_create() -> ResponseReturnValue:
    values = form_values()
    errors: dict[str, str] = {}
    email, role = values.get("email", ""), values.get("role", "")
    if "@" not in email:
        errors["email"] = "Enter an email address, like name@nhs.net"
    if role not in USER_ROLES:
        errors["role"] = "Choose a role"
    if not errors:
        try:
            with transaction(current_session()):
                create_user(
                    current_session(),
                    email=email,
                    password=request.form.get("password", ""),
                    role=role,
                )
        except ValueError as exc:  # too short a password, or the email is taken
            field = "password" if "password" in str(exc) else "email"
            errors[field] = str(exc).capitalize()
    if errors:
        return _page({"email": email, "role": role}, errors, 422)
    flash(f"{email.lower()} can now sign in as {role}.", "info")
    return redirect(url_for("console.users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@requires("manage_users")
def user_unlock(user_id: int) -> ResponseReturnValue:
    with transaction(current_session()):
        user = current_session().get(User, user_id)
        if user is None:
            flash("No such user.", "info")
            return redirect(url_for("console.users"))
        unlock(current_session(), user, utcnow())
        email = user.email
    flash(f"{email} is unlocked and signed out everywhere.", "info")
    return redirect(url_for("console.users"))


@bp.route("/users/password", methods=["POST"])
@requires("manage_users")
def user_set_password() -> ResponseReturnValue:
    """An admin sets a new password for a user (e.g. forgotten, or possibly known to someone
    else): the account is unlocked and every session the user has ends."""
    values = form_values()
    email = values.get("reset_email", "").lower()
    errors: dict[str, str] = {}
    with transaction(current_session()):
        user = current_session().scalar(select(User).where(User.email == email))
        if user is None:
            errors["reset_email"] = "Choose the user who needs a new password"
        else:
            try:
                set_password(user, request.form.get("new_password", ""))
            except ValueError as exc:  # too short
                errors["new_password"] = str(exc).capitalize()
    if errors:
        return _page({"reset_email": email}, errors, 422)
    flash(f"{email} has a new password and is signed out everywhere.", "info")
    return redirect(url_for("console.users"))
