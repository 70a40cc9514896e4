"""Which BaRS sender endpoints navigator will post status responses to (issue 16).

A referral's `MessageHeader.source.endpoint` is where its `servicerequest-response` messages
go, so it decides where patient data is sent. It is accepted only when it is an absolute URL
(https, or http to a loopback address for local tests) under one of the operator's registered
endpoints (`BARS_SENDER_ENDPOINTS`); otherwise the referral is refused when it arrives, rather
than its status being undeliverable later.

"Under" is decided on the parsed URL, never on the text: the same scheme, the same host and
the same port exactly, and the registered path as whole segments. A text prefix would let
`https://ems.example.nhs.uk.evil.net/` pass for `https://ems.example.nhs.uk` (review of
issue 16).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import SplitResult, unquote, urlsplit

from navigator.core.hosts import is_loopback_host

# The column the endpoint is kept in (`bars_referrals.sender_endpoint`, `bars_outbox.endpoint`).
MAX_ENDPOINT_LENGTH = 500
DEFAULT_PORTS = {"https": 443, "http": 80}


class _Url(NamedTuple):
    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]


def _parse(url: str) -> _Url | None:
    """The parts of an https URL (or http to a loopback host) with no user info, query or
    fragment and no `.`/`..` segment; None for anything else."""
    try:
        parts: SplitResult = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a port that is not a number, an unbalanced IPv6 bracket
        return None
    if not host or parts.username is not None or parts.password is not None:
        return None
    if parts.query or parts.fragment or "\\" in url:
        return None
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(host)):
        return None
    segments = tuple(unquote(s) for s in parts.path.split("/") if s)
    if any(s in (".", "..") or "/" in s for s in segments):
        return None
    return _Url(parts.scheme, host.lower(), port or DEFAULT_PORTS[parts.scheme], segments)


def allowed_endpoint(endpoint: str, registered: Sequence[str]) -> bool:
    """Whether status responses may be sent to `endpoint`: at most `MAX_ENDPOINT_LENGTH`
    characters, an https URL (or http to a loopback host) with no user info, query, fragment
    or dot segments, with the scheme, host and port of one of the `registered` endpoints and
    its path at or below that endpoint's path, segment by segment."""
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return False
    url = _parse(endpoint)
    if url is None:
        return False
    for entry in registered:
        base = _parse(entry) if entry else None
        if (
            base is not None
            and (base.scheme, base.host, base.port) == (url.scheme, url.host, url.port)
            and url.segments[: len(base.segments)] == base.segments
        ):
            return True
    return False
