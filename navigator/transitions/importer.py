"""`navigator transitions import FILE.csv`: bulk-load transitions, keeping the good rows.

Columns: event_id, type, occurred_at, then patient_id or nhs_number (with name,
date_of_birth, postcode to create a patient not yet known), and optionally place,
organisation, specialty, pathway, destination, from_organisation, to_organisation.
Every row is validated with the API's own schema and recorded through the same service.
Each row is its own unit of work, as if it were one API request: a bad row rolls back alone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.db import retry_on_conflict
from navigator.core.errors import Problem
from navigator.core.places import Gazetteer
from navigator.core.schemas import message_lines
from navigator.directory.reference import directory_index
from navigator.transitions.schemas import TransitionInSchema
from navigator.transitions.service import record_transition

PATIENT_COLUMNS = ("nhs_number", "name", "date_of_birth", "postcode", "sex", "gp_practice_ods")
IMPORT_CALLER = Caller(client_id=0, name="csv-import", role="admin", organisation_ods=None)


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


def _row_body(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        k: v for k, v in row.items() if v not in (None, "") and k not in PATIENT_COLUMNS
    }
    if "pathway" in body:
        body["pathway"] = int(body["pathway"]) if body["pathway"].isdigit() else body["pathway"]
    if not body.get("patient_id"):
        patient = {k: row[k] for k in PATIENT_COLUMNS if row.get(k)}
        if patient:
            body["patient"] = patient
    return body


def import_csv(session: Session, path: Path, *, gazetteer: Gazetteer) -> ImportReport:
    """Record every good row of the CSV at `path`, committing each row as it goes (the body
    of the `transitions import` command, which owns the session); the bad rows are reported
    by row number (1 is the header) and leave nothing behind."""
    report = ImportReport()
    schema = TransitionInSchema()
    index = directory_index()  # the import runs as an admin, but every caller passes one
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):  # row 1 is the header
            try:
                body = schema.load(_row_body(row))
                # One unit of work per row (rolled back on a refusal), rerun if a concurrent
                # writer records the same event_id first.
                record = partial(
                    record_transition,
                    session,
                    body,
                    caller=IMPORT_CALLER,
                    gazetteer=gazetteer,
                    index=index,
                )
                _, created = retry_on_conflict(session, record)
            except ValidationError as exc:
                details = "; ".join(message_lines(exc))
                report.errors.append(f"row {number}: {details}")
                continue
            except Problem as exc:
                report.errors.append(f"row {number}: {exc.detail or exc.title}")
                continue
            if created:
                report.created += 1
            else:
                report.duplicates += 1
    return report
