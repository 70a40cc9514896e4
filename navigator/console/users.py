"""Console accounts, for admins: who can sign in, with which role; create and unlock."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from navigator.auth.models import USER_ROLES, User
from navigator.auth.passwords import create_user
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
        user.failed_logins, user.locked_until = 0, None
        email = user.email
    flash(f"{email} is unlocked.", "info")
    return redirect(url_for("console.users"))
