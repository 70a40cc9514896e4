"""The edge: what every request must be before any view, parser or database sees it.

Checked once here, for every route (API, console, ORUK feed, webhooks), so a new endpoint
cannot forget a check (issue 12, §4 and §5; OWASP ASVS 5.0 V1.2/V1.3/V2.2):

- **Size.** A body over `MAX_CONTENT_LENGTH` bytes (`MAX_REQUEST_BYTES`, default 1 MiB) is
  refused with 413 before it is read: on `Content-Length` at once, and on a chunked body
  (no `Content-Length`; gunicorn marks the stream `wsgi.input_terminated`) when the reading
  passes the limit. The body is read from the network once, here; the form parser and
  webargs read the cached bytes (webargs parses the JSON a second time: cheap beside the I/O,
  and it keeps flask-smorest's parser untouched).
- **Content type.** A body (or a `Content-Type`) sent to a JSON API operation must be
  `application/json` (or `…+json`): anything else is 415, not a misleading 422 "missing
  field" from an empty parse. No body and no content type is left to the schema (422).
- **JSON.** Valid UTF-8 and valid JSON (no `NaN`/`Infinity`) or 400; nested at most
  `MAX_JSON_DEPTH` (default 32) objects/arrays deep or 400 (100,000 `[` would otherwise blow
  the parser's recursion limit); every string and key free of NUL (PostgreSQL cannot store it)
  and of lone surrogates (`"\\ud800"`: cannot be encoded to UTF-8 for the database) or 422
  naming the field (`patient.name`, `red_flags.0`).
- **Query strings, form fields, headers.** The same character rules (422 naming the field;
  400 for a header). werkzeug decodes percent-encoded invalid UTF-8 (`%ED%A0%80`) to U+FFFD,
  so surrogates cannot arrive that way, but `%00` can. A NUL in the path is 404.
- **Integer path parts.** `<int:…>` accepts 1 to 2**31 - 1, the range of the INTEGER key
  columns; anything else does not match the route (404) instead of overflowing in the database.

Twilio's webhooks are the one exception for form fields: they are read after Twilio's
signature is checked, and a NUL in an SMS body is dropped there (the texter cannot fix it).

These run before authentication (`require_roles` runs in the view): an unauthenticated caller
gets the same 413/415/400, which say nothing about any endpoint, and costs no key lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from navigator.errors import Problem

# Largest value of the INTEGER primary keys (PostgreSQL `integer`, 32-bit signed).
MAX_INT_ID = 2**31 - 1
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Blueprints whose form fields are checked by the view itself, after authenticating the sender.
SIGNED_BLUEPRINTS = frozenset({"twilio_webhooks"})
# At most this many fields are named in one error response.
MAX_REPORTED = 20
# The open ORUK feed answers every bad query with 400 (its own convention, in oruk_views);
# everywhere else a bad field is 422, like any other invalid value.
FIELD_STATUS = {"oruk": 400}

NUL_MESSAGE = "Contains a NUL character (U+0000), which cannot be stored."
SURROGATE_MESSAGE = "Contains invalid Unicode (a lone surrogate, e.g. \\ud800)."


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` limited to 1..2**31 - 1 unless a rule says otherwise; out of range is 404."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 1,  # werkzeug's own parameter names
        max: int | None = MAX_INT_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def install_edge(app: Flask) -> None:
    """Register the checks. Call before any blueprint is registered (the `int` converter is
    bound when a rule is added)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request)


