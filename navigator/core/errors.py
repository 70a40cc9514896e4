"""One error shape for the whole API: RFC 9457 `application/problem+json`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, json, request
from flask.sansio.app import App
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from navigator.core.outage import RETRY_AFTER_SECONDS, is_database_outage

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# Paths read by programs (the API, the ORUK feed, Twilio) and Flask's own `/static/` files
# (fetched by a page, never shown as one): their errors are always problem+json. Every other
# path is a person's browser on the console, which gets the console's HTML error page (its
# text escaped, hazard H26).
MACHINE_PREFIXES = ("api", "oruk", "webhooks", "static", "fhir")

HtmlErrorPage = Callable[[int, str, str], ResponseReturnValue]
"""Renders an error for a person: (status, title, detail) → an HTML response."""

_HTML_ERROR_PAGE = "navigator.html_error_page"
_ERROR_RENDERERS = "navigator.error_renderers"


@dataclass(frozen=True)
class ErrorDetails:
    """One error as every renderer sees it: what `problem_response` is given."""

    status: int
    title: str
    detail: str | None
    errors: Mapping[str, Any] | None
    code: str | None
    headers: Mapping[str, str]
    extensions: Mapping[str, Any] | None


ErrorRenderer = Callable[[ErrorDetails], Response]
"""Renders an error for the programs under one path prefix in their own format (e.g. FHIR's
OperationOutcome under `/fhir/`) instead of problem+json."""


class Problem(Exception):
    """Raised by services for an outcome the client must be told about (409, 404, 422 …)."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: Mapping[str, Any] | None = None,
        code: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or HTTPStatus(status).phrase)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.code = code
        # RFC 9457 §3.2 extension members, e.g. `existing_referral_id`; each one is documented
        # in `navigator.web.openapi.ProblemSchema`. Never patient data.
        self.extensions = dict(extensions) if extensions else None
        # Response headers the client needs to act on it, e.g. `Retry-After` on a 425.
        self.headers = dict(headers or {})


def field_error(field: str, message: str, status: int = 422) -> Problem:
    return Problem(status, f"{field}: {message}", errors={field: [message]})


def flatten_errors(messages: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into `{"field.sub": ["message"]}`."""
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten_errors(value, name))
        elif isinstance(value, list | tuple):
            flat.setdefault(name, []).extend(str(v) for v in value)
        else:
            flat.setdefault(name, []).append(str(value))
    return flat


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: Mapping[str, Any] | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    if request and (renderer := _renderer_for(request.path)) is not None:
        return renderer(
            ErrorDetails(
                status,
                title or HTTPStatus(status).phrase,
                detail,
                errors,
                code,
                dict(headers or {}),
                extensions,
            )
        )
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if code:
        body["code"] = code
    if errors:
        body["errors"] = errors
    if request:
        body["instance"] = request.path
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def for_machines(path: str) -> bool:
    """True for `/api/…`, `/oruk/…`, `/webhooks/…` and `/static/…`: errors as problem+json."""
    return path.lstrip("/").split("/", 1)[0] in MACHINE_PREFIXES


def set_error_renderer(app: App, prefix: str, renderer: ErrorRenderer) -> None:
    """Errors on paths under `/<prefix>/` (one of `MACHINE_PREFIXES`) are rendered by
    `renderer` rather than as problem+json: every error, from the edge's 413 to a view's
    Problem, an unknown route and an unexpected exception, goes through `problem_response`."""
    assert prefix in MACHINE_PREFIXES, prefix
    app.extensions.setdefault(_ERROR_RENDERERS, {})[prefix] = renderer


def _renderer_for(path: str) -> ErrorRenderer | None:
    renderers: dict[str, ErrorRenderer] = current_app.extensions.get(_ERROR_RENDERERS, {})
    return renderers.get(path.lstrip("/").split("/", 1)[0])


def set_html_error_page(app: App, page: HtmlErrorPage) -> None:
    """The console's error page, for errors on paths that are not for machines (a URL that
    matches no route, an out-of-range id): a browser gets HTML, never JSON."""
    app.extensions[_HTML_ERROR_PAGE] = page


def _html_error(
    status: int, title: str, detail: str, headers: Mapping[str, str] | None = None
) -> Response | None:
    """The HTML error page for a browser path, else None (a machine path, or no console)."""
    page: HtmlErrorPage | None = current_app.extensions.get(_HTML_ERROR_PAGE)
    if page is None or not request or for_machines(request.path):
        return None
    try:
        response = current_app.make_response(page(status, title, detail))
    except Exception:  # the page itself failed (e.g. no database): problem+json it is
        log.exception("error page failed on %s %s", request.method, request.path)
        return None
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    errors = None
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if isinstance(messages, Mapping):
        # webargs nests errors under the request location ("json", "query"); callers want fields.
        errors = {}
        for location_messages in messages.values():
            if isinstance(location_messages, Mapping):
                errors.update(flatten_errors(location_messages))
    detail = exc.description if exc.description and status != 422 else None
    if errors and not detail:
        detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
    # The exception's own headers carry 405's `Allow` (RFC 9110 §15.5.6); its body is replaced.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if exc.response is not None:
        headers.update(exc.response.headers)
    html = _html_error(status, exc.name, exc.description or "", _kept_headers(headers))
    if html is not None:
        return html
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="navigator"')
    return problem_response(status, detail=detail, errors=errors, headers=headers)


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers an HTML error page keeps from the exception: `Allow`, `Retry-After`."""
    return {k: v for k, v in headers.items() if k.lower() in ("allow", "retry-after")}


