"""The OpenAPI document tells the truth about errors, codes and status lists (issue 12 §6).

- Every documented error is `application/problem+json` with the `Problem` schema, the shape
  `navigator.core.errors.problem_response` sends (RFC 9457), not flask-smorest's `Error`.
- Each operation's error list is inferred from what it can do (`ErrorListPlugin`): every
  operation can answer 400, 413 and 422 from the edge (`navigator.web.edge`, which checks
  every request before its view: a NUL in a header is 400, a body over the limit is 413 even
  on a GET, a NUL or lone surrogate in any query parameter, documented or not, is 422); a
  secured operation can answer 401, 429 and, if not every role may call it, 403; a JSON body
  also 415; a path id 404; and every operation 503 with `Retry-After` while the database is
  unreachable (`navigator.core.outage`). `problems(409, …)` adds what only
  the view knows. No `default` response: a status not listed is a bug, and the schemathesis
  test (`tests/web/test_schemathesis.py`) fails on it.
- Fields validated by `InVocabulary(scheme)` list the scheme's codes as an `enum`, read from the
  app's vocabulary files when the document is built, so the document cannot drift from them;
  fields validated by `OneOf` get theirs from marshmallow's own converter. A problem's `code`
  lists `PROBLEM_CODES` (a test checks every `Problem(code=…)` in the package is among them).
"""

from __future__ import annotations

import http
from collections.abc import Callable, Iterable
from copy import deepcopy
from functools import cache
from typing import Any, ClassVar, TypeVar

import marshmallow
from apispec import APISpec, BasePlugin
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import fields, validate

from navigator.auth.models import API_ROLES
from navigator.core.errors import PROBLEM_JSON
from navigator.core.schemas import StrictSchema
from navigator.core.vocabulary import load_vocabulary

F = TypeVar("F", bound=Callable[..., Any])

ROLES_KEY = "x-navigator-roles"

