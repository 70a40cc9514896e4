"""`navigator directory load`: read navigator-format or Open Referral UK files into the
directory. Idempotent (same data twice changes nothing), updates in place, and keeps the
good records when others are rejected. Every string of every document loses the characters no
directory text may hold (`oruk_values.sanitised`: NUL, other control characters, bidi
overrides) before anything else reads it, whatever its format or source.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.clock import years_for_max_age_days, years_for_min_age_days
from navigator.core.schemas import message_lines
from navigator.core.vocabulary import UNCLASSIFIED, Vocabulary
from navigator.directory.documents import read_documents, sanitised_document
from navigator.directory.load_report import LoadReport
from navigator.directory.models import Organisation, Service
from navigator.directory.oruk_import import KeptElsewhere, oruk_services, records_from_oruk
from navigator.directory.oruk_values import (
    TooDeep,
    Unreadable,
)
from navigator.directory.records import (
    OrganisationSchema,
    Record,
    ServiceSchema,
    canonical_organisation,
    canonical_service,
    vocabulary_errors,
)
from navigator.directory.store import (
    bump_revision,
    chunks,
    insert_organisations,
    insert_services,
    organisation_service_ids,
    read_organisations,
    read_services,
    update_organisation,
    update_service,
)

NAVIGATOR_FORMAT = "navigator-directory/1"


def kept_elsewhere(session: Session) -> KeptElsewhere:
    """What an untrusted feed must not update (review of issue 15, H1: a feed id that
    lowercased to a hand-kept service's replaced it; a feed organisation renamed a hospital
    and wiped its ODS code). With no provenance column, told apart by what only an untrusted
    feed leaves: its services always have `classified_by` (`mapping:…`, `person:…`) or type
    `unclassified`; a service from a navigator-format file or a trusted feed has neither.
    An organisation is kept elsewhere when any of its services is, or when it has none (an
    untrusted feed never creates an organisation without a service: `load_documents`). Cost:
    one query of four columns of every service, one of every organisation's id."""
    services: set[str] = set()
    with_services: set[str] = set()
    organisations: set[str] = set()
    rows = session.execute(
        select(Service.id, Service.organisation_id, Service.classified_by, Service.service_type)
    )
    for sid, org, classified_by, service_type in rows:
        with_services.add(org)
        if classified_by is None and service_type != UNCLASSIFIED:
            services.add(sid)
            organisations.add(org)
    organisations |= set(session.scalars(select(Organisation.id))) - with_services
    return KeptElsewhere(frozenset(services), frozenset(organisations))


def _split(
    documents: list[tuple[str, Any]],
    report: LoadReport,
    vocab: Vocabulary | None = None,
    *,
    trust_classification: bool = False,
    kept: KeptElsewhere | None = None,
    today: date | None = None,
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]], set[str]]:
    """Sort the raw records of every document into organisations and services. A document is
    navigator format (it has `format`) or ORUK services in any shape `oruk_import` accepts
    (a list, a page, an organization with services, one service); the import's warnings and
    unclassified reasons go into `report` (pruned to the services kept by `load_documents`).
    `kept`: ids the ORUK documents must not take (`kept_elsewhere`; None: a trusted load),
    to which the ids of this load's navigator-format documents are added. Returns
    (organisations, services, ids of the organisations read from ORUK documents)."""
    oruk_orgs: set[str] = set()
    orgs: list[tuple[str, Any]] = []
    services: list[tuple[str, Any]] = []
    sanitised: list[tuple[str, Any]] = []
    for source, raw_data in documents:
        try:
            sanitised.append((source, sanitised_document(raw_data)))
        except TooDeep as exc:
            report.reject("document", source, source, str(exc))
    if kept is not None:
        kept = KeptElsewhere(
            kept.services | _navigator_ids(sanitised, "services"),
            kept.organisations | _navigator_ids(sanitised, "organisations"),
        )
    for source, data in sanitised:
        if isinstance(data, dict) and "format" in data:
            if data["format"] != NAVIGATOR_FORMAT:
                report.reject("document", source, source, f"unknown format {data['format']!r}")
                continue
            unknown = set(data) - {"format", "organisations", "services"}
            if unknown:
                report.reject("document", source, source, f"unknown keys {sorted(unknown)}")
                continue
            orgs += [(source, raw) for raw in data.get("organisations") or []]
            services += [(source, raw) for raw in data.get("services") or []]
        elif oruk_services(data) is not None:
            result = records_from_oruk(
                data, vocab, trust_classification=trust_classification, kept=kept, today=today
            )
            orgs += [(source, raw) for raw in result.organisations]
            oruk_orgs |= {raw["id"] for raw in result.organisations}
            services += [(source, raw) for raw in result.services]
            for ident, reason in result.rejected:
                report.reject("service", ident, source, reason)
            for sid, lines in result.warnings.items():
                report.warn(sid, lines)
            report.unclassified.update(result.unclassified)
        else:
            report.reject(
                "document",
                source,
                source,
                "neither navigator format nor Open Referral UK services (a list of services, "
                "a page with contents/content/services, or one service object)",
            )
    return orgs, services, oruk_orgs


