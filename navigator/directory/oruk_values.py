"""Values read from another directory's feed: absent means absent, and what a warning quotes
from the feed is short and printable.

- `present` / `cleaned`: an empty or whitespace-only string is absent (issue 15: real feeds
  write `"url": ""` for "no website"), as is `null`; strings are trimmed.
- `quote` / `printable`: a load report is printed to a terminal and kept as JSON, so feed text
  in it is cut to `QUOTE_LIMIT` characters and loses control characters (ANSI escapes, bells,
  line breaks that would forge report lines).
- `Notes`: the per-service warnings of one import, each `"field: message"`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

QUOTE_LIMIT = 60
REASON_LIMIT = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str, limit: int = REASON_LIMIT) -> str:
    """`text` without control or bidi-override characters, cut to `limit` characters
    (an ellipsis marks the cut)."""
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: Any) -> str:
    """A feed value as a warning quotes it: `repr`-style quotes, at most `QUOTE_LIMIT`
    characters of it, printable."""
    text = value if isinstance(value, str) else repr(value)
    return "'" + printable(text, QUOTE_LIMIT) + "'"


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
