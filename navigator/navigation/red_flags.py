"""Reading red flags from what a caller sent, however it was written (issue 13 §1).

A red flag must always reach 999, so a flag is read from its code or its vocabulary label in
any case, spacing or separator, from a comma- or semicolon-separated string, from nested
lists, or from an object whose keys are flags with a true value; each such reading becomes a
warning in the answer. `known_red_flags` is what the navigation schema and the console use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import Vocabulary

# A field name echoed in a warning is cut to this length (it may be any key a client sent).
MAX_FIELD_NAME = 100


def warning(field: str, message: str) -> dict[str, str]:
    return {"field": field[:MAX_FIELD_NAME], "message": message}


# --- Reading red flags (issue 13 §1, hazard H10) ------------------------------------------
# A flag written another way still gets 999: its code or its label, whatever the case, the
# spaces around it and the punctuation between its words ("CHEST_PAIN", " Chest pain",
# "chest-pain"); several in one string split by commas or semicolons; a list nested in the
# list; an object whose keys are flags, with a true value. Every reading other than an exact
# code is warned about, naming the code it was read as (never echoing the client's text).

# Anything that is not a letter or a digit separates words: "Stroke symptoms (FAST)" and
# "stroke-symptoms-fast" have the same key.
_WORD_BREAKS = re.compile(r"[\W_]+")
_LIST_BREAKS = re.compile(r"[,;]")
# An object's value that says "not present"; any other value says the flag is there (when in
# doubt, 999: a false alarm costs a call, a missed flag can cost a life).
_NOT_TICKED = frozenset({"", "false", "no", "n", "0", "none", "null", "off", "absent", "unticked"})
# Lists nested deeper than this inside `red_flags` are not read (the edge bounds depth anyway).
_MAX_NESTING = 4
# Distinct strings whose reading is remembered: a 1 MiB array of one junk string costs one
# reading, not 170,000.
_TEXT_CACHE = 4096


def flag_key(text: str) -> str:
    """The key a red flag's spelling is matched on: NFKC, case-folded, words joined by `_`."""
    return "_".join(_WORD_BREAKS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


@dataclass(frozen=True)
class RedFlagReader:
    """The red-flag vocabulary (codes and labels) as one lookup, built once per vocabulary."""

    codes: frozenset[str]
    by_key: Mapping[str, str]  # flag_key(code or label) → code
    _seen: dict[str, tuple[tuple[str, ...], int]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, vocab: Vocabulary) -> RedFlagReader:
        terms = vocab.terms["red_flags"]
        by_key: dict[str, str] = {}
        # Codes first, then labels; a key already taken keeps its first code.
        spellings = [(code, code) for code in terms] + [(t.label, c) for c, t in terms.items()]
        for text, code in spellings:
            if key := flag_key(text):
                by_key.setdefault(key, code)
        return cls(frozenset(terms), by_key)

    def code(self, text: str) -> str | None:
        """The one red flag `text` names (code or label, any case, spacing or separators)."""
        if text in self.codes:
            return text
        return self.by_key.get(flag_key(text))

    def read_text(self, text: str) -> tuple[tuple[str, ...], int]:
        """(the codes `text` names, how many of its comma/semicolon-separated parts name none)."""
        if (known := self._seen.get(text)) is not None:
            return known
        parts = [part for part in _LIST_BREAKS.split(text) if part.strip()] or [text]
        found = [self.code(part) for part in parts]
        result = tuple(c for c in found if c), sum(1 for c in found if c is None)
        if len(self._seen) < _TEXT_CACHE:
            self._seen[text] = result
        return result

    def read(self, value: Any, depth: int = 0) -> tuple[list[str], int]:
        """(the codes a JSON value names, how many of its parts name none): a string as in
        `read_text`, an object by its keys with a true value, a list item by item."""
        if isinstance(value, str):
            in_text, unknown = self.read_text(value)
            return list(in_text), unknown
        if isinstance(value, dict):
            named = {key: self.code(key) for key in value if isinstance(key, str)}
            codes = [code for key, code in named.items() if code and _ticked(value[key])]
            return codes, sum(1 for code in named.values() if code is None)
        if isinstance(value, list) and depth < _MAX_NESTING:
            found: list[str] = []
            unknown = 0
            for item in value:
                codes_in, unknown_in = self.read(item, depth + 1)
                found += codes_in
                unknown += unknown_in
            return found, unknown
        return [], 1


_READERS: dict[int, tuple[Vocabulary, RedFlagReader]] = {}


def red_flag_reader(vocab: Vocabulary | None = None) -> RedFlagReader:
    """The reader for `vocab` (default: the app's), built on first use and then reused."""
    vocab = vocab if vocab is not None else VOCABULARY.get()
    held = _READERS.get(id(vocab))
    if held is None or held[0] is not vocab:
        if len(_READERS) >= 8:  # vocabularies are few (one per data directory)
            _READERS.clear()
        held = _READERS[id(vocab)] = (vocab, RedFlagReader.of(vocab))
    return held[1]


def _ticked(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() not in _NOT_TICKED
    return bool(value)  # true, a non-zero number, a non-empty list or object


def _read_as(codes: list[str], unknown: int, *, repeated: bool) -> str:
    """ "read as chest_pain, seizure (…)" for a flag written another way."""
    message = f"read as {', '.join(codes)}"
    if repeated:
        message += " (given before: counted once)"
    if unknown:
        message += f"; {unknown} other part{'s' if unknown > 1 else ''} not a known red flag"
    return f"{message}."


def known_red_flags(
    raw: Any, vocab: Vocabulary | None = None
) -> tuple[list[str], list[dict[str, str]]]:
    """The known red-flag codes in a request's raw `red_flags`, each once and in order, and a
    warning for each item that is not one, is one written another way (`red_flags.0`: "Read
    as chest_pain.") or is one given twice.

    A string (codes or labels split by commas or semicolons) or an object (`{"chest_pain":
    true}`) in place of the list counts too, with a warning on `red_flags`. Anything else
    (null, a number), or a value naming no known flag, names no flag and gets no warning.
    """
    reader = red_flag_reader(vocab)
    flags: list[str] = []
    if not isinstance(raw, list):
        if not isinstance(raw, str | dict):
            return [], []
        codes, unknown = reader.read(raw)
        flags = list(dict.fromkeys(codes))
        if not flags:
            return [], []
        kind = "a string" if isinstance(raw, str) else "an object"
        how = _read_as(flags, unknown, repeated=len(codes) > len(flags))
        return flags, [warning("red_flags", f"Not a list but {kind}: {how}")]
    warnings: list[dict[str, str]] = []
    for position, item in enumerate(raw):
        if isinstance(item, str) and item in reader.codes:  # the usual case: an exact code
            if item not in flags:
                flags.append(item)
                continue
            message = "Given twice: counted once."
        else:
            codes, unknown = reader.read(item)
            named = list(dict.fromkeys(codes))
            new = [code for code in named if code not in flags]
            flags += new
            if named:
                how = _read_as(named, unknown, repeated=len(new) < len(codes))
                message = how[:1].upper() + how[1:]
            else:
                message = "Not a known red flag: ignored."
        warnings.append(warning(f"red_flags.{position}", message))
    return flags, warnings
