"""The directory's data files and index for the running app."""

from __future__ import annotations

from flask import current_app

from navigator.directory.index import DirectoryIndex, get_index
from navigator.directory.places import Gazetteer, load_gazetteer
from navigator.directory.vocabulary import Vocabulary, load_vocabulary
from navigator.extensions import current_session


def data_dir() -> str:
    return str(current_app.config["NAVIGATOR_DIRECTORY_DATA"])


def vocabulary() -> Vocabulary:
    return load_vocabulary(data_dir())


def gazetteer() -> Gazetteer:
    return load_gazetteer(data_dir())


def directory_index() -> DirectoryIndex:
    return get_index(current_session(), gazetteer())


def stale_hours() -> int:
    return int(current_app.config["CAPACITY_STALE_HOURS"])
