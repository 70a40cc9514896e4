"""What each client itself sent about a patient (`PatientSource`): recorded on every create
or link, and read back by the need-to-know rules (`patients/need_to_know.py`) and by what a
client without the full view is shown (`patients/shown.py`): only its own part."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.db import Base, utcnow
from navigator.core.places import Gazetteer, parse_postcode
from navigator.patients.models import Patient, PatientSource

M = TypeVar("M", bound=Base)

# The demographic fields a client can send about a patient (PatientInSchema), in the order
# the API shows them.
DEMOGRAPHICS = (
    "nhs_number",
    "name",
    "date_of_birth",
    "sex",
    "postcode",
    "gp_practice_ods",
    "care_home_service_id",
)


def source_of(session: Session, caller: Caller, patient_id: str) -> PatientSource | None:
    """What this caller itself sent about the patient, if anything."""
    return session.scalar(
        select(PatientSource).where(
            PatientSource.patient_id == patient_id, PatientSource.client_ref == caller.client_ref
        )
    )


def inserted_unless_exists(
    session: Session, model: type[M], values: Mapping[str, Any], *, on: Sequence[str]
) -> M | None:
    """`core.db.insert_unless_exists` returning the inserted row as a persistent ORM object
    (None when a row with the same `on` values already existed), so a caller that needs the
    row does not select it back: one round trip instead of two (~1 ms each on PostgreSQL,
    bench/bars_process_message.py). Same concurrency as `insert_unless_exists`: ON CONFLICT
    DO NOTHING waits for a concurrent insert of the key on PostgreSQL; SQLite has one writer.
    Raises ValueError for a database other than PostgreSQL or SQLite."""
    dialect = session.connection().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise ValueError(f"inserted_unless_exists does not support {dialect!r}")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=list(on))
        .returning(model)
    )
    return session.scalars(statement).first()


def record_source(
    session: Session,
    patient: Patient,
    data: dict[str, Any],
    *,
    client_ref: str,
    gazetteer: Gazetteer,
) -> tuple[PatientSource, bool]:
    """Remember the demographics one client sent (the latest value of each field it gave);
    returns (source, created). `place` is derived from the postcode this client sent, never
    from the record held. Flushes, in the caller's transaction."""
    sent: dict[str, Any] = {}
    for key in DEMOGRAPHICS:
        value = data.get(key)
        if value is None:
            continue
        if key == "postcode":
            parsed = parse_postcode(str(value), allow_outward=False)
            if parsed is None:
                continue
            sent["postcode"] = parsed.text
            sent["place"] = gazetteer.locate(parsed).place
        else:
            sent[key] = value.isoformat() if isinstance(value, date) else value
    now = utcnow()
    # ON CONFLICT DO NOTHING: the same client sending the same patient twice at once makes
    # one source row, and the loser merges into it below instead of failing (never a 500).
    # The new row comes back from the INSERT itself (locked by it until the transaction
    # ends, as the SELECT ... FOR UPDATE below would), saving that SELECT.
    created = inserted_unless_exists(
        session,
        PatientSource,
        {
            "patient_id": patient.id,
            "client_ref": client_ref,
            "fields": sent,
            "created_at": now,
            "updated_at": now,
        },
        on=["patient_id", "client_ref"],
    )
    if created is not None:
        return created, True
    source = session.scalar(
        select(PatientSource)
        .where(PatientSource.patient_id == patient.id, PatientSource.client_ref == client_ref)
        .with_for_update()
    )
    assert source is not None  # already there: ON CONFLICT did nothing
    # A new dict, so the JSON column is seen as changed.
    source.fields = {**source.fields, **sent}
    source.updated_at = now
    session.flush()
    return source, False
