"""`navigator directory load|export|synth`: the directory of services' data."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from navigator.cli.params import CHANGED_BY_MAX
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_path
from navigator.directory.oruk_export import export_oruk
from navigator.directory.synth import synthesise


@click.group("directory")
def directory_group() -> None:
    """Directory of services data."""


@directory_group.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def directory_load(path: Path) -> None:
    """Load a directory file or folder (navigator format or Open Referral UK JSON)."""
    with transaction(current_session()):
        report = load_path(
            current_session(),
            path,
            vocab=VOCABULARY.get(),
            changed_by=f"load:{path.name}"[:CHANGED_BY_MAX],  # a file name is not bounded
        )
    for line in report.lines():
        click.echo(line)


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
