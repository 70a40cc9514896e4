"""Writing directory records to the tables, with change history and the revision token."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from navigator.core.db import utcnow
from navigator.directory.models import (
    DirectoryState,
    OpeningSession,
    Organisation,
    Service,
    ServiceChange,
    ServiceLocation,
)
from navigator.directory.records import (
    Record,
    location_rows,
    service_columns,
    session_rows,
)

CHUNK = 2000  # keeps IN lists and executemany batches well inside both databases' limits


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Read on every search and routing call, so built once and run on the session's connection.
_REVISION = select(DirectoryState.revision).where(DirectoryState.id == bindparam("id"))


def current_revision(session: Session) -> str | None:
    return session.connection().execute(_REVISION, {"id": 1}).scalar()


def bump_revision(session: Session) -> str:
    """Mark the directory as changed so every worker rebuilds its index."""
    token = uuid.uuid4().hex
    state = session.get(DirectoryState, 1)
    if state is None:
        session.add(DirectoryState(id=1, revision=token, changed_at=utcnow()))
    else:
        state.revision, state.changed_at = token, utcnow()
    session.flush()
    return token


def diff_fields(old: Record, new: Record) -> list[tuple[str, Any, Any]]:
    return [(key, old.get(key), new[key]) for key in new if old.get(key) != new[key]]


def insert_organisations(session: Session, records: Sequence[Record]) -> None:
    if records:
        session.execute(insert(Organisation), list(records))


def update_organisation(session: Session, record: Record) -> None:
    values = {k: v for k, v in record.items() if k != "id"}
    session.execute(update(Organisation).where(Organisation.id == record["id"]).values(values))


def insert_services(session: Session, records: Sequence[Record], *, changed_by: str) -> None:
    """Bulk-create services (fast enough for a 100,000-service synthetic directory)."""
    now = utcnow()
    for batch in chunks(records):
        session.execute(
            insert(Service),
            [service_columns(r) | {"created_at": now, "updated_at": now} for r in batch],
        )
        children = [row for r in batch for row in location_rows(r)]
        if children:
            session.execute(insert(ServiceLocation), children)
        sessions = [row for r in batch for row in session_rows(r)]
        if sessions:
            session.execute(insert(OpeningSession), sessions)
        session.execute(
            insert(ServiceChange),
            [
                {
                    "service_id": r["id"],
                    "changed_at": now,
                    "changed_by": changed_by,
                    "field": "created",
                    "old_value": None,
                    "new_value": r["name"],
                }
                for r in batch
            ],
        )


def update_service(session: Session, old: Record, new: Record, *, changed_by: str) -> None:
    """Replace a service's row and children with `new`, recording each changed field."""
    changes = diff_fields(old, new)
    if not changes:
        return
    now = utcnow()
    service_id = new["id"]
    session.execute(
        update(Service)
        .where(Service.id == service_id)
        .values(service_columns(new) | {"updated_at": now})
    )
    if old["locations"] != new["locations"]:
        session.execute(delete(ServiceLocation).where(ServiceLocation.service_id == service_id))
        if rows := location_rows(new):
            session.execute(insert(ServiceLocation), rows)
    if old["opening"] != new["opening"]:
        session.execute(delete(OpeningSession).where(OpeningSession.service_id == service_id))
        if rows := session_rows(new):
            session.execute(insert(OpeningSession), rows)
    session.execute(
        insert(ServiceChange),
        [
            {
                "service_id": service_id,
                "changed_at": now,
                "changed_by": changed_by,
                "field": field,
                "old_value": old_value,
                "new_value": new_value,
            }
            for field, old_value, new_value in changes
        ],
    )


def record_change(
    session: Session, service_id: str, field: str, old: Any, new: Any, *, changed_by: str
) -> None:
    session.add(
        ServiceChange(
            service_id=service_id,
            changed_by=changed_by,
            field=field,
            old_value=old,
            new_value=new,
            changed_at=utcnow(),
        )
    )
