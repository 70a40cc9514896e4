"""A local fake of the part of Twilio's REST API navigator uses, for development and tests.

- `POST /2010-04-01/Accounts/{sid}/Messages.json` creates a message (basic auth checked) and,
  after a short delay, POSTs signed status callbacks (`sent`, then `delivered`) to its
  StatusCallback; `GET .../Messages/{MessageSid}.json` fetches one; `GET .../Messages.json`
  lists them (filters `To`, `From`, `DateSent>`).
- Control: `POST /_fake/fail?count=N&mode=500|timeout|accept_timeout[&seconds=S]` (the next N
  creates fail: a 500; a hang of S seconds before accepting; or accepting then hanging),
  `POST /_fake/slow?seconds=S`, `POST /_fake/undeliverable?to=+44...`,
  `POST /_fake/reply` `{"from": ..., "body": ...}` (a signed inbound webhook to
  PUBLIC_BASE_URL/webhooks/twilio/inbound), `GET /_fake/messages`, `POST /_fake/reset`.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse
from urllib.request import Request, urlopen

from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

API_PREFIX = "/2010-04-01/Accounts/"
CALLBACK_SENDERS = 4


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class FakeTwilio:
    """Start with `start()` (a thread; port 0 picks a free port), stop with `stop()`."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        public_base_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_delay: float = 0.05,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.public_base_url = public_base_url.rstrip("/")
        self.callback_delay = callback_delay
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.callbacks_enabled = True
        self.failures: list[tuple[str, float]] = []
        self.slow_seconds = 0.0
        self.undeliverable: set[str] = set()
        self.callback_log: list[tuple[str, int]] = []
        self._callbacks: queue.Queue[tuple[float, str, dict[str, str]] | None] = queue.Queue()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeTwilio:
        self._start_callback_senders()
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        return self

    def stop(self) -> None:
        for _ in range(CALLBACK_SENDERS):
            self._callbacks.put(None)
        self.server.shutdown()
        self.server.server_close()

    def serve_forever(self) -> None:
        """Run in the foreground (the `navigator fake-twilio` command)."""
        self._start_callback_senders()
        self.server.serve_forever()

    def _start_callback_senders(self) -> None:
        # Several at once, as Twilio: a message's receipts may arrive out of order.
        for _ in range(CALLBACK_SENDERS):
            threading.Thread(target=self._deliver_callbacks, daemon=True).start()

    # --- controls -------------------------------------------------------------------------

    def fail(self, count: int, mode: str = "500", seconds: float = 2.0) -> None:
        if mode not in ("500", "timeout", "accept_timeout"):
            raise ValueError(f"unknown failure mode {mode!r}")
        with self.lock:
            self.failures += [(mode, seconds)] * count

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.failures.clear()
            self.callback_log.clear()
            self.undeliverable.clear()
            self.slow_seconds = 0.0
            self.callbacks_enabled = True

    def sent(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.messages]

    def reply(self, from_number: str, body: str) -> int:
        """Send a signed inbound-message webhook, as Twilio does for a text to our number."""
        params = {
            "MessageSid": _sid("SM"),
            "AccountSid": self.account_sid,
            "From": from_number,
            "To": self.messages[-1]["from"] if self.messages else "+447700900000",
            "Body": body,
            "NumMedia": "0",
        }
        return self.post_signed(f"{self.public_base_url}/webhooks/twilio/inbound", params)

    def post_signed(self, url: str, params: dict[str, str], token: str | None = None) -> int:
        signature = RequestValidator(token or self.auth_token).compute_signature(url, params)
        request = Request(  # noqa: S310 - the configured local URL
            url,
            data=urlencode(params).encode(),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            method="POST",
        )
        try:
            with urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except OSError as exc:
            code = getattr(exc, "code", None)
            return int(code) if code else 0

    # --- behaviour --------------------------------------------------------------------------

    def _resource(self, message: dict[str, Any]) -> dict[str, Any]:
        created = message["created"]
        return {
            "sid": message["sid"],
            "account_sid": self.account_sid,
            "to": message["to"],
            "from": message["from"],
            "messaging_service_sid": message["messaging_service_sid"],
            "body": message["body"],
            "status": message["status"],
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": format_datetime(created, usegmt=True),
            "date_updated": format_datetime(created, usegmt=True),
            "date_sent": format_datetime(created, usegmt=True),
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "GBP",
            "api_version": "2010-04-01",
            "uri": f"{API_PREFIX}{self.account_sid}/Messages/{message['sid']}.json",
        }

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not form.get("To") or not form.get("Body"):
            return 400, {"code": 21604, "message": "A 'To' and 'Body' are required", "status": 400}
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, {"code": 21603, "message": "A 'From' is required", "status": 400}
        message: dict[str, Any] = {
            "sid": _sid("SM"),
            "to": form["To"],
            "from": form.get("From") or "+447700900000",
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "queued",
            "status_callback": form.get("StatusCallback"),
            "created": datetime.now(UTC).replace(microsecond=0),
        }
        with self.lock:
            self.messages.append(message)
        if message["status_callback"] and self.callbacks_enabled:
            final = "undelivered" if message["to"] in self.undeliverable else "delivered"
            for step, status in enumerate(("sent", final), start=1):
                self._callbacks.put(
                    (
                        time.monotonic() + self.callback_delay * step,
                        message["status_callback"],
                        {"MessageSid": message["sid"], "MessageStatus": status},
                    )
                )
        return 201, self._resource(message)

    def _deliver_callbacks(self) -> None:
        while (item := self._callbacks.get()) is not None:
            due, url, params = item
            time.sleep(max(0.0, due - time.monotonic()))
            sid, to = params["MessageSid"], ""
            with self.lock:
                for message in self.messages:
                    if message["sid"] == sid:
                        message["status"] = params["MessageStatus"]
                        to = message["to"]
            full = params | {"AccountSid": self.account_sid, "SmsStatus": params["MessageStatus"]}
            full |= {"To": to, "ApiVersion": "2010-04-01"}
            code = self.post_signed(url, full)
            with self.lock:
                self.callback_log.append((params["MessageStatus"], code))

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        to = (query.get("To") or [""])[0]
        after = (query.get("DateSent>") or [""])[0]
        since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
        with self.lock:
            found = [
                self._resource(m)
                for m in reversed(self.messages)
                if (not to or m["to"] == to) and (since is None or m["created"] >= since)
            ]
        return {"messages": found, "next_page_uri": None, "page": 0, "page_size": len(found)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and
            # delayed ACKs stall each kept-alive response by ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                log.debug(format, *args)

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _form(self) -> dict[str, str]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    return {str(k): str(v) for k, v in (json.loads(raw or "{}")).items()}
                return {k: v[0] for k, v in parse_qs(raw).items()}

            def _authorised(self) -> bool:
                expected = f"{fake.account_sid}:{fake.auth_token}".encode()
                header = self.headers.get("Authorization", "")
                if header == "Basic " + base64.b64encode(expected).decode():
                    return True
                self._form()  # read the unread body, or the kept-alive connection breaks
                self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return False

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                path = url.path
                if path.startswith("/_fake/"):
                    self._control(method, path, query)
                    return
                prefix = f"{API_PREFIX}{fake.account_sid}/Messages"
                if not path.startswith(prefix):
                    self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                    return
                if not self._authorised():
                    return
                rest = path[len(prefix) :]
                if method == "POST" and rest == ".json":
                    self._create()
                elif method == "GET" and rest == ".json":
                    self._send(200, fake._list(query))
                elif method == "GET" and rest.startswith("/") and rest.endswith(".json"):
                    sid = rest[1:-5]
                    with fake.lock:
                        found = [m for m in fake.messages if m["sid"] == sid]
                    if found:
                        self._send(200, fake._resource(found[0]))
                    else:
                        self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                else:
                    self._send(405, {"code": 20004, "message": "Method not allowed"})

            def _create(self) -> None:
                form = self._form()
                with fake.lock:
                    failure = fake.failures.pop(0) if fake.failures else None
                    slow = fake.slow_seconds
                if slow:
                    time.sleep(slow)
                if failure and failure[0] == "500":
                    self._send(500, {"code": 20500, "message": "Internal error", "status": 500})
                    return
                if failure and failure[0] == "timeout":
                    time.sleep(failure[1])
                    self._send(503, {"code": 20503, "message": "Unavailable", "status": 503})
                    return
                status, body = fake._create(form)
                if failure:  # accept_timeout: accepted, but the answer comes too late
                    time.sleep(failure[1])
                self._send(status, body)

            def _control(self, method: str, path: str, query: dict[str, list[str]]) -> None:
                def arg(name: str, default: str) -> str:
                    return (query.get(name) or [default])[0]

                actions: dict[tuple[str, str], Callable[[], Any]] = {
                    ("POST", "/_fake/fail"): lambda: fake.fail(
                        int(arg("count", "1")), arg("mode", "500"), float(arg("seconds", "2"))
                    ),
                    ("POST", "/_fake/slow"): lambda: setattr(
                        fake, "slow_seconds", float(arg("seconds", "0"))
                    ),
                    ("POST", "/_fake/undeliverable"): lambda: fake.undeliverable.add(arg("to", "")),
                    ("POST", "/_fake/reset"): fake.reset,
                    ("GET", "/_fake/messages"): lambda: {"messages": fake.sent()},
                }
                if (method, path) == ("POST", "/_fake/reply"):
                    form = self._form()
                    code = fake.reply(form.get("from", ""), form.get("body", ""))
                    self._send(200, {"webhook_status": code})
                    return
                action = actions.get((method, path))
                if action is None:
                    self._send(404, {"message": "unknown control"})
                    return
                try:
                    result = action()
                except ValueError as exc:
                    self._send(400, {"message": str(exc)})
                    return
                self._send(200, result if isinstance(result, dict) else {"ok": True})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

        return Handler