# What each status means for this API, as documented on every operation that can return it.
DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: the body is not valid JSON, or a header is invalid",
    401: "No API key, or one that is not valid or has been revoked",
    403: "Your role (or organisation) may not do this",
    404: "No such record, or none you may see",
    409: "Conflicts with the record's current state or an earlier request; `code` says which",
    413: "The request body is larger than the configured limit",
    415: "The request body is not `application/json`",
    422: "Invalid input: `errors` names each field and what is wrong with it",
    429: "Too many failed authentications from your address; retry after `Retry-After` seconds",
    503: "The database is unavailable (restarting, unreachable or busy): the request may not "
    "have been saved; retry after `Retry-After` seconds, with the same `Idempotency-Key`",
}
HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with",
            "schema": {"type": "string"},
        }
    },
    405: {
        "Allow": {
            "description": "The methods this path accepts",
            "schema": {"type": "string"},
            "required": True,
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


# Every `code` a problem response can carry (`Problem(..., code=...)`), and what it means.
PROBLEM_CODES: dict[str, str] = {
    "database_unavailable": "503: the database is restarting or unreachable; retry with the key",
    "episode_closed": "The DTOC episode has ended (transferred) and cannot change",
    "event_id_reused": "The transition `event_id` was sent before with different content",
    "idempotency_key_reused": "The `Idempotency-Key` was used before for a different request",
    "illegal_transition": "The record's status cannot change that way from its current one",
    "invalid_text": "A text field holds a NUL character or invalid Unicode (a lone surrogate)",
    "open_referral_exists": "This navigation already has an open referral to this service",
}


class ResponseSchema(StrictSchema):
    """Base of every documented response body: each field is required (present, perhaps
    null) unless named in `optional`, and no other field may appear, so the schemathesis
    test catches a view that sends more, less or other than its schema says."""

    optional: ClassVar[frozenset[str]] = frozenset()  # unknown fields: additionalProperties false

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, schema_field in self.fields.items():
            schema_field.required = name not in self.optional


class ProblemSchema(ResponseSchema):
    """RFC 9457 problem details, as `navigator.core.errors.problem_response` builds them."""

    optional = frozenset({"detail", "instance", "code", "errors", "existing_referral_id"})

    type = fields.String(
        metadata={"description": "Always `about:blank`: `title` says what went wrong"},
    )
    title = fields.String(metadata={"description": "The HTTP status phrase"})
    status = fields.Integer(metadata={"description": "The HTTP status code"})
    detail = fields.String(metadata={"description": "What went wrong, for a person to read"})
    instance = fields.String(metadata={"description": "The request path"})
    code = fields.String(
        validate=validate.OneOf(tuple(PROBLEM_CODES)),
        metadata={
            "description": "A stable machine-readable reason, where there is one: "
            + "; ".join(f"`{code}`: {meaning}" for code, meaning in PROBLEM_CODES.items())
        },
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "For invalid input: each field (dotted for nested ones) and its messages"
        },
    )
    existing_referral_id = fields.String(
        metadata={
            "description": "With `code` `open_referral_exists` (409 from `POST /referrals`): the "
            "id of the open referral this navigation already has to this service"
        }
    )


def problem_response_name(status: int) -> str:
    """The component name of the documented problem response for `status`."""
    return http.HTTPStatus(status).name


def problems(*statuses: int) -> Callable[[F], F]:
    """Document problem responses only the view knows it can give (e.g. 409), beside those
    `ErrorListPlugin` infers. Put it under `@blp.response`; it changes no behaviour."""

    def decorator(view: F) -> F:
        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        for status in statuses:
            responses.setdefault(status, []).append(problem_response_name(status))
        view._apidoc = apidoc  # type: ignore[attr-defined]
        return view

    return decorator


def roles_doc(roles: Iterable[str]) -> dict[str, Any]:
    """The `manual_doc` entry `require_roles` adds: which roles may call (all when empty)."""
    return {ROLES_KEY: list(roles) or list(API_ROLES)}


class ErrorListPlugin(BasePlugin):
    """Add to each operation the problem responses its shape implies (see the module doc)."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses: dict[Any, Any] = operation.setdefault("responses", {})
            # The edge answers these for any operation (see the module doc), and any operation
            # can meet a database outage (503, `navigator.core.outage`).
            inferred: list[int] = [400, 413, 422, 503]
            if operation.get("security"):
                inferred += [401, 429]
                roles = operation.get(ROLES_KEY, API_ROLES)
                if set(roles) != set(API_ROLES):
                    inferred.append(403)
            if "requestBody" in operation:
                inferred.append(415)
            if path and "{" in path:
                inferred.append(404)
            for status in inferred:
                if status not in responses and str(status) not in responses:
                    responses[status] = problem_response_name(status)


class NavigatorApi(Api):
    """flask-smorest's `Api`, documenting navigator's real error shape and vocabulary codes."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all `default` response: each operation lists the statuses it can return.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, **kwargs: Any) -> None:
        kwargs["extra_plugins"] = [*(kwargs.get("extra_plugins") or ()), ErrorListPlugin()]
        super()._init_spec(**kwargs)
        data_dir = str(self._app.config["NAVIGATOR_DIRECTORY_DATA"])
        self.ma_plugin.converter.add_attribute_function(_vocabulary_enum(data_dir))

    def _register_responses(self) -> None:
        spec: APISpec = self.spec
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {
                "description": DESCRIPTIONS.get(status, status.phrase),
                "schema": self.ERROR_SCHEMA,
            }
            if status in HEADERS:
                response["headers"] = HEADERS[status]
            prepare_response(response, spec, PROBLEM_JSON)
            spec.components.response(status.name, response, lazy=True)


def _vocabulary_enum(data_dir: str) -> Callable[..., dict[str, Any]]:
    # Imported here: the fields read the vocabulary through the app-bound reference data.
    from navigator.core.fields import InVocabulary

    @cache
    def codes(scheme: str) -> list[str]:
        return list(load_vocabulary(data_dir).codes(scheme))

    def vocabulary_enum(self: Any, field: marshmallow.fields.Field, **_: Any) -> dict[str, Any]:
        for validator in field.validators:
            if isinstance(validator, InVocabulary):
                enum: list[str | None] = [*codes(validator.scheme)]
                if field.allow_none:
                    enum.append(None)
                return {"enum": enum}
        return {}

    return vocabulary_enum


# The one flask-smorest Api: documents problem+json errors, inferred error lists and vocabulary
# enums. Domain blueprints register on it in `create_app`.
openapi = NavigatorApi()
