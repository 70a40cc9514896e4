"""`navigator directory load URL` end to end (fetch over HTTP + load), on two 1,000-service
feeds served on 127.0.0.1:

1. another navigator's `/oruk/` (a synthetic directory from `navigator directory synth`, on
   its own SQLite database, under werkzeug's threaded server): pages of 100 whole services;
2. a council-like HSDS-UK 1.0 feed (`tests/directory/council_feed.py`: blank and malformed
   contacts, every schedule form, ESD and council taxonomies) listed as summaries (`content`,
   `totalPages`, 50 a page), so every service is also fetched from `/services/{id}`, 4 at a
   time.

Each feed server runs in its own process (not sharing the loader's GIL). Each feed is loaded
into an empty database with the real command (click's runner, in this process), then loaded
again (everything unchanged). Prints seconds (the fetch's share in brackets), services/s,
pages, `/services/{id}` requests and HTTP requests, and the load's counts.

    .venv/bin/python bench/oruk_load.py [--services 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import re
import sys
import time
from multiprocessing import Queue
from typing import Any

from common import ROOT, fresh_app, load
from werkzeug.serving import make_server

from navigator.directory.synth import synthesise

sys.path.insert(0, str(ROOT))  # the tests' ORUK feed server and council-like feed builder
from tests.directory.council_feed import council_feed
from tests.local_http import PagedFeed

FETCHED = re.compile(
    r"fetched (\d+) services .* in ([\d.]+) s: (\d+) pages, (\d+) services fetched one by "
    r"one, (\d+) HTTP requests"
)


def load_url(database_url: str | None, url: str, label: str, *, trust: bool) -> None:
    """Load the feed at `url` twice into a fresh database (`trust`: it is another navigator's
    /oruk/, so `--trust-classification`, as an operator would load it)."""
    app, backend_url = fresh_app(database_url)
    backend = backend_url.split(":", 1)[0]
    for attempt in ("first load", "again"):
        started = time.perf_counter()
        flags = ["--trust-classification"] if trust else []
        result = app.test_cli_runner().invoke(args=["directory", "load", url, *flags])
        seconds = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        fetched = FETCHED.search(result.output)
        assert fetched, result.output
        services, pages, details, requests = map(int, fetched.group(1, 3, 4, 5))
        fetch_seconds = float(fetched.group(2))
        counts = next(x for x in result.output.splitlines() if x.startswith("services: "))
        print(
            f"[{backend}] {label}, {attempt}: {seconds:.2f} s (fetch {fetch_seconds:.1f} s), "
            f"{services / seconds:.0f} services/s; {pages} pages, {details} /services/{{id}}, "
            f"{requests} requests; "
            f"{counts}"
        )


def _serve_navigator(services: int, port: Queue[int]) -> None:
    """Child process: another navigator with `services` synthetic services, serving."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    source, _ = fresh_app(None)  # always its own SQLite file
    data = synthesise(services, seed=2026, data_dir=source.config["NAVIGATOR_DIRECTORY_DATA"])
    load(source, [("synth", data)])
    _serve(source, port)


def _serve_uk1(services: int, port: Queue[int]) -> None:
    """Child process: a council-like HSDS-UK 1.0 feed of summaries, 50 a page, serving."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    feed = PagedFeed(
        council_feed(services, seed=15, council="Bedford Borough Council"),
        envelope="uk1",
        summaries=True,
        max_per_page=50,
    )
    _serve(feed, port)


def _serve(app: Any, port: Queue[int]) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port.put(server.server_port)
    server.serve_forever()


def _feed(target: Any, services: int) -> tuple[multiprocessing.Process, str]:
    """A feed server in its own process (not sharing the loader's GIL): (process, base URL)."""
    port: Queue[int] = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(services, port), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{port.get(timeout=600)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--database-url", help="where the feed is loaded (default SQLite)")
    args = parser.parse_args()
    for target, path, label, trust in (
        (_serve_navigator, "/oruk/", "navigator /oruk/ (whole services)", True),
        (_serve_uk1, "/", "council HSDS-UK 1.0 summaries", False),
    ):
        process, base = _feed(target, args.services)
        try:
            load_url(args.database_url, base + path, label, trust=trust)
        finally:
            process.terminate()
            process.join()


if __name__ == "__main__":
    main()
