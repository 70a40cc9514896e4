"""Which BaRS sender endpoints navigator will post status responses to (issue 16).

A referral's `MessageHeader.source.endpoint` is where its `servicerequest-response` messages
go, so it decides where patient data is sent. It is accepted only when it is an absolute URL
(https, or http to a loopback address for local tests) that starts with one of the operator's
registered prefixes (`BARS_SENDER_ENDPOINTS`); otherwise the referral is refused when it
arrives, rather than its status being undeliverable later.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_endpoint(endpoint: str, prefixes: Sequence[str]) -> bool:
    """Whether status responses may be sent to `endpoint`: an https URL (or http to a loopback
    host) with no user info, starting with one of `prefixes` (compared as given)."""
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or not host:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(host)):
        return False
    return any(prefix and endpoint.startswith(prefix) for prefix in prefixes)
