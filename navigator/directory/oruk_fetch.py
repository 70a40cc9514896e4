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
ignores `?page=`; a warning says so). A feed that never ends is stopped with a `FeedError`:
once more services were read than the first page announced (`total_items`/`totalElements`)
plus a margin (`over_announced`), or at `max_pages` and `max_services`.

**Ids.** An item's id is usable when it is non-blank text or a whole number (`item_id`). A
service listed again with the same content is read once; with different content the first is
kept and a warning names the id. Items without a usable id are passed on as they are (the
loader rejects a service with no id).

**Summaries.** HSDS list endpoints "carry one-to-one fields only" (NOTES §8): an item is a
summary when none of `SERVICE_ARRAYS` (locations, schedules, taxonomy links in either shape)
is present as a JSON array, and its `/services/{id}` is then fetched, 4 at a time. An item
carrying any of them (navigator's own `/oruk/` lists give whole services) is taken as whole.
A detail that is a 404, not an object, or another service's is left out with a warning naming
the id, rather than loading the summary: a summary has no hours, places or taxonomy, and
loading it would blank those of a service already stored (the loader never deletes, so the
stored service stays as it was).

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
# Services read beyond what the first page announced before paging is refused: the feed may
# grow while it is read, but not by this much.
OVER_ANNOUNCED = (100, 0.1)  # (at least, fraction of the announced total)
WORKERS = 4  # concurrent /services/{id} requests: a small, polite pool

Progress = Callable[[int, int], None]


def is_summary(item: Any) -> bool:
    """Whether a `/services` list item lacks the service's child arrays (see module doc)."""
    return isinstance(item, dict) and not any(
        isinstance(item.get(key), list) for key in SERVICE_ARRAYS
    )


def item_id(item: Any) -> str | None:
    """The id of a list item as text when it can name `/services/{id}`: non-blank text, or a
    whole number. None for anything else (absent, blank, null, a boolean, an object…)."""
    ident = item.get("id") if isinstance(item, dict) else None
    if isinstance(ident, int) and not isinstance(ident, bool):
        return str(ident)
    if isinstance(ident, str) and ident.strip():
        return ident
    return None


def over_announced(announced: int) -> int:
    """How many services may be read from a feed whose first page announced `announced`."""
    least, fraction = OVER_ANNOUNCED
    return announced + max(least, int(announced * fraction))


def _same(one: Any, other: Any) -> bool:
    """`one == other`, for JSON too deep for Python's comparison too (then: not the same)."""
    try:
        return bool(one == other)
    except RecursionError:
        return False


def _shown(value: Any) -> str:
    """A value from the feed in a warning: its repr (control characters escaped), cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


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
    the longest one answer may take, from the request to its last byte (connect, redirects and
    every read included); `retries` the retries per request (a connection error, a late or
    broken answer, 429/5xx): the first at once, then `backoff` × 2ⁿ⁻¹ seconds before retry n
    (at most 30 s), or the server's `Retry-After` (at most `RETRY_AFTER_MAX`).
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
        """Every `/services` list item, in feed order, each id once (items without a usable id
        are kept for the loader to reject; see the module doc for ids listed twice)."""
        items: list[Any] = []
        seen: dict[str, Any] = {}  # id → the item first listed with it
        twice: set[str] = set()  # ids listed again with different content (warned once)
        total_items: int | None = None
        limit = self.max_services
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
            if page_number == 1 and page.total_items is not None:
                limit = min(limit, over_announced(page.total_items))
            total_items = page.total_items if page.total_items is not None else total_items
            ids, fresh = 0, []  # items not read before, those without a usable id included
            for item in page.items:
                ident = item_id(item)
                if ident is not None:
                    ids += 1
                    if ident in seen:
                        if not _same(item, seen[ident]) and ident not in twice:
                            twice.add(ident)
                            self.stats.warnings.append(
                                f"{url}: service {_shown(ident)} is listed twice with different "
                                "content; the first is kept, the second left out"
                            )
                        continue
                    seen[ident] = item
                fresh.append(item)
            if page_number > 1 and ids and all(item_id(i) is None for i in fresh):
                self.stats.warnings.append(
                    f"{url}?page={page_number} repeats services already read: stopped paging "
                    "(the server may ignore ?page=)"
                )
                break
            items.extend(fresh)
            if len(items) > limit:
                announced = (
                    f" although its first page announced {total_items}"
                    if limit < self.max_services
                    else ""
                )
                raise FeedError(
                    f"{url}: more than {limit} services{announced}; refused "
                    "(a feed that never ends?)"
                )
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
        summary whose detail is a 404 (it went between requests), not a JSON object, or another
        service's, is left out with a warning naming it (module doc). A summary without a
        usable id is passed on as it is, for the loader to judge."""
        wanted = [i for i, item in enumerate(items) if is_summary(item) and item_id(item)]
        for item in items:
            if (
                is_summary(item)
                and not item_id(item)
                and not isinstance(item.get("id"), str | None)
            ):
                self.stats.warnings.append(
                    f"{self.services_url()}: id {_shown(item['id'])} is neither text nor a "
                    "whole number; its details were not fetched"
                )
        done = len(items) - len(wanted)
        if progress:
            progress(done, len(items))
        details: dict[int, Any] = {}
        left_out: dict[int, str] = {}  # index → the warning

        def one(index: int) -> tuple[int, Any]:
            ident = item_id(items[index])
            url = self.service_url(ident)
            status, data = self.http.get_json(url)
            self._count("details")
            why = None
            if status == 404:
                why = "HTTP 404 although listed"
            elif not isinstance(data, dict):
                why = f"answered a JSON {type(data).__name__}, not a service"
            elif str(data.get("id")) != ident:
                why = f"answered the service with id {_shown(data.get('id'))}"
            if why is None:
                return index, data
            with self._lock:
                left_out[index] = f"{url}: {why}; service {_shown(ident)} left out"
            return index, None

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
        self.stats.warnings.extend(left_out[i] for i in sorted(left_out))  # in feed order
        return [
            details.get(index, item) for index, item in enumerate(items) if index not in left_out
        ]

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
