"""The client's address behind reverse proxies: app-wide WSGI middleware, installed by
`create_app` before anything reads `request.remote_addr` (the sign-in and API-key throttles,
`auth/throttle.py`, count failures per address)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def install_proxy_fix(app: Flask) -> None:
    """Trust `X-Forwarded-For` from exactly `TRUSTED_PROXIES` proxies (0: trust none).

    With one reverse proxy in front (nginx, a load balancer), set it to 1: the address the
    proxy saw becomes `request.remote_addr`. Set it higher than the real number of proxies and
    a client can choose its own address, and with it escape the throttle.
    """
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]