def _navigator_ids(documents: list[tuple[str, Any]], key: str) -> frozenset[str]:
    """The ids of the `key` records ("services", "organisations") of the navigator-format
    documents."""
    return frozenset(
        raw["id"]
        for _, data in documents
        if isinstance(data, dict) and "format" in data and isinstance(data.get(key), list)
        for raw in data[key]
        if isinstance(raw, dict) and isinstance(raw.get("id"), str)
    )


def _validate(schema: Any, raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    if isinstance(raw, Unreadable):
        return None, raw.reason
    if not isinstance(raw, dict):
        return None, "not an object"
    try:
        return schema.load(raw), None
    except ValidationError as exc:
        return None, "; ".join(message_lines(exc))


def load_documents(
    session: Session,
    documents: list[tuple[str, Any]],
    *,
    vocab: Vocabulary,
    changed_by: str,
    trust_classification: bool = False,
    today: date | None = None,
) -> LoadReport:
    """Load parsed documents (source name, data): navigator format, or ORUK services read by
    `oruk_import.records_from_oruk` (`trust_classification`: the ORUK feeds are navigator's
    own export or another navigator's, whose classification is taken as given, and which may
    update any record; without it a feed's record whose id navigator keeps from another
    source is loaded under a derived id instead, warned: `kept_elsewhere`; `today`: the
    load date for long closures, default now). Validates every record, writes the good ones
    in `session` (no commit) and reports the rest."""
    report = LoadReport()
    raw_orgs, raw_services, oruk_orgs = _split(
        documents,
        report,
        vocab,
        trust_classification=trust_classification,
        kept=None if trust_classification else kept_elsewhere(session),
        today=today,
    )
    # An ORUK feed's organisation that gives an ODS code navigator already files under another
    # id keeps its own id and loses the code (warned on each of its services): a feed must not
    # file services under an NHS organisation by naming its code (hazard H30).
    ods_dropped: dict[str, tuple[str, str]] = {}

    existing_orgs = read_organisations(session)
    ods_owner = {o["ods_code"]: o["id"] for o in existing_orgs.values() if o["ods_code"]}
    new_orgs: dict[str, Record] = {}
    changed_orgs: list[Record] = []
    seen_orgs: dict[str, Record] = {}
    org_schema = OrganisationSchema()
    for source, raw in raw_orgs:
        data, error = _validate(org_schema, raw)
        ident = raw.get("id") if isinstance(raw, dict) else None
        if data is None:
            report.reject("organisation", ident, source, error or "invalid")
            continue
        record = canonical_organisation(data)
        if errors := vocabulary_errors(record, vocab):
            report.reject("organisation", ident, source, _join(errors))
            continue
        if record["id"] in seen_orgs:
            # An ORUK feed repeats the organization in every service (pages may differ, e.g.
            # summaries): the first copy describes it. navigator files must agree.
            if seen_orgs[record["id"]] != record and record["id"] not in oruk_orgs:
                report.reject("organisation", ident, source, "id given twice with different data")
            continue
        owner = ods_owner.get(record["ods_code"]) if record["ods_code"] else None
        if owner and owner != record["id"] and record["id"] in oruk_orgs:
            ods_dropped[record["id"]] = (record["ods_code"], owner)
            record = record | {"ods_code": None}
            owner = None
        if owner and owner != record["id"]:
            report.reject(
                "organisation", ident, source, f"ods_code {record['ods_code']} belongs to {owner}"
            )
            continue
        seen_orgs[record["id"]] = record
        if record["ods_code"]:
            ods_owner[record["ods_code"]] = record["id"]
        old = existing_orgs.get(record["id"])
        if old is None:
            new_orgs[record["id"]] = record
            report.organisations["created"] += 1
        elif old != record:
            changed_orgs.append(record)
            report.organisations["updated"] += 1
        else:
            report.organisations["unchanged"] += 1
    known_orgs = set(existing_orgs) | set(new_orgs)
    service_schema = ServiceSchema()
    valid: dict[str, Record] = {}
    for source, raw in raw_services:
        ident = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw, dict) and raw.get("organisation") in ods_dropped:
            code, owner = ods_dropped[raw["organisation"]]
            report.warn(
                str(ident),
                [
                    f"organization.organization_identifiers: ODS code {code} is "
                    f"{owner}'s in navigator; left out (the service stays under "
                    f"{raw['organisation']})"
                ],
            )
        data, error = _validate(service_schema, raw)
        if data is None:
            report.reject("service", ident, source, error or "invalid")
            continue
        record = canonical_service(data)
        if errors := vocabulary_errors(record, vocab):
            report.reject("service", ident, source, _join(errors))
        elif record["organisation"] not in known_orgs:
            report.reject(
                "service", ident, source, f"unknown organisation {record['organisation']!r}"
            )
        elif record["id"] in valid and valid[record["id"]] != record:
            report.reject("service", ident, source, "id given twice with different data")
        else:
            valid[record["id"]] = record

    # An ORUK document's organisation named only by services that were all rejected is not
    # created, so an organisation without services is never a feed's (`kept_elsewhere`).
    used = {record["organisation"] for record in valid.values()}
    unused = [oid for oid in new_orgs if oid in oruk_orgs and oid not in used]
    for oid in unused:
        del new_orgs[oid]
    report.organisations["created"] -= len(unused)
    insert_organisations(session, list(new_orgs.values()))
    for record in changed_orgs:
        update_organisation(session, record)

    existing: dict[str, Record] = {}
    for batch in chunks(list(valid)):
        existing.update(read_services(session, batch))
    created = [r for sid, r in valid.items() if sid not in existing]
    insert_services(session, created, changed_by=changed_by)
    report.services["created"] += len(created)
    # What changed, for every node's index: services created or updated, and the services of
    # an organisation whose record changed (index entries carry the organisation's name).
    touched = {r["id"] for r in created}
    touched |= organisation_service_ids(session, [r["id"] for r in changed_orgs])
    for sid, record in valid.items():
        if sid not in existing:
            continue
        record, kept = _keep_person_classification(existing[sid], record)
        valid[sid] = record
        if kept is not None:
            report.warn(sid, [kept])
        if existing[sid] == record:
            report.services["unchanged"] += 1
        else:
            update_service(session, existing[sid], record, changed_by=changed_by)
            report.services["updated"] += 1
            touched.add(sid)
    # Warnings and reasons only for services kept; a rejected one has its rejection instead.
    report.warnings = {sid: lines for sid, lines in report.warnings.items() if sid in valid}
    report.unclassified = {
        sid: report.unclassified.get(sid, "service_type unclassified in the file")
        for sid, record in valid.items()
        if record["service_type"] == UNCLASSIFIED
    }
    if report.changed:
        bump_revision(session, touched)
    session.flush()
    return report


