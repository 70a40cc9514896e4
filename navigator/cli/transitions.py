"""`navigator transitions import FILE.csv`: bulk-load transitions of care."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.transitions.importer import import_csv


@click.group("transitions")
def transitions_group() -> None:
    """Transitions of care."""


@transitions_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def transitions_import(path: Path) -> None:
    """Bulk-load transitions from CSV; reports row-level errors and keeps the good rows."""
    # No outer unit of work: the good rows are kept, so each row is its own (`import_csv`
    # runs every row in `retry_on_conflict`, which commits it or rolls it back).
    report = import_csv(current_session(), path, gazetteer=GAZETTEER.get())
    for error in report.errors:
        click.echo(error)
    click.echo(
        f"transitions: created {report.created}, already recorded {report.duplicates}, "
        f"rejected {len(report.errors)}"
    )