def check_request() -> None:
    """Raises Problem (413, 415, 400, 422) or NotFound for a request that must go no further."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        raise _too_large(limit)
    if "\x00" in request.path:
        raise NotFound()
    _check_headers()
    _check_fields(request.args, "query")
    body = _read_body(limit)
    if request.path.startswith(current_app.config["OPENAPI_URL_PREFIX"] + "/"):
        if request.method in BODY_METHODS and (body or request.mimetype):
            _check_json_body(body)
    elif body and request.mimetype in FORM_MIMETYPES and request.blueprint not in SIGNED_BLUEPRINTS:
        _check_fields(request.form, "form")


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        f"The request body is larger than {limit} bytes.",
        errors={"body": [f"At most {limit} bytes"]},
    )


def _read_body(limit: int | None) -> bytes:
    """The body, read once and cached (form and JSON parsers reuse the cache); b"" if none."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not request.content_length and not chunked:
        return b""
    if chunked and limit is not None:
        # No Content-Length: werkzeug reads a terminated stream up to the maximum and then
        # stops *silently*, so the body would be cut short, not refused. Allow one byte more
        # and refuse when it is there.
        request.max_content_length = limit + 1
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise _too_large(limit or 0) from None
    if limit is not None and len(data) > limit:
        raise _too_large(limit)
    return data


def _check_headers() -> None:
    for name, value in request.headers.items():
        if "\x00" in value:
            raise Problem(400, f"The {name} header contains a NUL character.")


def text_problem(value: str) -> str | None:
    """Why this text cannot be accepted (NUL or a lone surrogate), or None when it can."""
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


def _safe_name(name: str) -> str:
    """A field name fit to echo back: NULs and surrogates shown as escapes."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _check_fields(values: MultiDict[str, str], location: str) -> None:
    errors: dict[str, list[str]] = {}
    for key, value in values.items(multi=True):
        message = text_problem(key) or text_problem(value)
        if message and len(errors) < MAX_REPORTED:
            errors.setdefault(_safe_name(key), [message])
    if errors:
        fields = ", ".join(errors)
        status = FIELD_STATUS.get(request.blueprint or "", 422)
        raise Problem(status, f"Invalid characters in the {location}: {fields}.", errors=errors)


def _check_json_body(body: bytes) -> None:
    if not request.is_json:
        raise Problem(
            415,
            f"Send the body as application/json, not {request.mimetype or 'no content type'}.",
            errors={"Content-Type": ["Must be application/json"]},
        )
    if not body:  # an empty JSON body: the schema names the missing fields
        return
    depth = current_app.config.get("MAX_JSON_DEPTH", 32)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _body_problem("The body is not valid UTF-8.") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise _body_problem(_too_deep(depth)) from None
    except ValueError:
        raise _body_problem("The body is not valid JSON.") from None
    errors = json_text_errors(value, max_depth=depth)
    if errors is None:
        raise _body_problem(_too_deep(depth))
    if errors:
        raise Problem(
            422, f"Invalid characters in: {', '.join(errors)}.", errors=errors, code="invalid_text"
        )


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _too_deep(depth: int) -> str:
    return f"The body nests objects and arrays more than {depth} deep."


def _body_problem(detail: str) -> Problem:
    return Problem(400, detail, errors={"body": [detail]})


def json_text_errors(value: Any, *, max_depth: int) -> dict[str, list[str]] | None:
    """`{field path: [message]}` for strings and keys with NUL or lone surrogates; {} when
    clean; None when objects/arrays nest deeper than `max_depth` (the top level is depth 1).

    Iterative, so a deep document cannot exhaust the stack here either; a path is built only
    for a container or a bad string, so a 1 MiB array of numbers costs a few milliseconds.
    """
    errors: dict[str, list[str]] = {}
    if isinstance(value, str):
        message = text_problem(value)
        return {"body": [message]} if message else {}
    if not isinstance(value, dict | list):
        return errors
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack and len(errors) < MAX_REPORTED:
        item, path, depth = stack.pop()
        if depth > max_depth:
            return None
        pairs: Iterable[tuple[Any, Any]] = (
            item.items() if isinstance(item, dict) else enumerate(item)
        )
        for key, child in pairs:
            if type(key) is str and (message := text_problem(key)):
                errors.setdefault(f"{path}.(key)" if path else "(key)", [message])
                continue
            kind = type(child)
            if kind is str:
                if message := text_problem(child):
                    errors.setdefault(f"{path}.{key}" if path else str(key), [message])
            elif kind is dict or kind is list:
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
    return errors
