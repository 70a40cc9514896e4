"""Fetch every service of an Open Referral UK API over HTTP (`navigator directory load URL`).

Given the base of an ORUK API (`https://example.org/oruk/`; plain `http://` only on the
loopback interface), page through `GET {base}/services?page=N&per_page=100` and, when the list
items are summaries, fetch `GET {base}/services/{id}` for each. Both paged envelopes are read
(tests/data/oruk/NOTES.md §3):

- HSDS 3.0 / UK profile 3.0: `total_items, total_pages, page_number, size, first_page,
  last_page, empty, contents[]`;
- HSDS-UK 1.0 (a Spring page): `totalElements, totalPages, number, size, first, last, empty,
  content[]`.

Pages are numbered from 1 in both (HSDS `api_reference.md`; HSDS-UK 1.0 `open_api.json`).
Paging stops at whichever comes first: a page flagged last (`last_page`/`last`), an empty page,
page `total_pages`/`totalPages`, or a page that repeats services already seen (a server that
ignores `?page=`; a warning says so). A feed that never ends is stopped by `max_pages` and
`max_services` with a `FeedError`.

**Summaries.** HSDS list endpoints "carry one-to-one fields only" (NOTES §8): an item is a
summary when none of `SERVICE_ARRAYS` (locations, schedules, taxonomy links in either shape)
is present as a JSON array, and its `/services/{id}` is then fetched, 4 at a time. An item
carrying any of them (navigator's own `/oruk/` lists give whole services) is taken as whole.

The HTTP itself (allowed URLs, retries with backoff, timeouts, the size cap, one-line
`FeedError` messages) is `navigator.directory.oruk_http`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from navigator.directory.oruk_http import MAX_BYTES, FeedError, FeedHttp, check_url

# A list item holding any of these as an array is a whole service, not a summary: HSDS 3.0's
# child arrays and HSDS-UK 1.0's (whose `service_taxonomies` spelling also occurs).
SERVICE_ARRAYS = (
    "service_at_locations",
    "schedules",
    "attributes",
    "regular_schedules",
    "service_taxonomys",
    "service_taxonomies",
)
PER_PAGE = 100  # navigator's own /oruk/ allows at most 100; servers may give fewer
MAX_PAGES = 10_000
MAX_SERVICES = 100_000  # real council feeds hold hundreds; the loader keeps all in memory
WORKERS = 4  # concurrent /services/{id} requests: a small, polite pool

Progress = Callable[[int, int], None]


def is_summary(item: Any) -> bool:
    """Whether a `/services` list item lacks the service's child arrays (see module doc)."""
    return isinstance(item, dict) and not any(
        isinstance(item.get(key), list) for key in SERVICE_ARRAYS
    )


@dataclass
class Page:
    """One `/services` page, read from either envelope. `total_*` are None when not given."""

    items: list[Any]
    total_items: int | None
    total_pages: int | None
    last: bool


