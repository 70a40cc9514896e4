"""The directory's data files and index for the running app."""

from __future__ import annotations

from flask import current_app

from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.directory.index import DirectoryIndex, get_index


def directory_index() -> DirectoryIndex:
    return get_index(current_session(), GAZETTEER.get())


def service_names() -> dict[str, str]:
    """Service id → name, for pages that list services by id."""
    return {entry.id: entry.record["name"] for entry in directory_index().entries}


def stale_hours() -> int:
    return int(current_app.config["CAPACITY_STALE_HOURS"])


def default_reset_minutes() -> int:
    """`CAPACITY_DEFAULT_RESET_MINUTES`: when an amber or red status given without a reset
    time returns to green."""
    return int(current_app.config["CAPACITY_DEFAULT_RESET_MINUTES"])
