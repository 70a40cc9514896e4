"""Posting one BaRS message to a sender's `$process-message` endpoint (issue 16).

Source: the BaRS API (NHSDigital/booking-and-referral-fhir-api,
`specification/booking-and-referral-1.4.0.yaml`, commit 0c9714b0): `POST /$process-message`
with `X-Request-Id` and `X-Correlation-Id` (UUIDs, required), the body as
`application/fhir+json;version=1.0.0`, and `Accept` naming the BaRS Core version expected
(`application/fhir+json; version=1.4.0` in the spec; only the major version is checked by a
receiver). "A receiver wanting to respond to a request will direct their response to the
Sender's $process-message endpoint."

`NHSD-Target-Identifier` (required by the spec) is what the national BaRS proxy routes on: the
sender's own service identifier. navigator posts straight to the sender's registered endpoint
URL (mutual TLS and the proxy are out of scope) and does not store a target identifier for the
sender (`BarsReferral.target_identifier` is navigator's own service), so it is not sent.

The client only reports what happened (`Delivery`, or `BarsTransportError` naming the
exception type); `navigator.bars.outbox` decides what that means for the message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

CONTENT_TYPE = "application/fhir+json;version=1.0.0"
ACCEPT = "application/fhir+json;version=1.4.0"
OPERATION = "$process-message"


class BarsTransportError(Exception):
    """No HTTP answer: a timeout, a refused or dropped connection. `str()` is the exception's
    type name only (never a URL or body), safe for `last_error`."""


@dataclass(frozen=True)
class Delivery:
    """The receiver's answer: HTTP status, the OperationOutcome issue codes in its body (if it
    was one), and its Retry-After in seconds (if given)."""

    status: int
    issue_codes: tuple[str, ...] = ()
    retry_after: float | None = None


def process_message_url(endpoint: str) -> str:
    """`{endpoint}/$process-message`, unless the endpoint already names the operation."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/" + OPERATION) else f"{endpoint}/{OPERATION}"


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _issue_codes(response: requests.Response) -> tuple[str, ...]:
    try:
        body: Any = response.json()
    except ValueError:
        return ()
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ()
    issues = body.get("issue")
    if not isinstance(issues, list):
        return ()
    return tuple(str(i.get("code")) for i in issues if isinstance(i, dict) and i.get("code"))


class BarsClient:
    """POSTs messages with one `requests.Session` (connection reuse); `timeout` in seconds is
    both the connect and the read timeout."""

    def __init__(self, *, timeout: float, session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.http = session or requests.Session()

    def post_message(
        self,
        endpoint: str,
        bundle: dict[str, Any],
        *,
        request_id: str,
        correlation_id: str,
    ) -> Delivery:
        """POST `bundle` to `process_message_url(endpoint)`; the answer as `Delivery`.
        Redirects are not followed (a message never goes anywhere but the registered
        endpoint). Raises BarsTransportError when no answer came."""
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Accept": ACCEPT,
            "X-Request-Id": request_id,
            "X-Correlation-Id": correlation_id,
        }
        try:
            response = self.http.post(
                process_message_url(endpoint),
                data=json.dumps(bundle).encode("utf-8"),
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise BarsTransportError(type(exc).__name__) from exc
        with response:
            return Delivery(
                status=response.status_code,
                issue_codes=_issue_codes(response),
                retry_after=_retry_after(response.headers.get("Retry-After"), datetime.now(UTC)),
            )
