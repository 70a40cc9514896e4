"""How an Open Referral UK service is classified on import (issue 15 §2, hazard H30).

- navigator's own classification travels in a feed as the `navigator-details` attribute and as
  terms of the `navigator-service-types` / `navigator-needs` / `navigator-sectors` taxonomies
  (`oruk_terms`). It is taken as given only from a source the operator trusts
  (`navigator directory load --trust-classification`: navigator's own export or another
  navigator's). Any other feed could otherwise make a service routable, even as `ambulance_999`
  for every caller, by writing navigator's codes: there it is ignored with a warning, and the
  service is classified like any third-party service.
- A third-party service is classified by the taxonomy mappings (`taxonomy_mapping`), else kept
  `unclassified` with the reason; its own terms (navigator's taxonomies excepted) are kept as
  `source_terms`.
- Caller roles (review of issue 15, H2): a mapped service takes the roles its type's terms
  name (`Classification.caller_roles`, default professional only); so does one a trusted feed
  classifies by navigator's terms without `navigator-details` (HSDS has no caller roles, so
  the default). An unclassified service keeps every role: it is never routed to, and the
  person who classifies it sets its roles.
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import ValidationError

from navigator.core.schemas import message_lines
from navigator.core.vocabulary import UNCLASSIFIED, Vocabulary
from navigator.directory import oruk_fields
from navigator.directory.oruk_terms import DETAILS_TERM, TAXONOMIES
from navigator.directory.oruk_values import (
    Notes,
    TooDeep,
    as_list,
    printable,
    quote,
    sanitised,
)
from navigator.directory.records import ServiceSchema, canonical_service, vocabulary_errors
from navigator.directory.taxonomy_mapping import (
    DEFAULT_CALLER_ROLES,
    FeedTerm,
    Mapping,
    classify,
)

TERMS_IN_REASON = 5
NOT_TRUSTED = (
    "navigator's own classification is not trusted from this feed (use "
    "--trust-classification for navigator's own export); classified from its other terms"
)


def details_attribute(service: dict[str, Any]) -> dict[str, Any] | None:
    """The service's `navigator-details` attribute, if it has one."""
    for attribute in as_list(service.get("attributes")):
        term = attribute.get("taxonomy_term")
        if isinstance(term, dict) and term.get("name") == DETAILS_TERM:
            return attribute
    return None


def own_claims(service: dict[str, Any]) -> list[str]:
    """navigator's own classification a service carries, as `taxonomy code` texts (and
    `navigator-details`), for the warning and the unclassified reason of an untrusted feed."""
    own, _ = oruk_fields.feed_terms(service)
    claims = [
        f"{TAXONOMIES[scheme][0]} {code}"
        for scheme, codes in own.items()
        for code in codes
        if code != UNCLASSIFIED
    ]
    return claims + ([DETAILS_TERM] if details_attribute(service) is not None else [])


def trusted_details(
    service: dict[str, Any], record: dict[str, Any], vocab: Vocabulary, notes: Notes
) -> dict[str, Any] | None:
    """The `navigator-details` of a service from a trusted feed, when it is a JSON object
    that makes, with `record` (the feed's name, description and status), a valid
    navigator service (its own `id` and `organisation` when it carries them); else None,
    warned (the caller reads the HSDS fields instead: a stale or partial attribute is no
    reason to reject a service)."""
    attribute = details_attribute(service)
    if attribute is None:
        return None
    try:
        value = sanitised(json.loads(attribute.get("value") or ""))  # \u0000 in JSON text
    except (TypeError, ValueError, RecursionError):  # TooDeep is a ValueError
        value = None
    if not isinstance(value, dict):
        notes.warn("attributes", f"{DETAILS_TERM} is not a JSON object; read from HSDS fields")
        return None
    placeholders = {"id": "placeholder", "organisation": "placeholder"}
    candidate = placeholders | {k: v for k, v in value.items() if k != "organisation_sector"}
    try:
        errors = vocabulary_errors(
            canonical_service(ServiceSchema().load(candidate | record)), vocab
        )
        problems = [f"{k}: {' '.join(v)}" for k, v in errors.items()]
    except ValidationError as exc:
        problems = message_lines(exc)
    except (TypeError, AttributeError, KeyError, TooDeep):
        problems = ["not a navigator service"]
    if problems:
        notes.warn(
            "attributes",
            f"{DETAILS_TERM} is incomplete or not valid ({'; '.join(problems)}); "
            "read from HSDS fields",
        )
        return None
    return value


