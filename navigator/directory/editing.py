"""Changing one service from the console, through the same validation as a directory load.

A change is applied to the service's canonical record, and the result must pass the data
format's schema and vocabulary checks before anything is written; every changed field then
lands in the change history, and the change is logged for every node's index (`bump_revision`
with the service's id: each applies it on its next request).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from navigator.core.errors import Problem
from navigator.core.schemas import field_messages
from navigator.core.vocabulary import Vocabulary
from navigator.directory.records import (
    Record,
    ServiceSchema,
    canonical_service,
    vocabulary_errors,
)
from navigator.directory.store import bump_revision, read_services, update_service


class EditRejected(Exception):
    """The edited record is not valid; `errors` maps dotted field names to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def current_record(session: Session, service_id: str) -> Record:
    record = read_services(session, [service_id]).get(service_id)
    if record is None:
        raise Problem(404, f"No service with id {service_id!r}.")
    return record


def edit_service(
    session: Session,
    service_id: str,
    updates: Mapping[str, Any],
    *,
    vocab: Vocabulary,
    changed_by: str,
) -> Record:
    """Apply `updates` (dotted paths such as `contact.public_phone`) and save; the new record.

    Raises EditRejected, naming each field that is wrong, and writes nothing in that case.
    """
    old = current_record(session, service_id)
    raw = copy.deepcopy(old)
    for path, value in updates.items():
        *parents, leaf = path.split(".")
        target = raw
        for key in parents:
            target = target.setdefault(key, {})
        target[leaf] = value
    if raw["id"] != service_id:
        raise EditRejected({"id": ["A service's id cannot be changed"]})
    try:
        data = ServiceSchema().load(raw)
    except ValidationError as exc:
        raise EditRejected(field_messages(exc)) from exc
    new = canonical_service(data)
    if errors := vocabulary_errors(new, vocab):
        raise EditRejected(errors)
    if new != old:
        update_service(session, old, new, changed_by=changed_by)
        bump_revision(session, [service_id])
    return new


def confirm_details(
    session: Session, service_id: str, *, vocab: Vocabulary, confirmed_by: str, now: datetime
) -> Record:
    """Someone checked the entry with the service: it is assured as of now."""
    return edit_service(
        session,
        service_id,
        {"assured_at": now.isoformat(), "assured_by": confirmed_by},
        vocab=vocab,
        changed_by=confirmed_by,
    )
