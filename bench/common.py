"""Shared benchmark helpers: a fresh migrated database, a loaded directory, timing stats."""

from __future__ import annotations

import atexit
import os
import resource
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, text

from navigator import create_app
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.core.migrations import upgrade
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_documents, read_documents

ROOT = Path(__file__).resolve().parent.parent
BLMK = ROOT / "directory_of_services" / "blmk"
BLMK_POSTCODES = ["MK42 9DJ", "MK40 1AA", "LU4 0DZ", "LU1 2BQ", "MK6 5LD", "MK9 3EJ", "SG18 8AA"]
BLMK_POSTCODES += ["LU5 5AA", "MK45 2AB"]


def fresh_app(database_url: str | None) -> tuple[Flask, str]:
    """An app on an empty, migrated database (a temporary SQLite file by default)."""
    if not database_url:
        folder = tempfile.mkdtemp(prefix="navigator-bench-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        database_url = f"sqlite:///{folder}/bench.db"
    else:  # a throwaway PostgreSQL: start from an empty schema (tables, triggers, functions)
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(database_url)
    os.environ.setdefault(
        "NAVIGATOR_INSTANCE_DIR", tempfile.mkdtemp(prefix="navigator-bench-inst-")
    )
    # One process, so a throwaway signing key (required on PostgreSQL: docs/deployment.md).
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "LOG_LEVEL": "WARNING"}
    app = create_app(config | {"SECRET_KEY": secrets.token_urlsafe(32)})
    return app, database_url


def load(app: Flask, documents: list[tuple[str, Any]]) -> float:
    started = time.perf_counter()
    with app.app_context(), transaction(current_session()):
        report = load_documents(
            current_session(), documents, vocab=VOCABULARY.get(), changed_by="bench"
        )
        assert not report.rejections, report.lines()[:5]
    return time.perf_counter() - started


def blmk_documents() -> list[tuple[str, Any]]:
    return read_documents(BLMK)


def timed(fn: Callable[[], Any], count: int) -> list[float]:
    """Milliseconds per call."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    return f"n={len(samples)} median={median:.2f} ms p99={p99:.2f} ms max={ordered[-1]:.2f} ms"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
