"""A local fake of a BaRS sender's receiving side (an NHS 111 system's `$process-message`), for
development and tests: the place navigator's `servicerequest-response` messages go.

`POST {base}/$process-message` (any path ending in `/$process-message`) as a BaRS receiver
answers it (NHSDigital/booking-and-referral-fhir-api, `specification/booking-and-referral-
1.4.0.yaml` and `examples1.4.0/OperationOutcome/REC/*.json`):
- `X-Request-Id` or `X-Correlation-Id` missing or not a UUID → 400 `REC_BAD_REQUEST`;
- an `X-Request-Id` it already accepted → 409 `REC_CONFLICT` with issue code `duplicate`;
- a body that is not a FHIR R4B message Bundle with a MessageHeader (parsed with
  `fhir.resources`) → 400 `REC_BAD_REQUEST` `invalid`;
- otherwise the message is recorded and answered 200 with an OperationOutcome `informational`.

Misbehaviour on demand, so tests can prove "exactly once":
- `fail_next(n, status=503, retry_after=None)`: the next n messages are answered `status`
  (503 `REC_SERVICE_UNAVAILABLE`, 422, 400 …) without being recorded;
- `down()` / `up()`: the listening socket is closed (connection refused) and opened again on
  the same port;
- `answer_late(n, seconds)`: the next n messages are recorded (the message is taken) but the
  answer comes only after `seconds`, later than the client waits.
`messages` lists what was accepted (request id, correlation id, headers, bundle) and `attempts`
counts every POST that reached it; `GET {base}/_fake/messages` shows the same read-only, as JSON
(`listing()`), for a person trying it by hand (`navigator fake-bars-sender`). Listens on
loopback only.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fhir.resources.R4B.bundle import Bundle

OPERATION = "/$process-message"
LISTING = "/_fake/messages"  # GET: what was accepted, read-only
REC_CODES_SYSTEM = "https://fhir.nhs.uk/Codesystem/http-error-codes"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Received:
    """One accepted message."""

    request_id: str
    correlation_id: str
    headers: dict[str, str]
    bundle: dict[str, Any]
    path: str


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    delay: float = 0.0  # seconds before answering
    retry_after: str | None = None


@dataclass
class _Plan:
    failures: list[tuple[int, float | None]] = field(default_factory=list)
    late: list[float] = field(default_factory=list)


def operation_outcome(
    code: str, rec: str | None, diagnostics: str, severity: str = "error"
) -> bytes:
    """A BaRS receiver's OperationOutcome body (the REC examples' shape; no details without a
    REC code)."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if rec:
        issue["details"] = {"coding": [{"system": REC_CODES_SYSTEM, "code": rec}]}
    return json.dumps(
        {
            "resourceType": "OperationOutcome",
            "id": str(uuid.uuid4()),
            "meta": {
                "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome"]
            },
            "issue": [issue],
        }
    ).encode()


REC_BY_STATUS = {
    400: ("invalid", "REC_BAD_REQUEST"),
    408: ("timeout", "REC_TIMEOUT"),
    422: ("not-supported", "REC_UNPROCESSABLE_ENTITY"),
    429: ("throttled", "REC_TOO_MANY_REQUESTS"),
    500: ("exception", "REC_SERVER_ERROR"),
    503: ("transient", "REC_SERVICE_UNAVAILABLE"),
}


def _uuid(value: str | None) -> bool:
    try:
        return value is not None and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


