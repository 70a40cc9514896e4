"""Search synonyms: the names people use for services ("UCR", "A&E", "OOH", "IAPT"), from the
data file `directory_of_services/search_synonyms.yaml` (its header documents the format; each
group cites the NHS.UK or NHS England page its names come from).

A group is a set of equivalent names plus, optionally, the service types those names mean.
When a search's text (`q`) contains one of a group's names as whole words, that part of the
query matches a service whose text (name, public name, description, organisation) contains
*any* of the group's names as a whole word or phrase (`name_pattern`: not inside another word,
so "UTC" does not find "a successful befriending scheme" through "ucc", nor "UCR" "sucrose";
a plural "s" is allowed), or whose service type is one of the group's types. Every other word
of the query must still be in the service's text, as a part of a word as it always has been.
So "UCR Luton" finds "Urgent Community Response - Luton", and "A&E" the emergency departments.

The file is loaded once per data folder and checked (`ValueError` naming the file and the
problem): every name non-empty and in one group only, every service type in the vocabulary,
every group with a source that is an https address. Both `/api/v1/services` and the
console's directory search use it (`directory.search.candidates`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from navigator.core.reference import Reference, data_dir
from navigator.core.vocabulary import Vocabulary, load_vocabulary

SYNONYMS_FILE = "search_synonyms.yaml"
GROUP_KEYS = {"names", "service_types", "source"}
# Punctuation a query may put around a name ("A&E," "(UCR)"); `&` and `-` are part of names.
_EDGES = ".,;:!?()[]\"'"


def _tokens(text: str) -> list[str]:
    return [token.strip(_EDGES) for token in text.lower().split()]


@dataclass(frozen=True)
class Group:
    """Equivalent names (lower case, single spaces, punctuation kept: they are looked for in
    services' text) and the service types they mean."""

    names: tuple[str, ...]
    service_types: frozenset[str]
    source: str


def name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """A case-insensitive pattern finding any of `names` as a whole word or phrase: no letter,
    digit or underscore just before it or just after it (an optional plural "s" aside), so
    "&" and "-" inside a name ("a&e", "walk-in centre") are matched as they are, and any run
    of whitespace stands for a name's space ("a & e" across a line break)."""
    alternatives = sorted(
        (r"\s+".join(re.escape(word) for word in name.split()) for name in names),
        key=len,
        reverse=True,
    )
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})s?(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """One part of a query: a service matches it when its text (lower case) contains any of
    `texts`, or its type is in `service_types`. A plain word has one text, itself, found
    anywhere, even inside another word (`pattern` None); a group's names are found only as
    whole words or phrases (`pattern`, from `name_pattern`)."""

    texts: tuple[str, ...]
    service_types: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None

    def matches(self, text: str, service_type: str) -> bool:
        if service_type in self.service_types:
            return True
        if self.pattern is not None:
            return self.pattern.search(text) is not None
        return any(t in text for t in self.texts)


class Synonyms:
    """The groups, indexed by their names' words for reading queries."""

    def __init__(self, groups: tuple[Group, ...]) -> None:
        self.groups = groups
        self._patterns = {g: name_pattern(g.names) for g in groups}
        # Name (as a tuple of words) -> its group, and the longest name in words, so a query
        # is read left to right taking the longest name that starts at each word.
        self._by_words = {tuple(_tokens(name)): g for g in groups for name in g.names}
        self._longest = max((len(words) for words in self._by_words), default=0)

    def terms(self, q: str | None) -> list[Term]:
        """The query's parts: a group's names as one term, each other word as itself.

        `"ucr luton"` -> `[Term(<UCR group's names>, {urgent_community_response}),
        Term(("luton",))]`. Words are lower-cased; a plain word keeps its punctuation (it is
        matched as a substring, as the search always has)."""
        words = (q or "").lower().split()
        tokens = _tokens(q or "")
        out: list[Term] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                group = self._by_words.get(tuple(tokens[i : i + size]))
                if group is not None:
                    out.append(Term(group.names, group.service_types, self._patterns[group]))
                    i += size
                    break
            else:
                if words[i]:
                    out.append(Term((words[i],)))
                i += 1
        return out


def _key(name: str) -> str:
    """A name as a query is compared with it: lower case, words without edge punctuation."""
    return " ".join(_tokens(name))


def parse_synonyms(data: Any, vocab: Vocabulary, source: str) -> Synonyms:
    """Synonyms from the parsed file (`{"groups": [{names, service_types?, source}]}`);
    ValueError naming `source` and the group if anything is wrong."""
    if (
        not isinstance(data, dict)
        or set(data) != {"groups"}
        or not isinstance(data["groups"], list)
    ):
        raise ValueError(f"{source}: expected one key, groups, holding a list")
    groups: list[Group] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(data["groups"], start=1):
        where = f"{source}: group {number}"
        if not isinstance(raw, dict) or not set(raw) <= GROUP_KEYS or "names" not in raw:
            raise ValueError(f"{where}: expected names, service_types and source only")
        names = raw["names"]
        if not isinstance(names, list) or len(names) < 2:
            raise ValueError(f"{where}: names must list at least two names")
        texts: list[str] = []
        for name in names:
            key = _key(name) if isinstance(name, str) else ""
            if len(key) < 2:
                raise ValueError(f"{where}: name {name!r} is too short to search for")
            if seen.get(key, number) != number:
                raise ValueError(f"{where}: {name!r} is already in group {seen[key]}")
            seen[key] = number
            texts.append(" ".join(name.lower().split()))
        types = raw.get("service_types") or []
        if not isinstance(types, list):
            raise ValueError(f"{where}: service_types must be a list")
        unknown = [t for t in types if not vocab.has("service_types", t)]
        if unknown:
            raise ValueError(f"{where}: unknown service types {unknown}")
        url = raw.get("source")
        if not isinstance(url, str) or not re.fullmatch(r"https://\S+", url):
            raise ValueError(f"{where}: source must be the https address the names come from")
        groups.append(Group(tuple(dict.fromkeys(texts)), frozenset(types), url))
    return Synonyms(tuple(groups))


@lru_cache(maxsize=4)
def load_synonyms(directory_data: str) -> Synonyms:
    """The synonyms of a directory data folder, checked against its vocabulary; no file, no
    synonyms (a test folder need not have one). ValueError if the file is malformed."""
    path = Path(directory_data) / SYNONYMS_FILE
    if not path.exists():
        return Synonyms(())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return parse_synonyms(data, load_vocabulary(directory_data), str(path))


SEARCH_SYNONYMS: Reference[Synonyms] = Reference(
    "search_synonyms", lambda app: load_synonyms(data_dir(app))
)
