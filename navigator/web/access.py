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

The rule is a plain attribute, so `functools.wraps` (which copies `__dict__`) would carry it
out through a decorator placed above the access decorator, and that decorator would run before
the check (or skip it, calling `__wrapped__`) while the view still looked protected. So the
function a rule was declared on is recorded with it, and the route-access test requires every
view to be that function itself, with no other rule declared further down its `__wrapped__`
chain (`declarations`): the access decorator is the outermost, under the route decorator.
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
# The attribute naming the function the rule was declared on (wraps copies it outwards too).
DECLARED_ON = "access_rule_declared_on"
# How far `declarations` follows `__wrapped__` (a view has a handful of decorators).
MAX_DECORATORS = 50


@dataclass(frozen=True)
class AccessRule:
    """Who may call a view. `detail` names the roles, the console action, the signer, or
    (for `public`) why the view is open to anyone."""

    kind: AccessKind
    detail: str


def declare(view: F, rule: AccessRule) -> F:
    """Record `rule` on `view` (and that it was declared on `view`); the same function."""
    setattr(view, ATTRIBUTE, rule)
    setattr(view, DECLARED_ON, view)
    return view


def declarations(view: Callable[..., Any]) -> list[Callable[..., Any]]:
    """The functions along `view`'s `__wrapped__` chain (`view` first) that a rule was declared
    on. `[view]` when its access decorator is the outermost and the only one; a decorator
    above it makes the list start deeper, a second access decorator makes it longer."""
    chain = [view]
    while len(chain) < MAX_DECORATORS and (inner := getattr(chain[-1], "__wrapped__", None)):
        chain.append(inner)
    return [function for function in chain if getattr(function, DECLARED_ON, None) is function]


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
    decorator, so nothing is read or parsed before the signature is checked; the edge
    (`web/edge.py`) leaves a signed view's form fields to the view, after the check."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check()
            return view(*args, **kwargs)

        return declare(cast(F, wrapper), AccessRule("signed", by))

    return decorator
