"""Reading an ORUK API over HTTP (`navigator.directory.oruk_fetch`), against real servers on
127.0.0.1: both paged envelopes, summaries fetched one by one, the ways paging stops, retries
with backoff, timeouts, and one clear line for every answer that is not an ORUK API.

Shapes are from tests/data/oruk/NOTES.md §3 (HSDS 3.0 `Page` in the UK profile's
`openapi.json`; the HSDS-UK 1.0 Spring page in oruk-validator's `V1.0-UK` schemas) and §8
(the specification's `service_list.json` is page 1 of 10, one item, `last_page: false`).
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from navigator.directory.oruk_fetch import OrukFetcher, fetch_services, is_summary
from navigator.directory.oruk_http import FeedError, check_url
from tests.local_http import PagedFeed, json_response, serving, summary_of, uk1_service

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "oruk" / "examples"


def fetcher(base: str, **options: Any) -> OrukFetcher:
    return OrukFetcher(base, **({"timeout": 5.0, "retries": 2, "backoff": 0.01} | options))


def test_hsds_uk_1_0_pages_of_summaries_are_fetched_one_by_one() -> None:
    """HSDS-UK 1.0 envelope (`content`, `totalPages`, 1-based `?page=`, 0-based `number`), 7
    per page whatever `per_page` asks, summaries only: every `/services/{id}` is fetched and
    the whole services come back in feed order."""
    services = [uk1_service(n) for n in range(45)]
    feed = PagedFeed(services, envelope="uk1", summaries=True, max_per_page=7)
    progress: list[tuple[int, int]] = []
    with serving(feed) as base:
        got = fetcher(base, workers=4)
        result = got.fetch(lambda done, total: progress.append((done, total)))
    assert result == services
    pages = [p for p in feed.seen if p.startswith("/services?")]
    assert pages == [f"/services?page={n}&per_page=100" for n in range(1, 8)]  # 45 / 7 → 7
    assert sorted(p for p in feed.seen if p.startswith("/services/")) == sorted(
        f"/services/{s['id']}" for s in services
    )
    assert (got.stats.pages, got.stats.details, got.stats.requests) == (7, 45, 52)
    assert got.stats.warnings == []
    assert progress[-1] == (45, 45) and all(d <= t for d, t in progress)


def test_whole_services_in_the_list_are_not_fetched_again() -> None:
    """An HSDS 3.0 list whose items carry their arrays (navigator's own /oruk/ does) is read
    page by page and no `/services/{id}` is requested."""
    services = [uk1_service(n) for n in range(5)]
    feed = PagedFeed(services, max_per_page=2)
    with serving(feed) as base:
        assert fetch_services(base + "/") == services
    assert feed.seen == [f"/services?page={n}&per_page=100" for n in (1, 2, 3)]


def test_summary_test_is_the_absence_of_every_child_array() -> None:
    full = uk1_service(1)
    assert not is_summary(full)
    assert is_summary(summary_of(full))
    assert not is_summary({"id": "x", "name": "x", "schedules": []})  # an empty array counts
    assert is_summary({"id": "x", "name": "x", "schedules": None})


def _replay_examples(directory: Path, pages: int) -> tuple[Callable[..., Any], list[str]]:
    """Serve a vendored `service_list.json` as page 1 and make up pages 2..`pages` from its
    item with new ids (as the example says there are), each with `service_full.json` as its
    `/services/{id}`."""
    first = json.loads((directory / "service_list.json").read_text())
    full = json.loads((directory / "service_full.json").read_text())
    item = first["contents"][0]
    ids = [item["id"]] + [f"{item['id'][:-4]}{n:04d}" for n in range(2, pages + 1)]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/services":
            number = request.args.get("page", 1, type=int)
            page = copy.deepcopy(first)
            page["contents"] = [dict(item, id=ids[number - 1])]
            page |= {"page_number": number, "first_page": number == 1}
            page["last_page"] = number == pages
            response = json_response(page)
        elif request.path.startswith("/services/") and request.path[10:] in ids:
            response = json_response(dict(full, id=request.path[10:]))
        else:
            response = json_response({}, 404)
        return response(environ, start_response)

    return app, ids


@pytest.mark.parametrize(
    ("examples", "pages"), [("hsds-3.0", 10), ("oruk-validator/V3.0-UK-Default", 1)]
)
def test_the_specifications_example_pages(examples: str, pages: int) -> None:
    """HSDS 3.0's `service_list.json` is page 1 of 10 (`last_page: false`): the later pages are
    fetched too; the ORUK validator's is page 1 of 1. Their items are summaries (no arrays), so
    each `service_full.json` is fetched."""
    app, ids = _replay_examples(EXAMPLES / examples, pages)
    with serving(app) as base:
        got = fetcher(base)
        services = got.fetch()
    assert [s["id"] for s in services] == ids
    assert all(s["schedules"] and s["service_at_locations"] for s in services)
    assert (got.stats.pages, got.stats.details) == (pages, pages)


def test_paging_stops_at_total_pages_and_at_an_empty_page() -> None:
    """A server that never says `last_page` still stops: at `total_pages`, or (with no
    total) at the first empty page."""
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        number = Request(environ).args.get("page", 1, type=int)
        calls.append(number)
        items = [{"id": f"s{number}", "name": "x", "schedules": []}] if number <= 3 else []
        body: dict[str, Any] = {"contents": items, "last_page": False}
        if "total" in environ["PATH_INFO"]:
            body["total_pages"] = 2
        return json_response(body)(environ, start_response)

    with serving(app) as base:
        assert [s["id"] for s in fetch_services(base + "/total/")] == ["s1", "s2"]
        assert calls == [1, 2]
        calls.clear()
        assert [s["id"] for s in fetch_services(base)] == ["s1", "s2", "s3"]
        assert calls == [1, 2, 3, 4]


def test_a_server_that_ignores_page_is_read_once_with_a_warning() -> None:
    """The same page for every `?page=` (and never `last_page`): stop at the first repeat."""
    feed = PagedFeed([uk1_service(n) for n in range(3)], max_per_page=100)
    feed.page = lambda number, per_page: {"contents": feed.services, "last_page": False}  # type: ignore[method-assign]
    with serving(feed) as base:
        got = fetcher(base)
        assert len(got.fetch()) == 3
    assert got.stats.pages == 2
    assert "repeats services already read" in got.stats.warnings[0]


def test_a_feed_that_never_ends_is_refused_at_the_page_cap() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        number = Request(environ).args.get("page", 1, type=int)
        page = {"contents": [{"id": f"s{number}", "name": "x", "schedules": []}]}
        return json_response(page)(environ, start_response)

    with serving(app) as base, pytest.raises(FeedError, match="no last page after 5 pages"):
        fetcher(base, max_pages=5).fetch()


def _flaky(statuses: list[int], headers: dict[str, str]) -> tuple[Callable[..., Any], list[int]]:
    """Answers the given statuses in turn (then 200 with a one-service page); counts calls."""
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        calls.append(1)
        status = statuses[len(calls) - 1] if len(calls) <= len(statuses) else 200
        if status != 200:
            response = Response("busy", status=status, headers=headers)
        else:
            response = json_response({"contents": [uk1_service(1)], "last_page": True})
        return response(environ, start_response)

    return app, calls


def test_503_with_retry_after_is_retried_then_loads() -> None:
    app, calls = _flaky([503, 503], {"Retry-After": "0"})
    with serving(app) as base:
        got = fetcher(base, retries=2)
        assert [s["id"] for s in got.fetch()] == ["svc-0001"]
    assert len(calls) == 3 and got.stats.retries == 2 and got.stats.requests == 1


def test_retry_after_is_honoured() -> None:
    """urllib3 waits the `Retry-After` seconds a 429 asks for before trying again."""
    app, calls = _flaky([429], {"Retry-After": "1"})
    with serving(app) as base:
        started = time.perf_counter()
        fetcher(base).fetch()
        assert time.perf_counter() - started >= 0.95
    assert len(calls) == 2


def test_a_server_that_always_fails_is_a_clear_error_after_the_retries() -> None:
    app, calls = _flaky([500] * 10, {})
    with serving(app) as base, pytest.raises(FeedError) as caught:
        fetcher(base, retries=2).fetch()
    assert str(caught.value) == (
        f"{base}/services?page=1&per_page=100: HTTP 500 INTERNAL SERVER ERROR, after 2 retries"
    )
    assert len(calls) == 3


def test_a_server_that_hangs_is_a_clear_error_after_the_timeout() -> None:
    """No answer within `timeout`: retried (a read error), then one line saying so."""
    release = threading.Event()
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        calls.append(1)
        release.wait(10)
        return json_response({"contents": []})(environ, start_response)

    started = time.perf_counter()
    try:
        with serving(app) as base, pytest.raises(FeedError) as caught:
            fetcher(base, timeout=0.3, retries=1).fetch()
    finally:
        release.set()
    assert time.perf_counter() - started < 3
    assert str(caught.value) == (
        f"{base}/services?page=1&per_page=100: no answer within 0.3 s, after 1 retries (--timeout)"
    )
    assert len(calls) == 2


def test_nothing_listening_is_a_clear_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FeedError) as caught:
        fetcher(f"http://127.0.0.1:{port}/", retries=0).fetch()
    message = str(caught.value)
    assert message.startswith(f"http://127.0.0.1:{port}/services?page=1&per_page=100: ")
    assert "refused" in message.lower() and "\n" not in message and "object at" not in message


def _answer(response: Response) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return response(environ, start_response)

    return app


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            Response("<html><body>Welcome</body></html>", mimetype="text/html"),
            "answered HTML, not JSON: not an ORUK API",
        ),
        (Response("hello", mimetype="text/plain"), "the answer is not JSON: not an ORUK API"),
        (Response("{", mimetype="application/json"), "the answer is not JSON"),
        (json_response({"error": "x"}), "not an ORUK services page (no `contents` or `content`"),
        (json_response("a string"), "not an ORUK services page (a JSON str)"),
        (json_response({"detail": "missing"}, 404), "HTTP 404: not an ORUK API (no /services"),
        (Response("nope", status=403), "HTTP 403 FORBIDDEN"),
    ],
)
def test_answers_that_are_not_an_oruk_api(response: Response, expected: str) -> None:
    with serving(_answer(response)) as base, pytest.raises(FeedError) as caught:
        fetcher(base).fetch()
    assert str(caught.value).startswith(f"{base}/services")
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_an_answer_over_the_size_cap_is_refused() -> None:
    page = {"contents": [uk1_service(n) for n in range(20)], "last_page": True}
    with serving(_answer(json_response(page))) as base, pytest.raises(FeedError, match="cap"):
        fetcher(base, max_bytes=1000).fetch()


def test_a_listed_service_whose_detail_is_gone_is_left_out_with_a_warning() -> None:
    feed = PagedFeed([uk1_service(1), uk1_service(2)], summaries=True)
    del feed.by_id["svc-0002"]
    with serving(feed) as base:
        got = fetcher(base)
        assert [s["id"] for s in got.fetch()] == ["svc-0001"]
    assert got.stats.warnings == [
        f"{base}/services/svc-0002: HTTP 404 although listed; service left out"
    ]


def test_a_detail_that_is_another_service_is_an_error() -> None:
    feed = PagedFeed([uk1_service(1)], summaries=True)
    feed.by_id["svc-0001"] = uk1_service(9)
    with serving(feed) as base, pytest.raises(FeedError, match="not the service asked for"):
        fetcher(base).fetch()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/oruk/",
        "http://10.0.0.1/oruk/",
        "ftp://127.0.0.1/oruk/",
        "file:///etc/passwd",
        "https://",
    ],
)
def test_only_https_or_loopback_http(url: str) -> None:
    """A real feed is fetched over TLS: plain http only to this machine; no other scheme."""
    with pytest.raises(FeedError) as caught:
        check_url(url)
    assert str(caught.value).startswith(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/oruk/",
        "http://127.0.0.1:8000/oruk/",
        "http://[::1]:8/",
        "http://localhost/",
    ],
)
def test_https_and_loopback_http_are_allowed(url: str) -> None:
    check_url(url)


def test_a_base_given_as_the_services_url_and_its_query_are_kept() -> None:
    """`…/services` names the same API; a query on the base (e.g. a feed's own filter) goes
    on every request."""
    feed = PagedFeed([uk1_service(1)], summaries=True)
    with serving(feed) as base:
        fetcher(base + "/services?taxonomy_id=x").fetch()
    assert feed.seen == [
        "/services?taxonomy_id=x&page=1&per_page=100",
        "/services/svc-0001?taxonomy_id=x",
    ]
