"""Console accounts, for admins: who can sign in, with which role; create, unlock, and set a
new password. Unlocking and a new password end every console session the user has."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from navigator.auth.login import unlock
from navigator.auth.models import USER_ROLES, User
from navigator.auth.passwords import create_user, set_password
from navigator.console.access import requires
from navigator.console.blueprint import bp
from navigator.console.formatting import label
from navigator.console.forms import form_values, load_or_errors
from navigator.core.db import retry_on_conflict, transaction, utcnow
from navigator.core.extensions import current_session

EMAIL_MESSAGE = "Enter an email address, like name@nhs.net"


class UserCreateSchema(Schema):
    """The new-user form. Each field fits its column: the email `User.email` (254, RFC
    5321's longest usable address), so too long is a form error naming the field, never a
    database error (issue 12 §5). The password is only hashed, never stored as typed; its
    bound keeps hashing cheap and is far above OWASP ASVS 2.1.2's 64 characters."""

    email = fields.String(
        required=True,
        validate=[
            validate.Length(
                min=1, max=254, error="Enter an email address of at most {max} characters"
            ),
            validate.Email(error=EMAIL_MESSAGE),
        ],
        error_messages={"required": EMAIL_MESSAGE},
    )
    role = fields.String(
        required=True,
        validate=validate.OneOf(USER_ROLES, error="Choose a role"),
        error_messages={"required": "Choose a role"},
    )
    password = fields.String(
        load_default="",
        validate=validate.Length(max=1024, error="Enter a password of at most {max} characters"),
    )


def _page(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    users = list(current_session().scalars(select(User).order_by(User.email)))
    return render_template(
        "console/users.jinja",
        title="Users",
        users=users,
        now=utcnow(),
        roles=[(role, label("user_roles", role)) for role in USER_ROLES],
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
    email, role = values.get("email", ""), values.get("role", "")
    # The password as typed (not stripped): spaces may be part of it.
    body = {"email": email, "role": role, "password": request.form.get("password", "")}
    data, errors = load_or_errors(UserCreateSchema(), {k: v for k, v in body.items() if v})
    if data is not None:

        def once() -> None:
            create_user(
                current_session(), email=data["email"], password=data["password"], role=data["role"]
            )

        try:
            # Two admins adding the same email at once: the loser's rerun finds it taken.
            retry_on_conflict(current_session(), once)
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