def _handle_problem(exc: Problem) -> Response:
    html = _html_error(exc.status, exc.title, exc.detail or "", _kept_headers(exc.headers))
    if html is not None:
        return html
    headers = dict(exc.headers)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="navigator"'
    return problem_response(
        exc.status,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        code=exc.code,
        headers=headers,
        extensions=exc.extensions,
    )


_SORRY = "Something went wrong on our side; it has been logged."


def _handle_unexpected(exc: Exception) -> Response:
    if is_database_outage(exc):  # e.g. PendingRollbackError after a connection was lost
        return _database_unavailable(exc)
    # Log the type and where, never the request body: it may hold patient data.
    log.exception("unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
    html = _html_error(500, "Sorry, there is a problem with the service", _SORRY)
    if html is not None:
        return html
    return problem_response(500, detail=_SORRY)


# "May not": a connection lost during COMMIT leaves the outcome unknown to navigator itself, so
# the client is told to retry with the same idempotency key rather than that nothing happened.
_OUTAGE = (
    "The service cannot reach its database just now, so your request may not have been saved. "
    "Try again shortly, with the same Idempotency-Key."
)


def _handle_database_error(exc: Exception) -> Response:
    """A database outage (PostgreSQL restarting, unreachable, out of connections) is 503 with
    `Retry-After`, so clients retry (with the same idempotency key) instead of reporting a
    bug. The request's transaction was rolled back, unless the connection was lost during its
    COMMIT, when its outcome is unknown: hence the key. Any other database error is
    unexpected."""
    if not is_database_outage(exc):
        return _handle_unexpected(exc)
    return _database_unavailable(exc)


def _database_unavailable(exc: BaseException) -> Response:
    # The exception's text names the host and may quote SQL; only its type is logged.
    log.warning(
        "database unavailable (%s) on %s %s", type(exc).__name__, request.method, request.path
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    html = _html_error(503, "Sorry, the service is unavailable", _OUTAGE, headers)
    if html is not None:
        return html
    return problem_response(503, detail=_OUTAGE, code="database_unavailable", headers=headers)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Problem, _handle_problem)
    app.register_error_handler(DBAPIError, _handle_database_error)
    app.register_error_handler(PoolTimeoutError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)
