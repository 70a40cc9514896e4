"""Bearer-key authentication and role checks for API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request

from navigator.auth.keys import Caller, authenticate
from navigator.auth.throttle import (
    API_KEY,
    limit_from_config,
    record_failure,
    retry_after,
    source_address,
)
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem, problem_response
from navigator.core.extensions import current_session
from navigator.web.access import AccessRule, declare
from navigator.web.openapi import roles_doc

F = TypeVar("F", bound=Callable[..., Any])

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def current_caller() -> Caller:
    return cast(Caller, g.caller)


def refuse_bad_key() -> Response:
    """The answer to a key that is not valid: raises Problem(401), or returns a 429 with
    `Retry-After` once this source address has had too many bad keys within the window
    (`AUTH_THROTTLE_API_KEY_*`).

    Only failures are throttled, after the key is checked: a valid key is never refused,
    whatever its address has sent before, so a good client behind the same NAT or proxy as a
    misconfigured one keeps working, and the hot path gains no query. Keys carry 256 random
    bits, so answering a valid key from a throttled address teaches a guesser nothing. Each
    401 is counted in the database, so every worker and node sees the same count; a 429 is
    not counted (the wait does not grow while the client waits).
    """
    session, now = current_session(), utcnow()
    source = source_address(request.remote_addr)
    limit = limit_from_config(current_app.config, API_KEY)
    wait = retry_after(session, source, API_KEY, limit, now)
    if wait is not None:
        return problem_response(
            429,
            detail=f"Too many requests with a bad API key from this address. Retry after "
            f"{wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    with transaction(session):  # counted even though the request fails
        record_failure(session, source, API_KEY, limit, now)
    raise Problem(401, "The API key is not valid or has been revoked.")


def require_roles(*roles: str) -> Callable[[F], F]:
    """Authenticate the request and allow only these roles (all roles when none given).

    Place it directly under `@blp.route` so that it runs before argument parsing: an
    unauthenticated caller learns nothing about what the endpoint accepts. Records the rule
    on the view (`navigator.web.access`) for the route-access test.
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
                return refuse_bad_key()
            if roles and caller.role not in roles:
                raise Problem(403, f"The {caller.role} role may not do this.")
            g.caller = caller
            return view(*args, **kwargs)

        apidoc = getattr(wrapper, "_apidoc", {})
        wrapper._apidoc = {  # type: ignore[attr-defined]
            **apidoc,
            # The roles let the OpenAPI document list 403 only where a role can be refused.
            "manual_doc": {
                **apidoc.get("manual_doc", {}),
                "security": SECURITY,
                **roles_doc(roles),
            },
        }
        rule = AccessRule("api_key", ", ".join(roles) if roles else "any role")
        return declare(cast(F, wrapper), rule)

    return decorator
