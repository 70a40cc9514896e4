"""Every view says who may call it: its access rule is recorded on the view function.

A test walks `app.url_map` and fails on any endpoint whose view carries no rule
(`tests/web/test_route_access.py`), so a new route cannot be open by forgetting a decorator.
The decorators that check access record the rule themselves:

| kind      | recorded by                             | means                                 |
|-----------|-----------------------------------------|---------------------------------------|
| `api_key` | `navigator.web.auth.require_roles`      | a bearer API key, of the listed roles |
| `console` | `navigator.console.access.requires`     | a signed-in user whose role allows it |
| `signed`  | `signed(by, check)` (Twilio's webhooks) | the sender signs every request        |
| `public`  | `public(reason)`                        | deliberately open, and why            |

The rule is a plain attribute, so `functools.wraps` (which copies `__dict__`) carries it out
through any decorator placed above; the outermost access decorator's rule wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

AccessKind = Literal["api_key", "console", "signed", "public"]

# The attribute a view's AccessRule is kept in.
ATTRIBUTE = "access_rule"


@dataclass(frozen=True)
class AccessRule:
    """Who may call a view. `detail` names the roles, the console action, the signer, or
    (for `public`) why the view is open to anyone."""

    kind: AccessKind
    detail: str


def declare(view: F, rule: AccessRule) -> F:
    """Record `rule` on `view` and return the same function."""
    setattr(view, ATTRIBUTE, rule)
    return view


def access_rule(view: Callable[..., Any]) -> AccessRule | None:
    """The rule recorded on a view, or None when it declares none."""
    rule = getattr(view, ATTRIBUTE, None)
    return rule if isinstance(rule, AccessRule) else None


def public(reason: str) -> Callable[[F], F]:
    """Mark a view as deliberately open to anyone; `reason` says why (it is reported by the
    route-access test). Checks nothing: place it directly under the route decorator."""
    if not reason.strip():
        raise ValueError("a public view needs a reason")

    def decorator(view: F) -> F:
        return declare(view, AccessRule("public", reason))

    return decorator


def signed(by: str, check: Callable[[], None]) -> Callable[[F], F]:
    """Run `check` before the view (it raises when the request's signature is wrong, e.g.
    Problem(403)) and record that `by` signs the requests. Place it directly under the route
    decorator, so nothing is read or parsed before the signature is checked."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check()
            return view(*args, **kwargs)

        return declare(cast(F, wrapper), AccessRule("signed", by))

    return decorator
