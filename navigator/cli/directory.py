"""`navigator directory load|export|synth`: the directory of services' data."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml
from flask import current_app
from flask.cli import with_appcontext

from navigator.cli.params import CHANGED_BY_MAX
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_documents, read_documents
from navigator.directory.oruk_export import export_oruk
from navigator.directory.oruk_fetch import OrukFetcher
from navigator.directory.oruk_http import FeedError, check_url
from navigator.directory.synth import synthesise


@click.group("directory")
def directory_group() -> None:
    """Directory of services data."""


class PathOrUrl(click.ParamType):
    """A file or folder that exists, or the http(s) base URL of an ORUK API."""

    name = "PATH|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "://" in value:
            try:
                check_url(value)
            except FeedError as exc:
                self.fail(str(exc), param, ctx)
            return value
        return click.Path(exists=True, path_type=Path).convert(value, param, ctx)


def _fetch(url: str, timeout: float, retries: int) -> list[dict[str, Any]]:
    """Every service of the feed at `url`, with a progress bar on stderr; statistics and
    warnings on stderr too, so stdout carries only the load report."""
    fetcher = OrukFetcher(url, timeout=timeout, retries=retries)
    started = time.perf_counter()
    with click.progressbar(length=0, label="fetching services", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, done, 1)
            bar.update(done - bar.pos)

        try:
            services = fetcher.fetch(progress)
        except FeedError as exc:
            raise click.ClickException(str(exc)) from None
    stats = fetcher.stats
    for warning in stats.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"fetched {stats.services} services from {fetcher.base}/ in "
        f"{time.perf_counter() - started:.1f} s: {stats.pages} pages, {stats.details} "
        f"services fetched one by one, {stats.requests + stats.retries} HTTP requests "
        f"({stats.retries} retries)",
        err=True,
    )
    return services


@directory_group.command("load")
@click.argument("source", type=PathOrUrl())
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    default=30.0,
    show_default=True,
    help="URL only: the longest one answer may take, from the request to its last byte "
    "(a late answer is retried).",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=3,
    show_default=True,
    help="URL only: retries of each request after a network error, 429 or 5xx (with backoff).",
)
@click.option(
    "--trust-classification",
    is_flag=True,
    help="The feed is navigator's own export or another navigator's; its service types, needs "
    "and eligibility are taken as given. Without it, navigator's own classification in a "
    "feed is ignored (with a warning) and its services are classified like any other feed's.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the load report as JSON to this file.",
)
@with_appcontext
def directory_load(
    source: Path | str,
    timeout: float,
    retries: int,
    trust_classification: bool,
    report_file: Path | None,
) -> None:
    """Load a directory file or folder (navigator format or Open Referral UK JSON), or every
    service of an Open Referral UK API from its base URL (https://…/, or http:// on this
    machine). Exits 0 when it loaded, even if some records were rejected (they are listed);
    non-zero when the source could not be read."""
    if isinstance(source, Path):
        try:
            documents = read_documents(source)
        except (
            OSError,
            ValueError,
            yaml.YAMLError,
        ) as exc:  # JSON and UTF-8 errors are ValueErrors
            raise click.ClickException(f"{source}: cannot be read: {exc}") from None
        name = source.name
    else:
        documents = [(source, _fetch(source, timeout, retries))]
        name = source
    with transaction(current_session()):
        report = load_documents(
            current_session(),
            documents,
            vocab=VOCABULARY.get(),
            changed_by=f"load:{name}"[:CHANGED_BY_MAX],  # a file name or URL is not bounded
            trust_classification=trust_classification,
        )
    for line in report.lines():
        click.echo(line)
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")


@directory_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["oruk"]), required=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)"
)
@click.option(
    "--public",
    is_flag=True,
    help="Leave out professional-only contact and referral details (as the open /oruk/ feed does).",
)
@with_appcontext
def directory_export(fmt: str, out: Path | None, public: bool) -> None:
    """Export the whole directory as Open Referral UK (HSDS 3.0) JSON."""
    data = export_oruk(current_session(), include_professional=not public)  # reads only
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"exported {len(data)} services to {out}", err=True)
    else:
        click.echo(text)


@directory_group.command("synth")
@click.option("--services", "count", type=click.IntRange(1, 2_000_000), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@with_appcontext
def directory_synth(count: int, out: Path, seed: int) -> None:
    """Write a synthetic England-wide directory (for benchmarks) in navigator format."""
    data = synthesise(count, seed=seed, data_dir=current_app.config["NAVIGATOR_DIRECTORY_DATA"])
    out.write_text(json.dumps(data), encoding="utf-8")
    click.echo(f"wrote {len(data['services'])} services to {out}")
