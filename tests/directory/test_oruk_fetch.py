"""Reading an ORUK API over HTTP (`navigator.directory.oruk_fetch`), against real servers on
127.0.0.1: both paged envelopes, summaries fetched one by one, the ways paging stops, retries
with backoff, a deadline per answer (a server that drips), redirects checked before they are
followed, one service's bad id or detail never costing the rest of the feed, and one clear
line for every answer that is not an ORUK API.

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
from tests.local_http import (
    PagedFeed,
    dripping,
    head_length,
    http_answer,
    json_response,
    serving,
    summary_of,
    uk1_service,
)

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


def test_a_feed_that_announces_a_total_is_refused_soon_after_passing_it() -> None:
    """Review 15 finding 11: a feed whose first page says `total_items: 3` but that gives one
    new service a page for ever is refused once 3 + 100 (the margin) were read, not after
    10,000 pages."""
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        number = Request(environ).args.get("page", 1, type=int)
        calls.append(number)
        items = [{"id": f"s{number}", "name": "x", "schedules": []}]
        return json_response({"total_items": 3, "contents": items})(environ, start_response)

    with serving(app) as base, pytest.raises(FeedError) as caught:
        fetcher(base).fetch()
    assert str(caught.value) == (
        f"{base}/services: more than 103 services although its first page announced 3; "
        "refused (a feed that never ends?)"
    )
    assert len(calls) == 104


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
        f"{base}/services?page=1&per_page=100: no complete answer within 0.3 s, after 1 retries "
        "(--timeout)"
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


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "the answer is nested too deeply: not an ORUK API"),
        (
            b"[" + b"7" * 5000 + b"]",
            "the answer holds a number of over 4300 digits: not an ORUK API",
        ),
    ],
)
def test_json_python_cannot_parse_is_one_line(body: bytes, expected: str) -> None:
    """Review 15 finding 8: `[`×100000 makes `json.loads` raise RecursionError (it escaped as
    a traceback); now one line naming the URL. So is an integer over Python's 4300 digits,
    which is JSON but not readable here (it was called "not JSON")."""
    app = _answer(Response(body, mimetype="application/json"))
    with serving(app) as base, pytest.raises(FeedError) as caught:
        fetcher(base).fetch()
    assert str(caught.value) == f"{base}/services?page=1&per_page=100: {expected}"


def test_deep_json_that_parses_is_passed_on_for_the_loader_to_judge() -> None:
    """A service nested 900 levels deep parses; the fetcher passes it on (the loader rejects
    that service alone, tests/cli/test_directory_load_url.py) and compares it with a second
    copy without a RecursionError (different depth: reported as listed twice)."""
    deep = dict(uk1_service(1), extra=json.loads("[" * 900 + "]" * 900))
    deeper = dict(uk1_service(1), extra=json.loads("[" * 901 + "]" * 901))
    page = {"contents": [deep, uk1_service(2), deeper], "last_page": True}
    with serving(_answer(json_response(page))) as base:
        got = fetcher(base)
        services = got.fetch()
    assert [s["id"] for s in services] == ["svc-0001", "svc-0002"]
    assert "'svc-0001' is listed twice" in got.stats.warnings[0]


@pytest.mark.parametrize("extra", [0, 200], ids=["whole-body", "part-body"])
def test_a_server_that_drips_is_cut_off_at_the_deadline_and_retried(extra: int) -> None:
    """Review 15 finding 11: a byte every 0.05 s never trips a read timeout, so `timeout` is the
    longest a whole answer may take; the deadline is checked after each read of the body (so
    the body is read as it arrives, not in whole 64 KiB chunks), and a late answer is retried
    like a timeout, then one line. Unbounded before: the load read on for ever; it is again
    if that check goes. (A drip in the headers is not cut off: oruk_http's module doc.)"""
    page = json.dumps({"contents": [uk1_service(n) for n in range(5)], "last_page": True})
    answer = http_answer(page.encode())
    assert (len(answer) - head_length(answer) - extra) * 0.05 > 60  # the drip takes minutes
    started = time.perf_counter()
    with (
        dripping(answer, 0.05, at_once=head_length(answer) + extra) as (base, calls),
        pytest.raises(FeedError) as caught,
    ):
        fetcher(base, timeout=0.6, retries=1).fetch()
    took = time.perf_counter() - started
    assert str(caught.value) == (
        f"{base}/services?page=1&per_page=100: no complete answer within 0.6 s, after 1 retries "
        "(--timeout)"
    )
    assert len(calls) == 2 and 1.1 < took < 4


def test_a_slow_answer_within_the_deadline_is_read() -> None:
    """The deadline is per answer, not a read timeout in disguise: a drip that ends in time
    is a good answer (and the connection it used is not cut afterwards)."""
    answer = http_answer(json.dumps({"contents": [uk1_service(1)], "last_page": True}).encode())
    with dripping(answer, 0.0005, at_once=len(answer) - 200) as (base, calls):
        services = fetcher(base, timeout=3).fetch()
    assert [s["id"] for s in services] == ["svc-0001"] and len(calls) == 1


def test_a_long_retry_after_fails_at_once() -> None:
    """`Retry-After: 3600` is not waited for: one line at once, naming the wait asked for."""
    app, calls = _flaky([503], {"Retry-After": "3600"})
    started = time.perf_counter()
    with serving(app) as base, pytest.raises(FeedError) as caught:
        fetcher(base).fetch()
    assert time.perf_counter() - started < 2 and len(calls) == 1
    assert str(caught.value) == (
        f"{base}/services?page=1&per_page=100: HTTP 503 SERVICE UNAVAILABLE, and asks to be "
        "retried after 3600 s (navigator waits at most 60 s)"
    )


def _redirecting(location: Callable[[str], str | None]) -> Callable[..., Any]:
    """Answers 302 to `location(path)` when it gives one, else a one-service page."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = location(Request(environ).full_path)
        if target is None:
            response = json_response({"contents": [uk1_service(1)], "last_page": True})
        else:
            response = Response("", status=302, headers={"Location": target})
        return response(environ, start_response)

    return app


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://example.com/services", "plain http is allowed only to this machine"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("ftp://127.0.0.1/services", "not an http(s) URL"),
    ],
)
def test_a_redirect_is_checked_before_it_is_followed(location: str, reason: str) -> None:
    """Review 15 finding 12: a redirect to plain http elsewhere used to be followed (DNS, a
    request in clear) and refused only after; now the `Location` is held to the https-or-
    loopback rule first, and the error says so."""
    with serving(_redirecting(lambda path: location)) as base, pytest.raises(FeedError) as caught:
        fetcher(base).fetch()
    assert str(caught.value).startswith(
        f"{base}/services?page=1&per_page=100: redirect to {location} refused: {reason}"
    )


def test_redirects_on_loopback_are_followed_up_to_five() -> None:
    """A relative `Location` is resolved against the URL asked for and followed (no query of
    ours added to it); a sixth redirect in a row is refused."""
    hops: list[str] = []

    def moved(path: str) -> str | None:
        hops.append(path)
        return "/new/services?page=1&per_page=100" if path.startswith("/services") else None

    with serving(_redirecting(moved)) as base:
        assert [s["id"] for s in fetcher(base).fetch()] == ["svc-0001"]
    assert hops == ["/services?page=1&per_page=100", "/new/services?page=1&per_page=100"]
    with (
        serving(_redirecting(lambda path: "/services")) as base,
        pytest.raises(FeedError) as caught,
    ):
        fetcher(base).fetch()
    assert str(caught.value) == (
        f"{base}/services?page=1&per_page=100: more than 5 redirects; refused"
    )


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
        f"{base}/services/svc-0002: HTTP 404 although listed; service 'svc-0002' left out"
    ]


def test_a_detail_that_is_another_service_or_not_one_is_left_out_not_the_feed() -> None:
    """Review 15 finding 7: one `/services/{id}` answering another id (or a list) costs that
    service only, with a warning naming it; the summary is not loaded in its place (it has no
    hours or places, and would blank a stored service's)."""
    services = [uk1_service(n) for n in range(1, 5)]
    feed = PagedFeed(services, summaries=True)
    feed.by_id["svc-0002"] = uk1_service(9)
    feed.by_id["svc-0003"] = [uk1_service(3)]  # type: ignore[assignment]
    with serving(feed) as base:
        got = fetcher(base)
        assert [s["id"] for s in got.fetch()] == ["svc-0001", "svc-0004"]
    assert got.stats.warnings == [
        f"{base}/services/svc-0002: answered the service with id 'svc-0009'; "
        "service 'svc-0002' left out",
        f"{base}/services/svc-0003: answered a JSON list, not a service; "
        "service 'svc-0003' left out",
    ]


def test_summaries_without_a_usable_id_are_passed_on_and_never_fetched() -> None:
    """Review 15 finding 7: `"id": ""` (or blank, null, absent) names no `/services/{id}`:
    the item goes to the loader as it is (which rejects it for having no id) and `/services/`
    is never asked for as if it were a service; a whole-number id is fetched as text."""
    odd = [{"id": "", "name": "   ", "status": "active"}, {"id": "  ", "name": "x"}, {"name": "y"}]
    numbered = dict(uk1_service(7), id=7)
    feed = PagedFeed([uk1_service(1), numbered], summaries=True)
    feed.by_id["7"] = numbered
    real_page = feed.page

    def page(number: int, per_page: int) -> dict[str, Any]:
        body = real_page(number, per_page)
        return body | {"contents": [*body["contents"], *odd], "total_items": 5}

    feed.page = page  # type: ignore[method-assign]
    with serving(feed) as base:
        got = fetcher(base)
        result = got.fetch()
    assert result == [uk1_service(1), numbered, *odd]
    assert sorted(p for p in feed.seen if p.startswith("/services/")) == [
        "/services/7",
        "/services/svc-0001",
    ]
    assert got.stats.warnings == []


def test_a_service_listed_twice_with_different_content_is_reported() -> None:
    """A URL load keeps the first copy of an id, as before, but says so by id when the second
    differs (review 15, "duplicate ids"); an identical repeat is read once, silently."""
    one, two, three = uk1_service(1), uk1_service(2), uk1_service(3)
    changed = dict(one, name="Renamed between pages")
    pages = {1: [one, two], 2: [dict(two), changed, three], 3: [changed], 4: []}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        number = Request(environ).args.get("page", 1, type=int)
        return json_response({"contents": pages[number]})(environ, start_response)

    with serving(app) as base:
        got = fetcher(base)
        assert got.fetch() == [one, two, three]
    assert got.stats.warnings == [
        f"{base}/services: service 'svc-0001' is listed twice with different content; "
        "the first is kept, the second left out",
        f"{base}/services?page=3 repeats services already read: stopped paging "
        "(the server may ignore ?page=)",
    ]


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
