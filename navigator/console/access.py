"""Who may do what in the console. Checked on the server for every request, not just hidden.

| action           | navigator | supervisor | admin |
|------------------|-----------|------------|-------|
| take_calls       | yes       | yes        | yes   |
| update_referrals | yes       | yes        | yes   |
| view_directory   | yes       | yes        | yes   |
| update_capacity  | yes       | yes        | yes   |
| manage_dtoc      | yes       | yes        | yes   |
| care_home_texts  | yes       | yes        | yes   |
| confirm_details  |           | yes        | yes   |
| classify_services|           | yes        | yes   |
| view_dashboard   |           | yes        | yes   |
| edit_directory   |           |            | yes   |
| manage_users     |           |            | yes   |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, g
from flask_login import current_user, login_required

from navigator.auth.keys import Caller
from navigator.auth.models import User
from navigator.auth.sessions import resume_session
from navigator.console.formatting import label
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session, login_manager
from navigator.web.access import AccessRule, declare

F = TypeVar("F", bound=Callable[..., Any])

EVERYONE = ("navigator", "supervisor", "admin")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "take_calls": EVERYONE,
    "update_referrals": EVERYONE,
    "view_directory": EVERYONE,
    "update_capacity": EVERYONE,
    "manage_dtoc": EVERYONE,
    "care_home_texts": EVERYONE,  # switch a care home's follow-up texts off or on
    "confirm_details": ("supervisor", "admin"),
    # the "To classify" queue: give a service kept from another directory its type (issue 15)
    "classify_services": ("supervisor", "admin"),
    "view_dashboard": ("supervisor", "admin"),
    "edit_directory": ("admin",),
    "manage_users": ("admin",),
}


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in user as Flask-Login sees it (a plain value, not a database row)."""

    id: int
    email: str
    role: str
    # The console session's random token: all the cookie carries (Flask-Login keeps it as the
    # "user id"). The server holds the session by the token's hash and can end it.
    session_token: str

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def caller(self) -> Caller:
        return Caller(self.id, self.email, self.role, None, kind="user")


def console_user(user: User, session_token: str) -> ConsoleUser:
    return ConsoleUser(user.id, user.email, user.role, session_token)


@login_manager.user_loader
def load_user(token: str) -> ConsoleUser | None:
    """Flask-Login's loader, run once per request (the console's guard asks first, before any
    view work): the user of a live server-side session, else None with the reason kept in
    `g.console_session_refused` (e.g. `idle`, `signed_out`, `password_changed`).

    Commits at once, because checking may write: an idle session is ended, a live one's
    last-seen time moved on (at most once per `CONSOLE_SESSION_TOUCH_SECONDS`).
    """
    config, db = current_app.config, current_session()
    with transaction(db):
        resumed = resume_session(
            db,
            token,
            now=utcnow(),
            idle=timedelta(minutes=config["CONSOLE_IDLE_MINUTES"]),
            touch_every=timedelta(seconds=config["CONSOLE_SESSION_TOUCH_SECONDS"]),
        )
    user = db.get(User, resumed.user_id) if resumed.user_id is not None else None
    if user is None:
        g.console_session_refused = resumed.reason or "unknown"
        return None
    return console_user(user, token)


login_manager.login_view = "console.login"
login_manager.login_message = "Sign in to use the console."
login_manager.login_message_category = "info"


def can(action: str) -> bool:
    return bool(current_user.is_authenticated and current_user.role in PERMISSIONS[action])


def requires(action: str) -> Callable[[F], F]:
    """Sign-in required, and the user's role must allow `action` (403 otherwise). Records the
    rule on the view (`navigator.web.access`) for the route-access test."""
    rule = AccessRule("console", f"{action} ({', '.join(PERMISSIONS[action])})")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not can(action):
                abort(403, f"Your role ({label('user_roles', current_user.role)}) may not do this.")
            return view(*args, **kwargs)

        return declare(cast(F, login_required(wrapper)), rule)

    return decorator


def me() -> ConsoleUser:
    return cast(ConsoleUser, current_user._get_current_object())
