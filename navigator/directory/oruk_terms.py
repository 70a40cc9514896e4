"""How navigator's own codes and ids are written in Open Referral UK (HSDS 3.0); shared by
the export (`oruk_export`), the import (`oruk_import`) and the open feed (`oruk_views`).

- Object ids are stable UUIDs (version 5) derived from navigator's ids (and an object's place
  in its list), so a consumer sees the same ids in every export; ids already published must
  never change.
- navigator's vocabulary schemes `service_types`, `needs` and `sectors` are published as three
  HSDS taxonomies whose terms' `code` is the vocabulary code.
- `navigator-details` is the term of the one attribute that carries, as JSON, what HSDS cannot.
- Days are RFC 5545 `byday` codes; statuses map to HSDS's service statuses.
"""

from __future__ import annotations

import uuid
from typing import Any

from navigator.core.vocabulary import Vocabulary

NAMESPACE = uuid.UUID("6f1d3c52-9a55-4c1e-9d0e-2b7c1f0a4b11")
TAXONOMIES = {
    "service_types": ("navigator-service-types", "Service types used by navigator for routing"),
    "needs": ("navigator-needs", "Needs a service meets, as navigator routes them"),
    "sectors": ("navigator-sectors", "Sectors of care"),
}
DETAILS_TERM = "navigator-details"
# navigator's own export writes bank-holiday hours as a schedule with this description and no
# recurrence; the import reads such a schedule back as bank-holiday hours. One constant, so a
# rewording on one side cannot turn them into "schedule left out" on the other.
BANK_HOLIDAY_TEXT = "Bank holidays (England and Wales)"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # in WEEKDAYS order (Monday first)
STATUS_TO_HSDS = {
    "active": "active",
    "temporarily_closed": "temporarily closed",
    "defunct": "defunct",
}
STATUS_FROM_HSDS = {v: k for k, v in STATUS_TO_HSDS.items()} | {"inactive": "defunct"}


def stable_id(*parts: str) -> str:
    """A UUID string for the HSDS object named by `parts` (e.g. service id, "phone", "public")."""
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


# The taxonomy term of the `navigator-details` attribute: the services carry it and
# `/oruk/taxonomy_terms` lists it, so both read this one object.
DETAILS_TERM_OBJECT = {
    "id": stable_id("term", DETAILS_TERM),
    "name": DETAILS_TERM,
    "term": DETAILS_TERM,
    "description": "navigator fields HSDS cannot carry (JSON in value)",
}


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID in its canonical form (lowercase, hyphenated)."""
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def hsds_id(kind: str, slug: str) -> str:
    """The HSDS `id` of a navigator `service` or `organisation` (ORUK wants a UUID): the slug
    itself when it already is one (kept from another ORUK feed), else `stable_id(kind, slug)`."""
    return slug if is_uuid(slug) else stable_id(kind, slug)


def taxonomy_id(scheme: str) -> str:
    """The HSDS taxonomy id of a vocabulary scheme (`service_types`, `needs`, `sectors`)."""
    return stable_id("taxonomy", scheme)


def term_id(scheme: str, code: str) -> str:
    """The HSDS taxonomy term id of a vocabulary code."""
    return stable_id("term", scheme, code)


def taxonomy_object(scheme: str) -> dict[str, Any]:
    """The HSDS `taxonomy` object of a vocabulary scheme."""
    name, description = TAXONOMIES[scheme]
    return {"id": taxonomy_id(scheme), "name": name, "description": description, "version": "1"}


def term_object(vocab: Vocabulary, scheme: str, code: str) -> dict[str, Any]:
    """The HSDS `taxonomy_term` object of a vocabulary code (KeyError if it is not one)."""
    term = vocab.terms[scheme][code]
    return {
        "id": term_id(scheme, code),
        "code": code,
        "name": term.label,
        "term": term.label,
        "description": term.description,
        "taxonomy": TAXONOMIES[scheme][0],
        "taxonomy_id": taxonomy_id(scheme),
    }
