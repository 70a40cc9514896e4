"""A person classifies a service (issue 15 §2): the "To classify" queue and its one write.

A service kept from another directory whose own taxonomy terms map to no navigator service
type is loaded as `unclassified` (`navigator.core.vocabulary.UNCLASSIFIED`): searchable and
published, never routed to (hazard H30). A supervisor or admin then gives it a service type,
sector, needs and eligibility (`classify_service`). The result is validated exactly like a
directory load, every changed field lands in the change history, and the directory's revision
moves so every worker's index (and so routing) sees it at once. `classified_by` becomes
`person:<username>`, which a re-load of the same feed keeps (the feed owns its fields,
navigator owns the classification).

A service classified by a mapping (`classified_by` = `mapping:<name>`) may be corrected the
same way, and a person's classification corrected again. A service whose type comes from its
source (`classified_by` None and a real type: a hand-kept directory file, or a feed loaded with
`--trust-classification`) is changed at that source, so a re-load does not undo the change
silently.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.core.errors import Problem
from navigator.core.schemas import field_messages
from navigator.core.vocabulary import UNCLASSIFIED, Vocabulary
from navigator.directory.editing import EditRejected, current_record
from navigator.directory.models import Organisation, Service
from navigator.directory.records import (
    Record,
    ServiceSchema,
    canonical_service,
    vocabulary_errors,
)
from navigator.directory.store import bump_revision, update_service

PERSON = "person:"
MAPPING = "mapping:"
CLASSIFIED_BY_MAX = 200  # services.classified_by is String(200)
# True of both sources that leave `classified_by` None: a hand-kept file and a trusted feed.
FROM_ITS_SOURCE = (
    "This service's type comes from its source (a directory file, or a feed loaded with "
    "--trust-classification); change it there. A feed loaded again without "
    "--trust-classification can be classified here."
)

# Where each classified value sits in the record -> the `classify_service` parameter it came
# from, so a refusal names what the person typed, not the record's inner path.
PARAMETERS: Mapping[str, str] = {
    "service_type": "service_type",
    "sector": "sector",
    "needs": "needs",
    "eligibility.caller_roles": "caller_roles",
    "eligibility.min_age_days": "min_age_days",
    "eligibility.max_age_days": "max_age_days",
    "eligibility.sex": "sex",
}


class ClassificationRejected(EditRejected):
    """The classification is not valid. `errors` maps `classify_service`'s parameter names
    (`service_type`, `sector`, `needs`, `caller_roles`, `min_age_days`, `max_age_days`,
    `sex`), or a record path for any other field, to messages. Nothing was written."""


def classifiable(record: Mapping[str, Any]) -> bool:
    """True when a person may (re)classify this service: unclassified, or classified by a
    mapping or a person. False for a service whose type comes from its source
    (classified_by None and a real type: a hand-kept directory file or a trusted feed): that
    is changed at the source (`FROM_ITS_SOURCE`)."""
    if record["service_type"] == UNCLASSIFIED:
        return True
    return str(record.get("classified_by") or "").startswith((MAPPING, PERSON))


def classified_by_person(username: str) -> str:
    """`person:<username>`, cut to the column's 200 characters (an email may have 254)."""
    return f"{PERSON}{username}"[:CLASSIFIED_BY_MAX]


