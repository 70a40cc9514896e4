"""Taxonomy mappings: other directories' taxonomy terms (the LGA's ESD lists, a council's own)
as navigator service types and needs, from data files in
`directory_of_services/taxonomy_mappings/*.yaml` (issue 15 §2).

A mapping file (its own header documents the format) names its `lists` — each with the names
a feed may give the list (`taxonomy`, `vocabulary`, `taxonomy_id`, list URI), the CURIE
prefixes and the URI prefixes of its terms — and its `terms`, each `{list, code, label,
service_type?, needs?, caller_roles?}`. A feed term matches an entry when it names the list
and the code in any of the forms real feeds use (`tests/data/oruk/NOTES.md` §7): the full
term URI (`http://id.esd.org.uk/service/242`, http or https), a CURIE (`esdServiceType:242`),
or the list's name as taxonomy/vocabulary with the bare code (`esdServiceTypes` + `242`).

A service classified this way records `classified_by: "mapping:<name>"`, so the change
history names the mapping that set its type. Its caller roles are the union of the
`caller_roles` of the terms that gave it that type, else `DEFAULT_CALLER_ROLES` (review of
issue 15, H2: a mapped service is routable, and admitting every role would offer a CMHT or a
care home to a member of the public on the word of a council's taxonomy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from navigator.core.reference import Reference, data_dir
from navigator.core.vocabulary import UNCLASSIFIED, Vocabulary, load_vocabulary

MAPPINGS_FOLDER = "taxonomy_mappings"
# The roles of a mapped service when none of its type's terms names any: a professional can
# judge whether a service they do not know fits (and has other routes if it does not); the
# public route, and relatives' and care homes', need the service's own word that it takes them.
DEFAULT_CALLER_ROLES = ("professional",)


@dataclass(frozen=True)
class FeedTerm:
    """A taxonomy term as a feed gave it: the taxonomy (name, vocabulary or id), the code
    stored (`code`, else `term_uri`, else `id`), its name, and every other spelling of its
    identity the feed gave (for matching only)."""

    taxonomy: str
    code: str
    name: str = ""
    spellings: tuple[str, ...] = ()

    def stored(self) -> dict[str, str]:
        """The `source_terms` entry (cut to the record's column sizes)."""
        return {"taxonomy": self.taxonomy[:200], "code": self.code[:300], "name": self.name[:300]}


@dataclass(frozen=True)
class MappedTerm:
    list: str
    code: str
    label: str
    service_type: str | None
    needs: tuple[str, ...]
    caller_roles: tuple[str, ...] = ()  # empty: the term does not say


@dataclass(frozen=True)
class TermList:
    id: str
    names: frozenset[str]  # lowercased
    curie_prefixes: frozenset[str]  # lowercased, without the colon
    uri_prefixes: tuple[str, ...]  # lowercased, without the scheme


@dataclass
class Mapping:
    """One mapping file: `name` (as in `classified_by: mapping:<name>`), its lists and terms."""

    name: str
    lists: list[TermList]
    terms: dict[tuple[str, str], MappedTerm] = field(default_factory=dict)

    def keys(self, term: FeedTerm) -> list[tuple[str, str]]:
        """The (list, code) pairs a feed term can mean under this mapping."""
        out = []
        taxonomy = term.taxonomy.strip().lower()
        for spelling in (term.code, *term.spellings):
            text = spelling.strip()
            bare = _without_scheme(text).lower()
            for term_list in self.lists:
                code = None
                for prefix in term_list.uri_prefixes:
                    if bare.startswith(prefix):
                        code = text[len(text) - len(bare) + len(prefix) :].strip("/")
                prefix, colon, rest = text.partition(":")
                if code is None and colon and prefix.lower() in term_list.curie_prefixes:
                    code = rest.strip()
                if code is None and taxonomy in term_list.names and "/" not in text:
                    code = text
                if code:
                    out.append((term_list.id, code.lower()))
        return out

    def lookup(self, term: FeedTerm) -> MappedTerm | None:
        for key in self.keys(term):
            if key in self.terms:
                return self.terms[key]
        return None


def _without_scheme(text: str) -> str:
    lower = text.lower()
    for scheme in ("https://", "http://"):
        if lower.startswith(scheme):
            return text[len(scheme) :]
    return text


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def parse_mapping(data: dict[str, Any], source: str) -> Mapping:
    """A mapping from a parsed file; ValueError naming `source` if malformed."""
    try:
        lists = [
            TermList(
                id=str(raw["id"]),
                names=frozenset(n.lower() for n in [str(raw["id"]), *_strings(raw.get("names"))]),
                curie_prefixes=frozenset(p.lower() for p in _strings(raw.get("curie_prefixes"))),
                uri_prefixes=tuple(
                    _without_scheme(p).lower() for p in _strings(raw.get("uri_prefixes"))
                ),
            )
            for raw in data["lists"]
        ]
        mapping = Mapping(name=str(data["name"]), lists=lists)
        known = {t.id for t in lists}
        for raw in data["terms"]:
            entry = MappedTerm(
                list=str(raw["list"]),
                code=str(raw["code"]),
                label=str(raw["label"]),
                service_type=raw.get("service_type"),
                needs=tuple(_strings(raw.get("needs"))),
                caller_roles=tuple(_strings(raw.get("caller_roles"))),
            )
            if "caller_roles" in raw and not (
                isinstance(raw["caller_roles"], list) and entry.caller_roles
            ):
                raise ValueError(
                    f"term {entry.list} {entry.code}: caller_roles is not a list of roles"
                )
            if entry.caller_roles and not entry.service_type:
                # Roles matter only to a routable service; needs alone leave it unclassified,
                # and the person who classifies it sets its roles.
                raise ValueError(
                    f"term {entry.list} {entry.code}: caller_roles without a service_type"
                )
            if entry.list not in known:
                raise ValueError(f"term {entry.code}: unknown list {entry.list!r}")
            if not entry.service_type and not entry.needs:
                raise ValueError(f"term {entry.list} {entry.code}: maps to nothing")
            key = (entry.list, entry.code.lower())
            if key in mapping.terms:
                raise ValueError(f"term {entry.list} {entry.code} given twice")
            mapping.terms[key] = entry
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{source}: not a taxonomy mapping ({exc!r})") from exc
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc
    return mapping


def mapping_errors(mapping: Mapping, vocab: Vocabulary) -> list[str]:
    """Service types, needs and caller roles a mapping names that the vocabulary lacks (or
    `unclassified`, which a mapping must not give: leaving a term out says that)."""
    errors = []
    for entry in mapping.terms.values():
        where = f"{mapping.name} {entry.list} {entry.code}"
        if entry.service_type and (
            entry.service_type == UNCLASSIFIED or not vocab.has("service_types", entry.service_type)
        ):
            errors.append(f"{where}: {entry.service_type!r} is not a service type to map to")
        errors += [
            f"{where}: {need!r} is not a known need"
            for need in entry.needs
            if not vocab.has("needs", need)
        ]
        errors += [
            f"{where}: {role!r} is not a known caller role"
            for role in entry.caller_roles
            if not vocab.has("caller_roles", role)
        ]
    return errors


@lru_cache(maxsize=4)
def load_mappings(folder: str) -> tuple[Mapping, ...]:
    """Every `*.yaml` mapping in `folder`, by file name (none if the folder is missing)."""
    path = Path(folder)
    files = sorted(path.glob("*.yaml")) if path.is_dir() else []
    return tuple(
        parse_mapping(yaml.safe_load(f.read_text(encoding="utf-8")), f.name) for f in files
    )


def load_checked_mappings(directory_data: str) -> tuple[Mapping, ...]:
    """The mappings of a directory data folder, checked against its vocabulary (ValueError
    listing every problem)."""
    mappings = load_mappings(str(Path(directory_data) / MAPPINGS_FOLDER))
    vocab = load_vocabulary(directory_data)
    errors = [e for m in mappings for e in mapping_errors(m, vocab)]
    if errors:
        raise ValueError("taxonomy mappings: " + "; ".join(errors))
    return mappings


TAXONOMY_MAPPINGS: Reference[tuple[Mapping, ...]] = Reference(
    "taxonomy_mappings", lambda app: load_checked_mappings(data_dir(app))
)


@dataclass
class Classification:
    """What the mappings make of a service's feed terms: the first mapped service type (None
    if none), every mapped need, the caller roles the terms giving that type name, and the
    mapping names that gave them."""

    service_type: str | None = None
    needs: list[str] = field(default_factory=list)
    other_types: list[str] = field(default_factory=list)
    mappings: list[str] = field(default_factory=list)
    type_mapping: str | None = None
    type_roles: set[str] = field(default_factory=set)

    def caller_roles(self) -> list[str]:
        """The mapped service's caller roles, sorted: the union of `caller_roles` over the
        terms that gave its service type, else `DEFAULT_CALLER_ROLES`."""
        return sorted(self.type_roles or DEFAULT_CALLER_ROLES)

    def classified_by(self) -> str | None:
        """`mapping:<name>` of the mapping that gave the type (else the needs), or None."""
        name = self.type_mapping or (self.mappings[0] if self.mappings else None)
        return f"mapping:{name}" if name else None


def classify(terms: list[FeedTerm], mappings: tuple[Mapping, ...]) -> Classification:
    """Look each feed term up in each mapping, in order."""
    result = Classification()
    for term in terms:
        for mapping in mappings:
            entry = mapping.lookup(term)
            if entry is None:
                continue
            if mapping.name not in result.mappings:
                result.mappings.append(mapping.name)
            if entry.service_type:
                if result.service_type is None:
                    result.service_type, result.type_mapping = entry.service_type, mapping.name
                if entry.service_type == result.service_type:
                    result.type_roles.update(entry.caller_roles)
                elif entry.service_type not in (result.service_type, *result.other_types):
                    result.other_types.append(entry.service_type)
            result.needs += [n for n in entry.needs if n not in result.needs]
    return result
