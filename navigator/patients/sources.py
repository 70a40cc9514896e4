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
    statement = (
        _insert(session, model)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=list(on))
        .returning(model)
    )
    return session.scalars(statement).first()


def _insert(session: Session, model: type[Base]) -> Any:
    """INSERT with ON CONFLICT, in the session's dialect. Raises ValueError for a database
    other than PostgreSQL or SQLite."""
    dialect = session.connection().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise ValueError(f"ON CONFLICT is not supported on {dialect!r}")
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


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
    statement = _insert(session, PatientSource).values(
        patient_id=patient.id, client_ref=client_ref, fields=sent, created_at=now, updated_at=now
    )
    # One statement whether or not the client has sent this patient before: ON CONFLICT DO
    # UPDATE inserts the row or locks the existing one (as SELECT ... FOR UPDATE would, so
    # two requests at once for the same client and patient merge one after the other, never
    # a 500) and returns it either way; the fields are written again only when they change.
    # Two round trips fewer than insert-then-select-then-update on a returning patient
    # (~1 ms on PostgreSQL, bench/bars_process_message.py).
    statement = statement.on_conflict_do_update(
        index_elements=["patient_id", "client_ref"],
        set_={"updated_at": statement.excluded.updated_at},
    ).returning(PatientSource)
    source = session.scalars(statement, execution_options={"populate_existing": True}).one()
    # The row's created_at is this request's own `now` only when this statement inserted it.
    if source.created_at == now:
        return source, True
    merged = {**source.fields, **sent}
    if merged != source.fields:
        source.fields = merged  # a new dict, so the JSON column is seen as changed
        session.flush()
    return source, False