def classification(
    service: dict[str, Any],
    vocab: Vocabulary,
    mappings: tuple[Mapping, ...],
    notes: Notes,
    *,
    trusted: bool,
) -> tuple[dict[str, Any], str | None]:
    """(service_type, sector, needs, classified_by, source_terms, caller_roles) of a service
    read from its HSDS fields and, if unclassified, why. navigator's own terms classify it
    (`classified_by` None: its source did) only when `trusted`. `caller_roles` is for the
    record's `eligibility`, not a record field."""
    own, terms = oruk_fields.feed_terms(service)
    labels = {t.label.lower(): c for c, t in vocab.terms["service_types"].items()}
    claims = own_claims(service)
    if not trusted:
        if claims:
            notes.warn("attributes", NOT_TRUSTED)
        own = {scheme: [] for scheme in own}

    def valid(scheme: str, codes: list[str]) -> list[str]:
        out = []
        for code in codes:
            code = code if vocab.has(scheme, code) else labels.get(code.lower(), code)
            if vocab.has(scheme, code):
                out.append(code)
            else:
                notes.warn("attributes", f"{quote(code)} is not a navigator {scheme}; left out")
        return out

    own_types = [t for t in valid("service_types", own["service_types"]) if t != UNCLASSIFIED]
    needs = valid("needs", own["needs"])
    reason = None
    roles = sorted(vocab.codes("caller_roles"))  # unclassified: never routed to (above)
    if own_types:
        service_type, classified_by = own_types[0], None
        roles = sorted(DEFAULT_CALLER_ROLES)
    else:
        found = classify(terms, mappings)
        needs += [n for n in found.needs if n not in needs]
        classified_by = found.classified_by()
        if found.other_types:
            notes.warn(
                "attributes",
                f"terms map to several service types {', '.join(found.other_types)}; "
                f"{found.service_type} used",
            )
        service_type = found.service_type or UNCLASSIFIED
        if found.service_type is not None:
            roles = found.caller_roles()
        else:
            reason = _unclassified_reason(terms, found.mappings, [] if trusted else claims)
    sectors = valid("sectors", own["sectors"])
    term = vocab.terms["service_types"].get(service_type)
    sector = (
        sectors[0]
        if sectors
        else str(term.extra.get("sector", "voluntary"))
        if term
        else "voluntary"
    )
    # navigator's own terms are not kept as source terms, trusted or not: source_terms are
    # republished in /oruk/, where a third party's claim in navigator's own taxonomies would
    # read as navigator's classification to the next navigator that trusts this one.
    return {
        "service_type": service_type,
        "sector": sector,
        "needs": needs,
        "classified_by": classified_by,
        "source_terms": [t.stored() for t in terms],
        "caller_roles": roles,
    }, reason


def _unclassified_reason(terms: list[FeedTerm], mapped: list[str], untrusted: list[str]) -> str:
    ignored = f"; navigator's own terms not trusted: {', '.join(untrusted)}" if untrusted else ""
    if not terms:
        return printable(f"no taxonomy terms{ignored}")
    shown = [f"{t.taxonomy} {t.code}" + (f" ({t.name})" if t.name else "") for t in terms]
    more = f" and {len(shown) - TERMS_IN_REASON} more" if len(shown) > TERMS_IN_REASON else ""
    needs = f"; needs from mapping:{', '.join(mapped)}" if mapped else ""
    text = "; ".join(shown[:TERMS_IN_REASON]) + more
    return printable(f"no navigator service type for its terms: {text}{needs}{ignored}")
