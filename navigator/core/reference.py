"""App-bound reference data: loaded once per app, validated, then shared read-only.

Reference data is what routing and validation read on every request but people change only
by deploying: the vocabulary, the gazetteer, the rule set, the follow-up plan. Each is a
`Reference` declared in its package's `reference.py` module and read with `.get()`:

    from navigator.rules.reference import RULESET
    ruleset = RULESET.get()

`create_app` installs the ones that must be valid before the service starts (an invalid rule
set or follow-up plan stops start-up with the file's problems listed); the rest load on first
use in each app. Loads read from paths in `app.config`, so two apps in one process (tests) each
have their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from flask import Flask, current_app

from navigator.core.places import Gazetteer, load_gazetteer
from navigator.core.vocabulary import Vocabulary, load_vocabulary

T = TypeVar("T")


class Reference(Generic[T]):
    """One piece of reference data, loaded by `load(app)` into `app.extensions[key]`."""

    def __init__(self, key: str, load: Callable[[Flask], T]) -> None:
        self.key = f"navigator.{key}"
        self._load = load

    def install(self, app: Flask) -> T:
        """Load (and validate) now; the loader's errors propagate, stopping start-up."""
        value = self._load(app)
        app.extensions[self.key] = value
        return value

    def get(self) -> T:
        """The current app's value, loaded on first use. Needs an app context."""
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        if self.key not in app.extensions:
            return self.install(app)
        value: T = app.extensions[self.key]
        return value


def data_dir(app: Flask | None = None) -> str:
    """The directory data folder (`NAVIGATOR_DIRECTORY_DATA`): vocabulary, places, services."""
    return str((app or current_app).config["NAVIGATOR_DIRECTORY_DATA"])


# The loaders keep their own lru_cache by folder, so apps sharing a folder share one copy.
VOCABULARY: Reference[Vocabulary] = Reference(
    "vocabulary", lambda app: load_vocabulary(data_dir(app))
)
GAZETTEER: Reference[Gazetteer] = Reference("gazetteer", lambda app: load_gazetteer(data_dir(app)))