def _by_parameter(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    named: dict[str, list[str]] = {}
    for path, messages in errors.items():
        named.setdefault(PARAMETERS.get(path, path), []).extend(messages)
    return named


def unknown_codes(
    vocab: Vocabulary,
    *,
    service_type: str | None,
    sector: str | None,
    needs: Iterable[str],
    caller_roles: Iterable[str],
) -> dict[str, list[str]]:
    """The codes given that `vocab` does not know, by `classify_service` parameter name, in
    the words of a directory load (`records.vocabulary_errors`); empty when all are known.
    A None or empty `service_type`/`sector` is not checked (a form asks for those itself), so
    a form can show these together with its own errors, in one round."""
    probe: Record = {
        "sector": sector or "",
        "service_type": service_type or "",
        "needs": list(needs),
        "eligibility": {"caller_roles": list(caller_roles), "places": []},
        "coverage": {"places": []},
    }
    errors = _by_parameter(vocabulary_errors(probe, vocab))
    blank = {
        name for name, value in (("service_type", service_type), ("sector", sector)) if not value
    }
    return {name: texts for name, texts in errors.items() if name not in blank}


def classify_service(
    session: Session,
    service_id: str,
    *,
    service_type: str,
    sector: str,
    needs: Iterable[str],
    caller_roles: Iterable[str],
    min_age_days: int,
    max_age_days: int | None,
    sex: str,
    vocab: Vocabulary,
    username: str,
    changed_by: str,
) -> Record:
    """Give service `service_id` a navigator classification and save it; the new canonical
    record.

    - `service_type`, `sector`, `needs`, `caller_roles`: vocabulary codes
      (`directory_of_services/vocabulary/`); `service_type` may not be `unclassified`.
    - `min_age_days` (first day of age admitted) and `max_age_days` (last day admitted,
      inclusive; None for no upper limit): days, as `navigator.core.clock.min_age_days_from_years`
      and `max_age_days_from_years` make them from years.
    - `sex`: `any`, `female` or `male` (`navigator.core.vocabulary.SEXES`).
    - `username`: who classified it, kept as `classified_by = "person:<username>"`;
      `changed_by`: the change history's author (the console's `Caller.label`).

    The service's other fields (contact, locations, opening, GP-practice and place
    restrictions, the feed's `source_terms`) are kept as they are. Validated exactly like a
    directory load (`ServiceSchema`, then `vocabulary_errors`). When anything changed, each
    changed field is one change-history row and the directory's revision moves; nothing is
    committed (the caller owns the unit of work).

    Raises `Problem(404)` for an unknown id, `Problem(409)` (`FROM_ITS_SOURCE`) for a service
    whose type comes from its source, a hand-kept file or a trusted feed (`classifiable`), and
    `ClassificationRejected` (errors by parameter name) for an invalid classification, writing
    nothing in any of these cases.
    """
    old = current_record(session, service_id)
    if not classifiable(old):
        raise Problem(409, FROM_ITS_SOURCE)
    if service_type == UNCLASSIFIED:
        raise ClassificationRejected(
            {"service_type": ["Choose a service type: 'not yet classified' is not one"]}
        )
    raw = copy.deepcopy(old)
    raw.update(
        service_type=service_type,
        sector=sector,
        needs=list(needs),
        classified_by=classified_by_person(username),
    )
    raw["eligibility"].update(
        caller_roles=list(caller_roles),
        min_age_days=min_age_days,
        max_age_days=max_age_days,
        sex=sex,
    )
    try:
        data = ServiceSchema().load(raw)
    except ValidationError as exc:
        raise ClassificationRejected(_by_parameter(field_messages(exc))) from exc
    new = canonical_service(data)
    if errors := vocabulary_errors(new, vocab):
        raise ClassificationRejected(_by_parameter(errors))
    if new != old:
        update_service(session, old, new, changed_by=changed_by)
        bump_revision(session, [service_id])
    return new


@dataclass(frozen=True)
class QueueItem:
    """One service waiting for a person to classify it, as the "To classify" queue lists it.
    `source_terms` are the feed's own terms (`{"taxonomy", "code", "name"}`), as given."""

    id: str
    name: str
    organisation: str
    description: str
    source_terms: list[dict[str, str]]
    created_at: datetime
    updated_at: datetime


def unclassified_count(session: Session) -> int:
    """How many services are unclassified now (read from the tables, one query)."""
    query = select(func.count()).where(Service.service_type == UNCLASSIFIED)
    return int(session.scalar(query) or 0)


def unclassified_services(session: Session) -> list[QueueItem]:
    """Every unclassified service, longest waiting first (then by name and id), read from the
    tables so the queue is current even before this worker's index refreshes."""
    rows = session.execute(
        select(
            Service.id,
            Service.name,
            Organisation.name.label("organisation"),
            Service.description,
            Service.source_terms,
            Service.created_at,
            Service.updated_at,
        )
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(Service.service_type == UNCLASSIFIED)
        .order_by(Service.created_at, Service.name, Service.id)
    ).mappings()
    return [
        QueueItem(
            id=row["id"],
            name=row["name"],
            organisation=row["organisation"],
            description=row["description"] or "",
            source_terms=list(row["source_terms"] or []),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]
