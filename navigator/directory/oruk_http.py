"""HTTP for reading an Open Referral UK feed: which URLs may be fetched, and GET-as-JSON with
a deadline per answer, retries, redirects and a size cap (`FeedHttp`). The paging through
`/services` and the `/services/{id}` details are `navigator.directory.oruk_fetch`'s.

Only `https://`, or plain `http://` to a loopback host, is fetched (`check_url`). Redirects are
not followed by requests: `FeedHttp` follows at most `MAX_REDIRECTS` itself, holding every
`Location` to the same rule *before* connecting to it. One `requests.Session` per worker thread,
a `User-Agent` naming navigator, and at most `max_bytes` per answer.

**Deadline.** `timeout` is the longest one answer may take, from the request to its last byte,
redirects included. requests times out only each connect and each read (a server that drips a
byte a second never trips that), so the deadline is checked before each request or redirect and
after each read of the body, and every connect and read has a timeout of the time left (a read
at most `READ_TIMEOUT`). A late answer is retried like a timeout. The body is read with
urllib3's `read1`, which returns what has arrived: `iter_content(n)` waits for `n` whole bytes,
so a drip would never reach the check. Bound: an answer is given up at most one read timeout
(`min(timeout, READ_TIMEOUT)`) after its deadline, except while the status line and headers are
read (inside http.client, no check there): a server that drips its *headers* is bounded only by
their size limits (100 lines of 64 KiB).

**Retries** (the `retries` per request) follow a connection error, a late or broken answer, 429
and 500/502/503/504: the first at once, then `backoff` × 2ⁿ⁻¹ seconds before retry n (at most
30 s, urllib3's formula), or the server's `Retry-After` when it sends one; one over
`RETRY_AFTER_MAX` fails at once rather than stall the load.

Every failure is a `FeedError` whose message is one line naming the URL and what was wrong.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions

from navigator.core.hosts import is_loopback_host

MAX_BYTES = 50 * 1024 * 1024  # per answer
MAX_REDIRECTS = 5
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_MAX = 60  # seconds: a longer Retry-After fails rather than stalls the load
BACKOFF_MAX = 30  # seconds
READ_TIMEOUT = 5.0  # seconds, at most, per read: how late past its deadline an answer may end
CHUNK = 64 * 1024  # bytes, at most, per read of a body


class FeedError(Exception):
    """The feed could not be read as an ORUK API; `str()` is a one-line message naming the URL."""


def _user_agent() -> str:
    try:
        release = version("navigator")
    except PackageNotFoundError:  # a source tree that was never installed
        release = "dev"
    return f"navigator/{release} (ORUK directory loader; python-requests/{requests.__version__})"


def url_problem(url: str) -> str | None:
    """Why `url` may not be fetched (one line, without the URL), or None when it may: only
    `https://`, or `http://` to a loopback host (a real feed is fetched over TLS)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # e.g. a bad IPv6 literal or port
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not host:
        return "not an http(s) URL (give the base of an ORUK API, https://…/)"
    if parts.scheme == "http" and not is_loopback_host(host):
        return (
            "plain http is allowed only to this machine (127.0.0.1, ::1, localhost); "
            "a real feed must be fetched over https so that what is loaded is what was published"
        )
    return None


def check_url(url: str) -> None:
    """Refuse a URL `url_problem` refuses, or one with a #fragment (not an API base). Raises
    `FeedError` naming the URL and the reason."""
    problem = url_problem(url) or (
        "a URL with a #fragment is not an API base" if urlsplit(url).fragment else None
    )
    if problem:
        raise FeedError(f"{url}: {problem}")


# -- GET as JSON --------------------------------------------------------------------------------