CLASSIFICATION_FIELDS = ("service_type", "sector", "needs", "eligibility", "classified_by")


def _keep_person_classification(old: Record, new: Record) -> tuple[Record, str | None]:
    """`new`, but with `old`'s classification when a person made it (`classified_by:
    person:<username>`) and the feed brings only a mapping's or none (issue 15 §2: the feed
    owns its fields, navigator owns the classification); and, when the feed's own ages or sex
    now differ from the kept eligibility, a warning saying so (never silently). A trusted feed
    whose own terms classify the service (navigator's taxonomies or `navigator-details`)
    still wins."""
    who = str(old.get("classified_by") or "")
    incoming = str(new.get("classified_by") or "")
    if not who.startswith("person:") or not (
        incoming.startswith("mapping:") or new["service_type"] == UNCLASSIFIED
    ):
        return new, None
    kept = new | {key: old[key] for key in CLASSIFICATION_FIELDS}
    facts = ("min_age_days", "max_age_days", "sex")
    if all(new["eligibility"].get(k) == old["eligibility"].get(k) for k in facts):
        return kept, None
    said = _eligibility_text(new["eligibility"])
    return (
        kept,
        f"eligibility: kept as classified by {who[len('person:') :]}; the feed now says {said}",
    )


def _eligibility_text(eligibility: dict[str, Any]) -> str:
    """A feed's ages and sex as a person reads them: "ages 0–17", "ages 65 and over",
    "any age, female only"."""
    low = years_for_min_age_days(eligibility["min_age_days"])
    high = eligibility.get("max_age_days")
    if high is not None:
        ages = f"ages {low}–{years_for_max_age_days(high)}"
    else:
        ages = f"ages {low} and over" if low else "any age"
    sex = eligibility.get("sex") or "any"
    return ages if sex == "any" else f"{ages}, {sex} only"


def _join(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())


def load_path(
    session: Session,
    path: Path,
    *,
    vocab: Vocabulary,
    changed_by: str,
    trust_classification: bool = False,
) -> LoadReport:
    """`load_documents` of a file or folder (`read_documents`)."""
    return load_documents(
        session,
        read_documents(path),
        vocab=vocab,
        changed_by=changed_by,
        trust_classification=trust_classification,
    )