class FakeBarsSender:
    """Start with `start()` (a thread; port 0 picks a free port), stop with `stop()`; `url` is
    the base to register as a sender endpoint (`{url}/bars`)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK:
            raise ValueError("the fake BaRS sender listens on a loopback address only")
        self.host = host
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.attempts = 0
        self._seen: set[str] = set()
        self._plan = _Plan()
        self.server: ThreadingHTTPServer | None = self._bind(port)
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """The endpoint a referral's MessageHeader.source.endpoint names."""
        return f"{self.url}/bars"

    def _bind(self, port: int) -> ThreadingHTTPServer:
        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer((self.host, port), self._handler())
        server.daemon_threads = True
        return server

    def start(self) -> FakeBarsSender:
        assert self.server is not None
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        assert self.server is not None
        self.server.serve_forever()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def down(self) -> None:
        """Close the listening socket: connections are refused until `up()`."""
        self.stop()

    def up(self) -> None:
        """Listen again on the same port."""
        if self.server is None:
            self.server = self._bind(self.port)
            self.start()

    def __enter__(self) -> FakeBarsSender:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- misbehaviour ------------------------------------------------------------------------

    def fail_next(self, count: int, *, status: int = 503, retry_after: float | None = None) -> None:
        with self.lock:
            self._plan.failures.extend([(status, retry_after)] * count)

    def answer_late(self, count: int, *, seconds: float) -> None:
        with self.lock:
            self._plan.late.extend([seconds] * count)

    def received(self, request_id: str | None = None) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if request_id is None or m.request_id == request_id]

    def listing(self) -> dict[str, Any]:
        """What `GET /_fake/messages` answers: `{"attempts": int, "messages": [{"request_id",
        "correlation_id", "path", "event", "bundle"}]}`, oldest first (`event` is the
        MessageHeader's event code, e.g. `servicerequest-response`)."""
        with self.lock:
            return {
                "attempts": self.attempts,
                "messages": [
                    {
                        "request_id": m.request_id,
                        "correlation_id": m.correlation_id,
                        "path": m.path,
                        "event": m.bundle["entry"][0]["resource"]
                        .get("eventCoding", {})
                        .get("code"),
                        "bundle": m.bundle,
                    }
                    for m in self.messages
                ],
            }

    # --- HTTP --------------------------------------------------------------------------------

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """The answer to one POST."""
        if not path.endswith(OPERATION):
            return _Answer(404, operation_outcome("not-found", "REC_NOT_FOUND", "unknown path"))
        request_id, correlation_id = headers.get("x-request-id"), headers.get("x-correlation-id")
        with self.lock:
            self.attempts += 1
            if self._plan.failures:
                status, retry_after = self._plan.failures.pop(0)
                code, rec = REC_BY_STATUS.get(status, ("processing", None))
                return _Answer(
                    status,
                    operation_outcome(code, rec, "told to fail"),
                    retry_after=None if retry_after is None else f"{retry_after:g}",
                )
            if not (_uuid(request_id) and _uuid(correlation_id)):
                return _Answer(400, operation_outcome("invalid", "REC_BAD_REQUEST", "bad ids"))
            assert request_id is not None
            assert correlation_id is not None
            if request_id in self._seen:
                return _Answer(
                    409,
                    operation_outcome(
                        "duplicate",
                        "REC_CONFLICT",
                        "the message has been identified as having already been processed.",
                    ),
                )
            try:
                data = json.loads(body)
                bundle = Bundle.model_validate(data)
            except ValueError:
                return _Answer(400, operation_outcome("invalid", "REC_BAD_REQUEST", "not a Bundle"))
            entries = bundle.entry or []
            first = entries[0].resource if entries else None
            if (
                bundle.type != "message"
                or first is None
                or first.get_resource_type() != ("MessageHeader")
            ):
                return _Answer(
                    400, operation_outcome("invalid", "REC_BAD_REQUEST", "not a message")
                )
            self._seen.add(request_id)
            self.messages.append(Received(request_id, correlation_id, headers, data, path))
            delay = self._plan.late.pop(0) if self._plan.late else 0.0
        ok = operation_outcome("informational", None, "message processed", "information")
        return _Answer(200, ok, delay=delay)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # no request lines (they carry ids) on stderr

            def do_GET(self) -> None:
                if self.path.split("?")[0].rstrip("/") != LISTING:
                    body, status = operation_outcome("not-found", "REC_NOT_FOUND", "unknown"), 404
                else:
                    body, status = json.dumps(fake.listing(), indent=2).encode(), 200
                self.send_response(status)
                self.send_header(
                    "Content-Type", "application/json" if status == 200 else "application/fhir+json"
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = fake._handle(self.path, headers, body)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    for name in ("X-Request-Id", "X-Correlation-Id"):
                        if value := self.headers.get(name):
                            self.send_header(name, value)
                    if answer.retry_after:
                        self.send_header("Retry-After", answer.retry_after)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up waiting: what `answer_late` is for

        return Handler