class _Retryable(Exception):
    """One attempt failed in a way worth another: `why` (one line); `wait` the seconds the
    server asked for (Retry-After), if it did; `late` when the deadline (`--timeout`) passed."""

    def __init__(self, why: str, wait: float | None = None, *, late: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.wait = wait
        self.late = late


class FeedHttp:
    """GETs JSON from a feed: one `requests.Session` per thread (so thread-safe), with a
    deadline per answer, retries, redirects checked before they are followed, and a size cap.
    `count(what)` is called with "requests" for each `get_json` and "retries" for each retry.

    `timeout` is the longest one answer may take, start to finish (module doc); `retries` the
    retries per request; `backoff` the backoff factor; `query` is added to every request's
    parameters (not to a redirect's `Location`, which is followed as given).
    """

    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        max_bytes: int,
        query: dict[str, str],
        count: Callable[[str], None],
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.query = query
        self.count = count
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=1)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = _user_agent()
            session.headers["Accept"] = "application/json"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, parsed JSON) of `GET url`; a 404 answers (404, None). Raises `FeedError` for
        a network failure or late answer after the retries, a refused redirect, another error
        status, HTML, a body over `max_bytes`, or not JSON (JSON nested too deeply for Python's
        parser included). JSON that parses, however deep, is the loader's to judge: it rejects
        a service nested too deeply alone."""
        self.count("requests")
        shown = url if not params else f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        failures = 0
        while True:
            try:
                status, body = self._attempt(url, {**self.query, **(params or {})}, shown)
                break
            except _Retryable as exc:
                if exc.wait is not None and exc.wait > RETRY_AFTER_MAX:
                    raise FeedError(
                        f"{shown}: {exc.why}, and asks to be retried after {exc.wait:g} s "
                        f"(navigator waits at most {RETRY_AFTER_MAX} s)"
                    ) from None
                if failures >= self.retries:
                    hint = " (--timeout)" if exc.late else ""
                    raise FeedError(f"{shown}: {exc.why}, {self._after()}{hint}") from None
                failures += 1
                self.count("retries")
                time.sleep(exc.wait if exc.wait is not None else self._backoff(failures))
        if status == 404:
            return 404, None
        return 200, self._parse(shown, body)

    def _attempt(self, url: str, params: dict[str, Any], shown: str) -> tuple[int, bytes]:
        """One try at the answer, redirects followed, within one deadline (module doc)."""
        target, query = url, params
        ends = time.monotonic() + self.timeout
        for _ in range(MAX_REDIRECTS + 1):
            left = self._left(ends)
            try:
                response = self._session().get(
                    target,
                    params=query,
                    timeout=(left, min(left, READ_TIMEOUT)),
                    stream=True,
                    allow_redirects=False,  # followed below, each checked first
                )
            except requests.exceptions.RequestException as exc:
                raise self._failure(shown, exc) from None
            with response:
                if response.is_redirect:
                    target, query = self._redirect(shown, target, response), {}
                    continue
                return response.status_code, self._answer(shown, response, ends)
        raise FeedError(f"{shown}: more than {MAX_REDIRECTS} redirects; refused")

    def _left(self, ends: float) -> float:
        """Seconds to the deadline `ends` (`time.monotonic()`); raises when it has passed."""
        left = ends - time.monotonic()
        if left <= 0:
            raise _Retryable(self._late(), late=True)
        return left

    def _redirect(self, shown: str, target: str, response: requests.Response) -> str:
        """The redirect's target, if the same rule allows it (checked before connecting)."""
        location, _ = urldefrag(urljoin(target, response.headers["Location"]))
        if problem := url_problem(location):
            raise FeedError(f"{shown}: redirect to {_clip(location)} refused: {problem}")
        return location

    def _answer(self, shown: str, response: requests.Response, ends: float) -> bytes:
        """The body of a 200 (b"" for a 404), read by the deadline `ends` and within the size
        cap; raises for any other status or for HTML."""
        status = response.status_code
        if status == 404:
            return b""
        if status in RETRY_STATUSES:
            why = f"HTTP {status} {response.reason or ''}".rstrip()
            raise _Retryable(why, _retry_after(response.headers.get("Retry-After", "")))
        if status != 200:
            raise FeedError(f"{shown}: HTTP {status} {response.reason or ''}".rstrip())
        if "html" in response.headers.get("Content-Type", "").lower():
            raise FeedError(
                f"{shown}: answered HTML, not JSON: not an ORUK API "
                "(give the API's base, the URL whose /services lists services)"
            )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FeedError(f"{shown}: answer of {declared} bytes is over the {self._cap()} cap")
        chunks: list[bytes] = []
        size = 0
        try:
            # read1: what has arrived (b"" at the end), so a drip still reaches the check.
            while chunk := response.raw.read1(CHUNK, decode_content=True):
                size += len(chunk)
                if size > self.max_bytes:
                    raise FeedError(f"{shown}: answer is over the {self._cap()} cap")
                chunks.append(chunk)
                self._left(ends)  # raises once the deadline has passed
        except (urllib3_exceptions.HTTPError, OSError) as exc:  # a body that stalls or breaks
            if _timed_out(exc):
                raise _Retryable(self._late(), late=True) from None
            raise _Retryable(f"reading the answer failed: {_root_cause(exc)}") from None
        return b"".join(chunks)

    def _parse(self, shown: str, body: bytes) -> Any:
        try:
            data = json.loads(body)
        except RecursionError:
            raise FeedError(f"{shown}: the answer is nested too deeply: not an ORUK API") from None
        except ValueError as exc:  # UnicodeDecodeError is a ValueError too
            if "digits" in str(exc):  # Python's limit on the digits of an integer
                raise FeedError(
                    f"{shown}: the answer holds a number of over 4300 digits: not an ORUK API"
                ) from None
            raise FeedError(f"{shown}: the answer is not JSON: not an ORUK API") from None
        return data

    def _failure(self, shown: str, exc: BaseException) -> Exception:
        """The error for a request that raised: retryable, but for TLS refused (a certificate
        that does not verify will not verify on a second try)."""
        if isinstance(exc, requests.exceptions.SSLError) and not _timed_out(exc):
            return FeedError(f"{shown}: TLS failed: {_root_cause(exc)}")
        if _timed_out(exc):
            return _Retryable(self._late(), late=True)
        return _Retryable(_root_cause(exc))

    def _backoff(self, retry: int) -> float:
        """urllib3's backoff: retry 1 at once, then `backoff` × 2ⁿ⁻¹, at most `BACKOFF_MAX`."""
        return 0.0 if retry <= 1 else min(BACKOFF_MAX, self.backoff * 2 ** (retry - 1))

    def _after(self) -> str:
        return "no retries" if not self.retries else f"after {self.retries} retries"

    def _late(self) -> str:
        return f"no complete answer within {self.timeout:g} s"

    def _cap(self) -> str:
        return f"{self.max_bytes / 1024 / 1024:g} MB"

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


def _retry_after(value: str) -> float | None:
    """Seconds from a `Retry-After` header (delay-seconds or an HTTP date), None if absent or
    unreadable (then the backoff applies)."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _clip(text: str, limit: int = 200) -> str:
    """A URL from a header, shown on one line and not too long."""
    flat = "".join(c if c.isprintable() else "?" for c in text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _timed_out(exc: BaseException) -> bool:
    # urllib3's NewConnectionError (refused, unreachable) subclasses its timeout error.
    return any(
        isinstance(e, (TimeoutError, urllib3_exceptions.TimeoutError))
        and not isinstance(e, urllib3_exceptions.NewConnectionError)
        for e in _chain(exc)
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the errors inside it: urllib3's `reason`, then `__cause__`/`__context__`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = current.__cause__ or current.__context__
        current = inner


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, in one line, without the object
    reprs urllib3 puts before the colon."""
    *_, last = _chain(exc)
    text = str(last).split(": ", 1)[-1]
    return " ".join((text or type(last).__name__).split())[:200]
