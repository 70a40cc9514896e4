"""HTTP for reading an Open Referral UK feed: which URLs may be fetched, and GET-as-JSON with
retries, timeouts and a size cap (`FeedHttp`). The paging through `/services` and the
`/services/{id}` details are `navigator.directory.oruk_fetch`'s.

Only `https://`, or plain `http://` to a loopback host, is fetched (`check_url`, also applied
after redirects). One `requests.Session` per worker thread, with urllib3's `Retry` (connect and
read errors, 429 and 5xx, exponential backoff, `Retry-After` honoured up to a minute), a
connect/read timeout, a `User-Agent` naming navigator, and at most `max_bytes` per answer.
Every failure is a `FeedError` whose message is one line naming the URL and what was wrong.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

MAX_BYTES = 50 * 1024 * 1024  # per answer
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_MAX = 60  # seconds: a longer Retry-After fails rather than stalls the load
LOOPBACK_NAMES = ("localhost",)


class FeedError(Exception):
    """The feed could not be read as an ORUK API; `str()` is a one-line message naming the URL."""


def _user_agent() -> str:
    try:
        release = version("navigator")
    except PackageNotFoundError:  # a source tree that was never installed
        release = "dev"
    return f"navigator/{release} (ORUK directory loader; python-requests/{requests.__version__})"


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """Refuse anything but `https://`, or `http://` to a loopback host (a real feed is fetched
    over TLS). Raises `FeedError` with the reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(f"{url}: not an http(s) URL (give the base of an ORUK API, https://…/)")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise FeedError(
            f"{url}: plain http is allowed only to this machine (127.0.0.1, ::1, localhost); "
            "a real feed must be fetched over https so that what is loaded is what was published"
        )
    if parts.fragment:
        raise FeedError(f"{url}: a URL with a #fragment is not an API base")


class _Retry(Retry):
    """urllib3's Retry, counting each retry it makes (a redirect is one too) for the stats."""

    counter: Callable[[], None] | None = None

    def new(self, **kw: Any) -> Self:
        # urllib3 calls new() once per failed attempt; an exhausted result makes no request.
        retry = super().new(**kw)
        retry.counter = self.counter
        if self.counter is not None and not retry.is_exhausted():
            self.counter()
        return retry


class FeedHttp:
    """GETs JSON from a feed: one `requests.Session` per thread (so thread-safe), with retries,
    timeouts and a size cap. `count(what)` is called with "requests" for each `get_json` and
    "retries" for each retry urllib3 makes.

    `timeout` is seconds to connect and between bytes of an answer; `retries` the retries per
    request (connect, read and 429/5xx answers together): urllib3 retries the first at once,
    then waits `backoff` × 2ⁿ⁻¹ seconds before retry n (at most 30 s), or the server's
    `Retry-After` (at most `RETRY_AFTER_MAX`). `query` is added to every request's parameters.
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
            retry = _Retry(
                total=self.retries,
                connect=self.retries,
                read=self.retries,
                status=self.retries,
                other=0,
                redirect=5,
                allowed_methods=frozenset({"GET"}),
                status_forcelist=RETRY_STATUSES,
                backoff_factor=self.backoff,
                backoff_max=30,
                raise_on_status=False,  # the last answer is reported with its status
                respect_retry_after_header=True,
                retry_after_max=RETRY_AFTER_MAX,
            )
            retry.counter = lambda: self.count("retries")
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=1)
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
        a network failure, another error status, HTML, a body over `max_bytes`, or not JSON."""
        self.count("requests")
        shown = url if not params else f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        try:
            response = self._session().get(
                url,
                params={**self.query, **(params or {})},
                timeout=(self.timeout, self.timeout),
                stream=True,
            )
        except requests.exceptions.RequestException as exc:
            raise FeedError(f"{shown}: {self._why(exc, self._after())}") from None
        with response:
            try:
                check_url(response.url)  # a redirect must not leave https for http elsewhere
            except FeedError as exc:
                raise FeedError(f"{shown} redirected to {exc}") from None
            if response.status_code == 404:
                return 404, None
            if response.status_code != 200:
                retried = f", {self._after()}" if response.status_code in RETRY_STATUSES else ""
                raise FeedError(
                    f"{shown}: HTTP {response.status_code} {response.reason or ''}".rstrip()
                    + retried
                )
            kind = response.headers.get("Content-Type", "").lower()
            if "html" in kind:
                raise FeedError(
                    f"{shown}: answered HTML, not JSON: not an ORUK API "
                    "(give the API's base, the URL whose /services lists services)"
                )
            body = self._read(shown, response)
        try:
            return 200, json.loads(body)
        except ValueError:  # UnicodeDecodeError is a ValueError too
            raise FeedError(f"{shown}: the answer is not JSON: not an ORUK API") from None

    def _read(self, shown: str, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FeedError(f"{shown}: answer of {declared} bytes is over the {self._cap()} cap")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise FeedError(f"{shown}: answer is over the {self._cap()} cap")
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:  # a body that stalls or breaks
            raise FeedError(f"{shown}: reading the answer failed: {self._why(exc)}") from None
        return b"".join(chunks)

    def _after(self) -> str:
        return "no retries" if not self.retries else f"after {self.retries} retries"

    def _why(self, exc: BaseException, after: str = "") -> str:
        """One line for a requests/urllib3 failure: a timeout says so, with the setting."""
        # urllib3's NewConnectionError (refused, unreachable) subclasses its timeout error.
        if any(
            isinstance(e, (TimeoutError, urllib3_exceptions.TimeoutError))
            and not isinstance(e, urllib3_exceptions.NewConnectionError)
            for e in _chain(exc)
        ):
            return f"no answer within {self.timeout:g} s{', ' + after if after else ''} (--timeout)"
        return _root_cause(exc) + (f", {after}" if after else "")

    def _cap(self) -> str:
        return f"{self.max_bytes / 1024 / 1024:g} MB"

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


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
