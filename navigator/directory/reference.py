"""The directory's data files and index for the running app."""

from __future__ import annotations

from flask import current_app

from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.directory.index import DirectoryIndex, get_index


def directory_index() -> DirectoryIndex:
    """The app's directory index, brought up to date without stalling (`get_index`; the
    thresholds are settings `DIRECTORY_INDEX_INLINE_BUILD_MS`, `..._INLINE_APPLY_MAX`)."""
    config = current_app.config
    return get_index(
        current_session(),
        GAZETTEER.get(),
        inline_build_seconds=int(config["DIRECTORY_INDEX_INLINE_BUILD_MS"]) / 1000,
        inline_apply_max=int(config["DIRECTORY_INDEX_INLINE_APPLY_MAX"]),
    )


def service_names() -> dict[str, str]:
    """Service id → name, for pages that list services by id."""
    return {entry.id: entry.record["name"] for entry in directory_index().entries}


def stale_hours() -> int:
    return int(current_app.config["CAPACITY_STALE_HOURS"])


def default_reset_minutes() -> int:
    """`CAPACITY_DEFAULT_RESET_MINUTES`: when an amber or red status given without a reset
    time returns to green."""
    return int(current_app.config["CAPACITY_DEFAULT_RESET_MINUTES"])
