"""Bearer-key authentication and role checks for API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from navigator.auth.keys import Caller, authenticate
from navigator.errors import Problem
from navigator.extensions import current_session

F = TypeVar("F", bound=Callable[..., Any])

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def current_caller() -> Caller:
    return cast(Caller, g.caller)


def require_roles(*roles: str) -> Callable[[F], F]:
    """Authenticate the request and allow only these roles (all roles when none given).

    Place it directly under `@blp.route` so that it runs before argument parsing: an
    unauthenticated caller learns nothing about what the endpoint accepts.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise Problem(401, "Send an API key as 'Authorization: Bearer <key>'.")
            caller = authenticate(current_session(), key.strip())
            if caller is None:
                raise Problem(401, "The API key is not valid or has been revoked.")
            if roles and caller.role not in roles:
                raise Problem(403, f"The {caller.role} role may not do this.")
            g.caller = caller
            return view(*args, **kwargs)

        apidoc = getattr(wrapper, "_apidoc", {})
        wrapper._apidoc = {  # type: ignore[attr-defined]
            **apidoc,
            "manual_doc": {**apidoc.get("manual_doc", {}), "security": SECURITY},
        }
        return cast(F, wrapper)

    return decorator
