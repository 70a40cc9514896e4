"""Values read from another directory's feed: absent means absent, and what a warning quotes
from the feed is short and printable.

- `present` / `cleaned`: an empty or whitespace-only string is absent (issue 15: real feeds
  write `"url": ""` for "no website"), as is `null`; strings are trimmed.
- `quote` / `printable`: a load report is printed to a terminal and kept as JSON, so feed text
  in it is cut to `QUOTE_LIMIT` characters and loses control characters (ANSI escapes, bells,
  line breaks that would forge report lines).
- `Notes`: the per-service warnings of one import, each `"field: message"`.
- `sanitised`: every string of a loaded document (navigator format or ORUK, file or URL)
  without the characters no directory text should hold (NUL and the other control characters
  but tab and line breaks, lone surrogates, bidi embeddings/overrides/isolates), and no
  document nested deeper than `MAX_DEPTH`.
- `as_text` / `listed`: a feed field that should be text or a list, read or warned about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from navigator.core.text import UNSAFE_CHARACTERS

QUOTE_LIMIT = 60
REASON_LIMIT = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What no loaded string may keep (`navigator.core.text`: NUL, controls, lone surrogates, bidi
# overrides).
_UNSAFE = UNSAFE_CHARACTERS
# Deeper than any directory record (an HSDS service is about 8 levels deep) and far below
# Python's recursion limit, so nothing after `sanitised` can overflow the stack.
MAX_DEPTH = 64


class TooDeep(ValueError):
    """A document (or an item of one) nested deeper than `MAX_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"nested more than {MAX_DEPTH} levels deep")


@dataclass(frozen=True)
class Unreadable:
    """Stands in a document's list for an item that could not be read (`reason`), so that
    item alone is rejected."""

    reason: str


def sanitised(value: Any, depth: int = 0) -> Any:
    """`value` (parsed JSON or YAML) with `_UNSAFE` characters removed from every string and
    object key; TooDeep if lists and objects nest more than `MAX_DEPTH` levels."""
    if isinstance(value, str):
        return _UNSAFE.sub("", value)
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        raise TooDeep
    if isinstance(value, dict):
        return {
            (_UNSAFE.sub("", k) if isinstance(k, str) else k): sanitised(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [sanitised(v, depth + 1) for v in value]
    return value


def sanitised_items(items: list[Any], depth: int) -> list[Any]:
    """A document's list of records sanitised one by one: an item nested too deeply becomes
    `Unreadable`, not a reason to refuse the whole document."""
    out: list[Any] = []
    for item in items:
        try:
            out.append(sanitised(item, depth))
        except TooDeep as exc:
            out.append(Unreadable(str(exc)))
    return out


def printable(text: str, limit: int = REASON_LIMIT) -> str:
    """`text` without control or bidi-override characters, cut to `limit` characters
    (an ellipsis marks the cut)."""
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: Any) -> str:
    """A feed value as a warning quotes it, at most `QUOTE_LIMIT` characters of it, printable:
    text and numbers in single quotes (`'09:00'`, `'130'`), a list or object as its JSON
    (`["MO", "TU"]`), never a Python repr."""
    if isinstance(value, dict | list):
        return printable(json.dumps(value, ensure_ascii=False, default=str), QUOTE_LIMIT)
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, bool):
        text = json.dumps(value)
    else:
        text = str(value)
    return "'" + printable(text, QUOTE_LIMIT) + "'"


def kind(value: Any) -> str:
    """What a JSON value is, for a warning: "a list", "an object", "true", "a number"."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bool):
        return json.dumps(value)
    return "a number" if isinstance(value, int | float) else "text"


def as_text(value: Any, path: str, notes: Notes) -> str | None:
    """A feed field that should be text: text as given, a number as its text (`12345`), None
    when absent; a list, an object or true/false is left out with a warning (never stored as
    its Python repr)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    notes.warn(path, f"{kind(value)} ({quote(value)}), not text; left out")
    return None


def listed(holder: Mapping[str, Any], key: str, path: str, notes: Notes) -> list[Any]:
    """The objects of a feed field that should be a list of objects; a field that is not a
    list, and each item that is not an object, is left out with a warning naming it."""
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        notes.warn(path, f"{kind(value)} ({quote(value)}), not a list; left out")
        return []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            notes.warn(f"{path}[{i}]", f"{quote(item)} is not an object; left out")
    return [item for item in value if isinstance(item, dict)]


def cleaned(value: Any) -> Any:
    """A parsed JSON value with every empty or whitespace-only string, every `null`, and every
    object key or list item holding one, left out; other strings trimmed. Empty lists and
    objects stay (they say "none")."""
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            item = cleaned(item)
            if item is not None:
                out[str(key)] = item
        return out
    if isinstance(value, list):
        return [c for c in (cleaned(item) for item in value) if c is not None]
    return value


def present(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first of `keys` that `mapping` holds (after `cleaned`, absent means absent)."""
    for key in keys:
        if mapping.get(key) is not None:
            return mapping[key]
    return None


def as_object(value: Any) -> dict[str, Any]:
    """A feed's object, or an empty one when the feed gave something else."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A feed's array, or nothing when the feed gave something else (an object, a string)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


@dataclass
class Notes:
    """The warnings of one service's import: `"field: message"` lines, in the order found,
    without repeats."""

    lines: list[str] = field(default_factory=list)

    def warn(self, path: str, message: str) -> None:
        line = printable(f"{path}: {message}")
        if line not in self.lines:
            self.lines.append(line)
