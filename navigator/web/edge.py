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

Views whose sender signs the request (`navigator.web.access.signed`: Twilio's webhooks) are
the one exception for form fields: they are read after the signature is checked, and a NUL in
an SMS body is dropped there (the texter cannot fix it). A bad field is 422, except in a
blueprint marked `answers_bad_fields_with(blp, status)` (the ORUK feed answers 400).

**Set aside, not refused** (issue 13 §1, hazard H10: a red flag always gets 999). A view marked
`@sets_aside_bad_text` (`POST /api/v1/navigations`, the console's new call) is handed its JSON
body or form *without* the strings and keys that have a NUL or a lone surrogate; `set_aside()`
gives the view their names and messages and the exact Problem the edge would have raised. The
view answers that Problem unless the request names a known red flag, in which case it answers
999 and lists the fields as warnings. Size, depth, invalid JSON, non-UTF-8 bodies, query
strings and headers are refused for every view alike: a body that is not UTF-8 stays 400, as
RFC 8259 §8.1 requires UTF-8 between systems.

These run before authentication (`require_roles` runs in the view): an unauthenticated caller
gets the same 413/415/400, which say nothing about any endpoint, and costs no key lookup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, has_request_context, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from navigator.core.errors import Problem
from navigator.web.access import access_rule

# Largest value of the INTEGER primary keys (PostgreSQL `integer`, 32-bit signed).
MAX_INT_ID = 2**31 - 1
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# At most this many fields are named in one error response.
MAX_REPORTED = 20
# A bad field is 422, like any other invalid value, unless the view's blueprint says otherwise
# in this attribute (`answers_bad_fields_with`).
BAD_FIELD_STATUS = 422
FIELD_STATUS_ATTRIBUTE = "edge_field_status"

NUL_MESSAGE = "Contains a NUL character (U+0000), which cannot be stored."
SURROGATE_MESSAGE = "Contains invalid Unicode (a lone surrogate, e.g. \\ud800)."

# The attribute `sets_aside_bad_text` puts on a view (functools.wraps carries it outwards).
SETS_ASIDE = "edge_sets_aside_bad_text"
View = TypeVar("View", bound=Callable[..., Any])
# Kept in the WSGI environ, which is this request's alone (`g` lives as long as the app
# context, which may span several requests).
SET_ASIDE_KEY = "navigator.edge.set_aside"


@dataclass(frozen=True)
class SetAside:
    """What the edge took out of a request it would otherwise have refused.

    `errors`: `{field: [message]}` for every string or key left out (JSON paths as in
    `json_text_errors`, form field names as sent); `problem`: the 422 the edge would have
    raised, for the view to raise when it does not take the request without them."""

    errors: dict[str, list[str]]
    problem: Problem


def sets_aside_bad_text(view: View) -> View:
    """Mark a view whose JSON body or form the edge hands on without its bad text (NUL, lone
    surrogates) instead of refusing it; the view must read `set_aside()` and raise its
    `problem` unless it answers anyway (a red flag). Put it right under the route decorator."""
    setattr(view, SETS_ASIDE, True)
    return view


def answers_bad_fields_with(blueprint: Blueprint, status: int) -> None:
    """Mark a blueprint whose views answer a query or form field with bad text (NUL, lone
    surrogate) with `status` instead of 422: the open ORUK feed answers every bad query with
    400, its own convention (`directory/oruk_views.py`)."""
    setattr(blueprint, FIELD_STATUS_ATTRIBUTE, status)


def set_aside() -> SetAside | None:
    """What the edge set aside from this request's body or form; None when nothing (or
    outside a request)."""
    if not has_request_context():
        return None
    held: SetAside | None = request.environ.get(SET_ASIDE_KEY)
    return held


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
    view = current_app.view_functions.get(request.endpoint or "")
    tolerant = bool(getattr(view, SETS_ASIDE, False))
    if request.path.startswith(current_app.config["OPENAPI_URL_PREFIX"] + "/"):
        if request.method in BODY_METHODS and (body or request.mimetype):
            _check_json_body(body, tolerant=tolerant)
    elif body and request.mimetype in FORM_MIMETYPES and not _checks_signature_first(view):
        _check_fields(request.form, "form", tolerant=tolerant)


def _checks_signature_first(view: Callable[..., Any] | None) -> bool:
    """Whether the view's sender signs its requests (`signed`): its form is read, and its
    text checked, by the view itself after the signature, never before."""
    rule = access_rule(view) if view is not None else None
    return rule is not None and rule.kind == "signed"


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


def _check_fields(values: MultiDict[str, str], location: str, *, tolerant: bool = False) -> None:
    errors: dict[str, list[str]] = {}
    every: dict[str, list[str]] = {}
    kept: list[tuple[str, str]] = []
    for key, value in values.items(multi=True):
        message = text_problem(key) or text_problem(value)
        if message is None:
            kept.append((key, value))
            continue
        every.setdefault(_safe_name(key), [message])
        if len(errors) < MAX_REPORTED:
            errors.setdefault(_safe_name(key), [message])
    if errors:
        fields = ", ".join(errors)
        blueprint = current_app.blueprints.get(request.blueprint or "")
        status = getattr(blueprint, FIELD_STATUS_ATTRIBUTE, BAD_FIELD_STATUS)
        problem = Problem(status, f"Invalid characters in the {location}: {fields}.", errors=errors)
        if not tolerant:
            raise problem
        # werkzeug's `form` is a cached property: what is set here is what the view reads.
        setattr(request, "form", ImmutableMultiDict(kept))  # noqa: B010
        request.environ[SET_ASIDE_KEY] = SetAside(every, problem)


def _check_json_body(body: bytes, *, tolerant: bool = False) -> None:
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
        problem = Problem(
            422, f"Invalid characters in: {', '.join(errors)}.", errors=errors, code="invalid_text"
        )
        if not (tolerant and isinstance(value, dict)):
            raise problem
        every: dict[str, list[str]] = {}
        kept = _without_bad_text(value, every, "", 1, depth)
        # webargs reads the body through `get_data(cache=True)`: the view's schema parses
        # this copy, without the bad text (it is valid JSON: every bad string is gone).
        setattr(request, "_cached_data", json.dumps(kept, ensure_ascii=False).encode())  # noqa: B010
        request.environ[SET_ASIDE_KEY] = SetAside(every, problem)


def _without_bad_text(
    value: Any, errors: dict[str, list[str]], path: str, depth: int, max_depth: int
) -> Any:
    """`value` without its bad strings and keys, each named in `errors` as `json_text_errors`
    names it: an object loses the member, a list keeps the item's place as null (so the
    positions named in warnings stay those the client sent). Raises the 400 for a document
    nested deeper than `max_depth` (`json_text_errors` stops looking after 20 bad strings)."""
    if depth > max_depth:
        raise _body_problem(_too_deep(max_depth))
    pairs: Iterable[tuple[Any, Any]] = (
        value.items() if isinstance(value, dict) else enumerate(value)
    )
    kept: dict[str, Any] = {}
    items: list[Any] = []
    for key, child in pairs:
        if type(key) is str and (message := text_problem(key)):
            errors.setdefault(f"{path}.(key)" if path else "(key)", [message])
            continue
        where = f"{path}.{key}" if path else str(key)
        if type(child) is str and (message := text_problem(child)):
            errors.setdefault(where, [message])
            child = None
            if isinstance(value, dict):
                continue
        elif type(child) is dict or type(child) is list:
            child = _without_bad_text(child, errors, where, depth + 1, max_depth)
        if isinstance(value, dict):
            kept[key] = child
        else:
            items.append(child)
    return kept if isinstance(value, dict) else items


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