def read_page(url: str, data: Any) -> Page:
    """A parsed `/services` answer as a `Page`; a bare JSON array is taken as the whole feed.
    Raises `FeedError` for JSON that is not a services page."""
    if isinstance(data, list):
        return Page(data, len(data), 1, True)
    if not isinstance(data, dict):
        raise FeedError(f"{url}: not an ORUK services page (a JSON {type(data).__name__})")
    if isinstance(data.get("contents"), list):  # HSDS 3.0
        items, total_items, total_pages, last = (
            data["contents"],
            data.get("total_items"),
            data.get("total_pages"),
            data.get("last_page"),
        )
    elif isinstance(data.get("content"), list):  # HSDS-UK 1.0
        items, total_items, total_pages, last = (
            data["content"],
            data.get("totalElements"),
            data.get("totalPages"),
            data.get("last"),
        )
    else:
        keys = ", ".join(sorted(map(str, data))[:8]) or "none"
        raise FeedError(
            f"{url}: not an ORUK services page (no `contents` or `content` array; keys: {keys})"
        )

    def whole(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Page(items, whole(total_items), whole(total_pages), last is True)


@dataclass
class FetchStats:
    """What a fetch did: pages read, `/services/{id}` fetched, requests asked for, retries
    urllib3 made of them (HTTP requests sent = requests + retries), services returned, and
    warnings (one line each) for the person loading."""

    pages: int = 0
    details: int = 0
    requests: int = 0
    retries: int = 0
    services: int = 0
    warnings: list[str] = field(default_factory=list)


class OrukFetcher:
    """Reads one ORUK API. Thread-safe for the detail requests (a Session per thread).

    `timeout`, `retries`, `backoff` and `max_bytes` are the HTTP's (`FeedHttp`): `timeout` is
    seconds to connect and between bytes of an answer; `retries` the retries per request
    (connect, read and 429/5xx answers together): urllib3 retries the first at once, then waits
    `backoff` × 2ⁿ⁻¹ seconds before retry n (at most 30 s), or the server's `Retry-After` (at
    most `RETRY_AFTER_MAX`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        per_page: int = PER_PAGE,
        max_pages: int = MAX_PAGES,
        max_services: int = MAX_SERVICES,
        max_bytes: int = MAX_BYTES,
        workers: int = WORKERS,
    ) -> None:
        check_url(base_url)
        parts = urlsplit(base_url)
        path = parts.path.rstrip("/")
        if path.endswith("/services"):  # the /services URL given for the base: the same API
            path = path[: -len("/services")]
        self.base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self.per_page = per_page
        self.max_pages = max_pages
        self.max_services = max_services
        self.workers = max(1, workers)
        self.stats = FetchStats()
        self._lock = threading.Lock()
        self.http = FeedHttp(
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_bytes=max_bytes,
            query=dict(parse_qsl(parts.query)),  # kept on every request
            count=self._count,
        )

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)

    # -- the feed -----------------------------------------------------------------------------

    def services_url(self) -> str:
        return f"{self.base}/services"

    def service_url(self, ident: Any) -> str:
        return f"{self.base}/services/{quote(str(ident), safe='')}"

    def list_services(self, progress: Progress | None = None) -> list[Any]:
        """Every `/services` list item, in feed order, each id once (items without an id are
        kept for the loader to reject)."""
        items: list[Any] = []
        seen: set[str] = set()
        total_items: int | None = None
        page_number = 1
        while True:
            url = self.services_url()
            params = {"page": page_number, "per_page": self.per_page}
            status, data = self.http.get_json(url, params)
            if status == 404:
                raise FeedError(
                    f"{url}: HTTP 404: not an ORUK API (no /services under {self.base}/)"
                    if page_number == 1
                    else f"{url}?page={page_number}: HTTP 404 in the middle of the feed"
                )
            page = read_page(f"{url}?page={page_number}", data)
            self.stats.pages += 1
            total_items = page.total_items if page.total_items is not None else total_items
            ids = [str(i["id"]) for i in page.items if isinstance(i, dict) and "id" in i]
            if page_number > 1 and ids and all(i in seen for i in ids):
                self.stats.warnings.append(
                    f"{url}?page={page_number} repeats services already read: stopped paging "
                    "(the server may ignore ?page=)"
                )
                break
            for item in page.items:
                ident = str(item["id"]) if isinstance(item, dict) and "id" in item else None
                if ident is not None:
                    if ident in seen:
                        continue
                    seen.add(ident)
                items.append(item)
            if len(items) > self.max_services:
                raise FeedError(f"{url}: more than {self.max_services} services; refused")
            if progress:
                whole = sum(1 for i in items if not is_summary(i))
                progress(whole, max(total_items or 0, len(items)))
            if (
                not page.items
                or page.last
                or (page.total_pages is not None and page_number >= page.total_pages)
            ):
                break
            if page_number >= self.max_pages:
                raise FeedError(f"{url}: still no last page after {self.max_pages} pages; refused")
            page_number += 1
        if total_items is not None and total_items != len(items):
            self.stats.warnings.append(
                f"{self.services_url()} says it has {total_items} services; {len(items)} were read"
            )
        return items

    def fetch_details(
        self, items: list[Any], progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """The list items with every summary replaced by its `/services/{id}`, in order. A
        summary whose detail is a 404 is left out with a warning (it went between requests)."""
        wanted = [
            i for i, item in enumerate(items) if is_summary(item) and item.get("id") is not None
        ]
        done = len(items) - len(wanted)
        if progress:
            progress(done, len(items))
        details: dict[int, Any] = {}

        def one(index: int) -> tuple[int, Any]:
            ident = items[index]["id"]
            url = self.service_url(ident)
            status, data = self.http.get_json(url)
            self._count("details")
            if status == 404:
                return index, None
            if not isinstance(data, dict) or str(data.get("id")) != str(ident):
                got = data.get("id") if isinstance(data, dict) else type(data).__name__
                raise FeedError(f"{url}: not the service asked for (id {got!r})")
            return index, data

        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            for index, data in pool.map(one, wanted):  # in order; re-raises the first error
                details[index] = data
                done += 1
                if progress:
                    progress(done, len(items))
        finally:
            # After an error, drop the requests not yet started rather than make them all.
            pool.shutdown(wait=True, cancel_futures=True)
        out: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            if index not in details:
                out.append(item)
            elif details[index] is None:
                self.stats.warnings.append(
                    f"{self.service_url(item['id'])}: HTTP 404 although listed; service left out"
                )
            else:
                out.append(details[index])
        return out

    def fetch(self, progress: Progress | None = None) -> list[dict[str, Any]]:
        """Every service of the feed as a whole HSDS service object (see the module doc)."""
        try:
            services = self.fetch_details(self.list_services(progress), progress)
        finally:
            self.http.close()
        self.stats.services = len(services)
        return services


def fetch_services(
    base_url: str,
    *,
    progress: Progress | None = None,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 0.5,
) -> list[dict[str, Any]]:
    """Every service of the ORUK API at `base_url`, as whole HSDS service dicts (both HSDS 3.0
    and HSDS-UK 1.0 shapes, as the server gives them). Raises `FeedError`."""
    return OrukFetcher(base_url, timeout=timeout, retries=retries, backoff=backoff).fetch(progress)
