"""Real HTTP servers on 127.0.0.1 for the ORUK-over-HTTP tests and bench: a WSGI app in a
thread (werkzeug's threaded server), `PagedFeed`, a configurable ORUK `/services` API, and
`dripping`, a raw socket server that sends its answer a byte at a time."""

from __future__ import annotations

import json
import math
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@contextmanager
def serving(app: WSGIApp) -> Iterator[str]:
    """`http://127.0.0.1:PORT` of a server running `app` until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()  # the listening socket too, not left for the garbage collector


@contextmanager
def dripping(
    answer: bytes, interval: float, *, at_once: int = 0
) -> Iterator[tuple[str, list[int]]]:
    """(`http://127.0.0.1:PORT`, a list growing by one per request) of a server that reads each
    request's head, sends the first `at_once` bytes of `answer` (a whole HTTP response, head
    included) and then the rest one byte every `interval` seconds, until the client hangs up
    or the block ends. A server that is slow on purpose: each byte comes well within any read
    timeout, the whole answer never within a sensible one. (navigator's deadline is checked
    between reads of the body, so tests drip the body: `head_length`.)"""
    stop = threading.Event()
    calls: list[int] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            calls.append(1)
            sock: socket.socket = self.request
            head = b""
            while b"\r\n\r\n" not in head and (chunk := sock.recv(4096)):
                head += chunk
            try:
                sock.sendall(answer[:at_once])
                for offset in range(at_once, len(answer)):
                    if stop.wait(interval):
                        return
                    sock.sendall(answer[offset : offset + 1])
            except OSError:  # the client gave up: what the test wants
                return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def http_answer(body: bytes, content_type: str = "application/json") -> bytes:
    """A whole HTTP/1.1 200 answer with `body`, its length given, for `dripping`."""
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def head_length(answer: bytes) -> int:
    """The bytes of `answer`'s status line and headers: `dripping(..., at_once=that)` sends
    them at once and drips only the body."""
    return answer.index(b"\r\n\r\n") + 4


def json_response(data: Any, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json", headers=headers)


def summary_of(service: dict[str, Any]) -> dict[str, Any]:
    """A `/services` list item as HSDS lists give it: one-to-one fields only, no arrays."""
    return {k: v for k, v in service.items() if not isinstance(v, list)}


def uk1_service(n: int) -> dict[str, Any]:
    """A small HSDS-UK 1.0 service (keys of the reference implementation's Java models,
    tests/data/oruk/NOTES.md §1), with `"url": ""` and `"email": ""` as council feeds write
    them. `tests/directory/council_feed.py` builds whole council-like feeds."""
    sid = f"svc-{n:04d}"
    return {
        "id": sid,
        "name": f"Service {n}",
        "description": f"Community service number {n}",
        "url": "",
        "email": "",
        "status": "active",
        "organization": {"id": f"org-{n % 7}", "name": f"Organisation {n % 7}"},
        "regular_schedules": [
            {
                "id": f"{sid}-rs",
                "freq": "WEEKLY",
                "interval": "1",
                "byday": "MO",
                "opens_at": "09:00",
                "closes_at": "17:00",
            }
        ],
        "service_at_locations": [
            {
                "id": f"{sid}-sal",
                "location": {
                    "id": f"{sid}-loc",
                    "name": "Hall",
                    "physical_addresses": [
                        {
                            "id": f"{sid}-addr",
                            "address_1": "1 High Street",
                            "city": "Bedford",
                            "state_province": "Bedfordshire",
                            "postal_code": "MK40 1AA",
                            "country": "GB",
                        }
                    ],
                },
            }
        ],
        "service_taxonomys": [
            {
                "id": f"{sid}-st",
                "taxonomy": {
                    "id": "esdServiceType:242",
                    "name": "Care at home",
                    "vocabulary": "esdServiceTypes",
                },
            }
        ],
        "eligibilitys": [{"id": f"{sid}-el", "eligibility": "Older people", "minimum_age": 65}],
    }


class PagedFeed:
    """An ORUK API serving `services` under `/services` (paged, 1-based `?page=`, at most
    `max_per_page` items a page) and `/services/{id}`.

    `envelope` is "3.0" (`contents`, `total_pages`, …) or "uk1" (HSDS-UK 1.0: `content`,
    `totalPages`, Spring's 0-based `number`); `summaries` lists items without their arrays.
    Every request path with its query is kept in `seen`.
    """

    def __init__(
        self,
        services: list[dict[str, Any]],
        *,
        envelope: str = "3.0",
        summaries: bool = False,
        max_per_page: int = 50,
    ) -> None:
        self.services = services
        self.by_id = {str(s["id"]): s for s in services}
        self.envelope = envelope
        self.summaries = summaries
        self.max_per_page = max_per_page
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def page(self, number: int, per_page: int) -> dict[str, Any]:
        total_pages = max(1, math.ceil(len(self.services) / per_page))
        items = self.services[(number - 1) * per_page : number * per_page]
        if self.summaries:
            items = [summary_of(s) for s in items]
        if self.envelope == "uk1":
            return {
                "totalElements": len(self.services),
                "totalPages": total_pages,
                "number": number - 1,
                "size": per_page,
                "first": number == 1,
                "last": number >= total_pages,
                "empty": not items,
                "content": items,
            }
        return {
            "total_items": len(self.services),
            "total_pages": total_pages,
            "page_number": number,
            "size": len(items),
            "first_page": number == 1,
            "last_page": number >= total_pages,
            "empty": not items,
            "contents": items,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self._lock:
            self.seen.append(request.full_path.rstrip("?"))
        path = request.path.rstrip("/")
        if path == "/services":
            number = request.args.get("page", 1, type=int) or 1
            per_page = min(request.args.get("per_page", 50, type=int) or 50, self.max_per_page)
            response = json_response(self.page(number, per_page))
        elif path.startswith("/services/") and path[len("/services/") :] in self.by_id:
            response = json_response(self.by_id[path[len("/services/") :]])
        else:
            response = json_response({"error": "not found"}, 404)
        return response(environ, start_response)
