"""Reading directory files for `navigator directory load`: JSON or YAML, one file or every
data file of a folder, and each parsed document made safe to load (`sanitised_document`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from navigator.directory.oruk_import import ENVELOPE_KEYS
from navigator.directory.oruk_values import TooDeep, sanitised, sanitised_items

DATA_SUFFIXES = (".yaml", ".yml", ".json")


def _plain(value: Any) -> Any:
    """YAML gives dates and datetimes as objects; the schemas take ISO strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_documents(path: Path) -> list[tuple[str, Any]]:
    """(file name, parsed data) of a file, or of every `.json`/`.yaml`/`.yml` file under a
    folder. OSError, ValueError (not JSON, not UTF-8, nested too deeply to parse) or
    yaml.YAMLError, naming the file."""
    files = (
        sorted(p for p in path.rglob("*") if p.suffix in DATA_SUFFIXES and p.is_file())
        if path.is_dir()
        else [path]
    )
    documents = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
            documents.append((file.name, _plain(data)))
        except RecursionError:  # the parsers recurse once per level of nesting
            raise ValueError(
                f"{file.name}: nested too deeply to read (lists or objects hundreds of "
                "levels deep; a directory record is about 10)"
            ) from None
    return documents


def sanitised_document(data: Any) -> Any:
    """`oruk_values.sanitised(data)`; when nested too deeply, each record of its list (a bare
    list, a page's `contents`/`content`/`services`, a navigator file's `services`) alone
    becomes `Unreadable`. TooDeep when the rest of the document is too deep."""
    try:
        return sanitised(data)
    except TooDeep:
        pass
    if isinstance(data, list):
        return sanitised_items(data, 1)
    if isinstance(data, dict):
        return {
            sanitised(k): sanitised_items(v, 2)
            if k in (*ENVELOPE_KEYS, "organisations") and isinstance(v, list)
            else sanitised(v, 1)
            for k, v in data.items()
        }
    raise TooDeep
