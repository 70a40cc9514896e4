"""Hosts that are this machine: the only ones navigator talks plain http to (a local ORUK feed
in tests, a local fake BaRS sender)."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a URL's hostname) is `localhost` or a loopback address (127.0.0.0/8,
    ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
