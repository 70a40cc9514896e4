"""The directory's data files and index for the running app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.directory.capacity import set_capacity
from navigator.directory.index import DirectoryIndex, get_index


def directory_index() -> DirectoryIndex:
    return get_index(current_session(), GAZETTEER.get())


def service_names() -> dict[str, str]:
    """Service id → name, for pages that list services by id."""
    return {entry.id: entry.record["name"] for entry in directory_index().entries}


def stale_hours() -> int:
    return int(current_app.config["CAPACITY_STALE_HOURS"])


def update_capacity(service_id: str, body: Mapping[str, Any], *, changed_by: str) -> None:
    """Record a capacity update (a loaded `CapacityUpdateSchema`) in its own transaction, with
    this app's default reset time: one path for the API and the console."""
    with transaction(current_session()):
        set_capacity(
            current_session(),
            service_id,
            status=body["status"],
            note=body["note"],
            reset_after_minutes=body["reset_after_minutes"],
            changed_by=changed_by,
            now=utcnow(),
            default_reset_minutes=current_app.config["CAPACITY_DEFAULT_RESET_MINUTES"],
        )
