"""The client's address behind reverse proxies (`navigator.web.proxy`): `X-Forwarded-For` is
believed only from `TRUSTED_PROXIES` proxies, so a client cannot choose the address the
throttles count its failures under. Issue 12 §3; OWASP ASVS 2.2.1."""

from __future__ import annotations

from flask import Flask, request

from navigator.web.proxy import install_proxy_fix


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    """Without a trusted proxy a client could pick its own address by sending the header."""

    def seen(trusted: int) -> str:
        app = Flask(__name__)
        app.config["TRUSTED_PROXIES"] = trusted

        @app.route("/")
        def where() -> str:
            return str(request.remote_addr)

        install_proxy_fix(app)
        response = app.test_client().get(
            "/",
            headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.50"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        return response.text

    assert seen(0) == "10.0.0.2"  # the default: the connection's own address
    assert seen(1) == "203.0.113.50"  # what the one proxy saw, not what the client claimed
    assert seen(2) == "192.0.2.1"
