"""Security headers on every response navigator sends: console pages, the API (errors
included), the ORUK feed, the Twilio webhooks and static files (OWASP ASVS 5.0, V3.4).

- `X-Content-Type-Options: nosniff` (V3.4.4): a browser must not guess HTML from a JSON, CSV
  or text body that echoes outsiders' text.
- `Referrer-Policy: no-referrer` (V3.4.5): console URLs carry record ids and search terms;
  they must not leak to another site through a link.
- `Content-Security-Policy`, when the view set none: `DEFAULT_CSP`, which lets a response load
  nothing and be framed by no one (V3.4.3, V3.4.6). JSON needs nothing more; any HTML page
  must set its own policy (the console in `navigator.console.blueprint.no_store`, the API
  reference with `docs_csp`), so a new page without one fails closed, unstyled, not open.
"""

from __future__ import annotations

from flask import Flask, Response

DEFAULT_CSP = (
    "default-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": DEFAULT_CSP,
}


def docs_csp(nonce: str) -> str:
    """The API reference's policy: its one inline stylesheet (carrying `nonce`) and links,
    nothing else: no script, no images, no forms, no framing."""
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def add_security_headers(response: Response) -> Response:
    """Set each header of `HEADERS` unless the view (or its blueprint) already chose a value."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response of `app`, error responses included (Flask runs
    `after_request` functions on the responses of error handlers too)."""
    app.after_request(add_security_headers)
