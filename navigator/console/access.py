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
| view_dashboard   |           | yes        | yes   |
| edit_directory   |           |            | yes   |
| manage_users     |           |            | yes   |
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app
from flask_login import current_user, login_required

from navigator.auth.keys import Caller
from navigator.auth.models import User
from navigator.extensions import current_session, login_manager

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
    # Derived from the password hash and part of the session id: a new password ends old
    # sessions.
    token: str

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.token}"

    @property
    def caller(self) -> Caller:
        return Caller(self.id, self.email, self.role, None, kind="user")


def session_token(user: User) -> str:
    """Changes whenever the password does; an HMAC, so the cookie reveals nothing of the hash."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def console_user(user: User) -> ConsoleUser:
    return ConsoleUser(user.id, user.email, user.role, session_token(user))


@login_manager.user_loader
def load_user(ident: str) -> ConsoleUser | None:
    user_id, _, token = ident.partition(":")
    if not user_id.isdigit():
        return None
    user = current_session().get(User, int(user_id))
    if user is None or session_token(user) != token:
        return None
    return console_user(user)


login_manager.login_view = "console.login"
login_manager.login_message = "Sign in to use the console."
login_manager.login_message_category = "info"


def can(action: str) -> bool:
    return bool(current_user.is_authenticated and current_user.role in PERMISSIONS[action])


def requires(action: str) -> Callable[[F], F]:
    """Sign-in required, and the user's role must allow `action` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not can(action):
                abort(403, f"Your role ({current_user.role}) may not do this.")
            return view(*args, **kwargs)

        return cast(F, login_required(wrapper))

    return decorator


def me() -> ConsoleUser:
    return cast(ConsoleUser, current_user._get_current_object())
