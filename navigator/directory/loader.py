"""`navigator directory load`: read navigator-format or Open Referral UK files into the
directory. Idempotent (same data twice changes nothing), updates in place, and keeps the
good records when others are rejected.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from navigator.core.schemas import message_lines
from navigator.core.vocabulary import UNCLASSIFIED, Vocabulary
from navigator.directory.oruk_import import oruk_services, records_from_oruk
from navigator.directory.oruk_values import printable
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
    read_organisations,
    read_services,
    update_organisation,
    update_service,
)

NAVIGATOR_FORMAT = "navigator-directory/1"
DATA_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Rejection:
    kind: str
    id: str
    source: str
    reason: str

    def __str__(self) -> str:
        return f"rejected {self.kind} {self.id} ({self.source}): {self.reason}"


COUNTS = ("created", "updated", "unchanged", "rejected")


@dataclass
class LoadReport:
    """What a load did: counts of organisations and services created / updated / unchanged /
    rejected, each rejection with its reason, the services kept with warnings (service id ->
    `"field: message"` lines: what of the feed could not be kept exactly) and the services kept
    as `unclassified` (service id -> why). Feed text in it is cut short and printable
    (`oruk_values.printable`): it is printed to a terminal."""

    organisations: Counter[str] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    unclassified: dict[str, str] = field(default_factory=dict)

    def reject(self, kind: str, ident: Any, source: str, reason: str) -> None:
        (self.organisations if kind == "organisation" else self.services)["rejected"] += 1
        self.rejections.append(
            Rejection(
                kind, printable(str(ident or "?"), 120), printable(source, 200), printable(reason)
            )
        )

    def warn(self, service_id: str, lines: list[str]) -> None:
        self.warnings.setdefault(service_id, []).extend(
            line for line in lines if line not in self.warnings.get(service_id, [])
        )

    def lines(self) -> list[str]:
        """The report as lines for a terminal: the two count lines, the rejections, then the
        services kept with warnings and the unclassified ones, each with its reasons."""

        def counts(c: Counter[str]) -> str:
            return ", ".join(f"{k} {c[k]}" for k in COUNTS)

        out = [
            f"organisations: {counts(self.organisations)}",
            f"services: {counts(self.services)}",
            *(str(r) for r in self.rejections),
        ]
        if self.warnings:
            out.append(f"kept with warnings: {len(self.warnings)} services")
            for sid in sorted(self.warnings):
                out += [f"  {sid}: {line}" for line in self.warnings[sid]]
        if self.unclassified:
            out.append(f"unclassified (never routed to until classified): {len(self.unclassified)}")
            out += [f"  {sid}: {reason}" for sid, reason in sorted(self.unclassified.items())]
        return out

    def as_json(self) -> dict[str, Any]:
        """The same report as JSON-able data: `{"organisations": {created, updated, unchanged,
        rejected}, "services": {...}, "rejected": [{kind, id, source, reason}],
        "kept_with_warnings": {service id: ["field: message"]}, "unclassified": {service id:
        reason}}`."""
        return {
            "organisations": {k: self.organisations[k] for k in COUNTS},
            "services": {k: self.services[k] for k in COUNTS},
            "rejected": [
                {"kind": r.kind, "id": r.id, "source": r.source, "reason": r.reason}
                for r in self.rejections
            ],
            "kept_with_warnings": {
                sid: list(lines) for sid, lines in sorted(self.warnings.items())
            },
            "unclassified": dict(sorted(self.unclassified.items())),
        }

    @property
    def changed(self) -> bool:
        return bool(
            self.organisations["created"]
            + self.organisations["updated"]
            + self.services["created"]
            + self.services["updated"]
        )


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
    files = (
        sorted(p for p in path.rglob("*") if p.suffix in DATA_SUFFIXES and p.is_file())
        if path.is_dir()
        else [path]
    )
    documents = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
        documents.append((file.name, _plain(data)))
    return documents


def _split(
    documents: list[tuple[str, Any]], report: LoadReport, vocab: Vocabulary | None = None
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]], set[str]]:
    """Sort the raw records of every document into organisations and services. A document is
    navigator format (it has `format`) or ORUK services in any shape `oruk_import` accepts
    (a list, a page, an organization with services, one service); the import's warnings and
    unclassified reasons go into `report` (pruned to the services kept by `load_documents`).
    Returns (organisations, services, ids of the organisations read from ORUK documents)."""
    oruk_orgs: set[str] = set()
    orgs: list[tuple[str, Any]] = []
    services: list[tuple[str, Any]] = []
    for source, data in documents:
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
            result = records_from_oruk(data, vocab)
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


def _validate(schema: Any, raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(raw, dict):
        return None, "not an object"
    try:
        return schema.load(raw), None
    except ValidationError as exc:
        return None, "; ".join(message_lines(exc))


def load_documents(
    session: Session, documents: list[tuple[str, Any]], *, vocab: Vocabulary, changed_by: str
) -> LoadReport:
    report = LoadReport()
    raw_orgs, raw_services, oruk_orgs = _split(documents, report, vocab)
    # An ORUK feed's organisation whose ODS code navigator already files under another id
    # (another directory's UUID for an NHS trust) is that organisation: its services go there.
    same_as: dict[str, str] = {}

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
            same_as[record["id"]] = owner
            continue
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
    insert_organisations(session, list(new_orgs.values()))
    for record in changed_orgs:
        update_organisation(session, record)

    known_orgs = set(existing_orgs) | set(new_orgs)
    service_schema = ServiceSchema()
    valid: dict[str, Record] = {}
    for source, raw in raw_services:
        ident = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw, dict) and raw.get("organisation") in same_as:
            owner = same_as[raw["organisation"]]
            report.warn(
                str(ident),
                [f"organization: its ODS code belongs to {owner!r}; the service is filed there"],
            )
            raw = raw | {"organisation": owner}
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

    existing: dict[str, Record] = {}
    for batch in chunks(list(valid)):
        existing.update(read_services(session, batch))
    created = [r for sid, r in valid.items() if sid not in existing]
    insert_services(session, created, changed_by=changed_by)
    report.services["created"] += len(created)
    for sid, record in valid.items():
        if sid not in existing:
            continue
        record = valid[sid] = _keep_person_classification(existing[sid], record)
        if existing[sid] == record:
            report.services["unchanged"] += 1
        else:
            update_service(session, existing[sid], record, changed_by=changed_by)
            report.services["updated"] += 1
    # Warnings and reasons only for services kept; a rejected one has its rejection instead.
    report.warnings = {sid: lines for sid, lines in report.warnings.items() if sid in valid}
    report.unclassified = {
        sid: report.unclassified.get(sid, "service_type unclassified in the file")
        for sid, record in valid.items()
        if record["service_type"] == UNCLASSIFIED
    }
    if report.changed:
        bump_revision(session)
    session.flush()
    return report


CLASSIFICATION_FIELDS = ("service_type", "sector", "needs", "eligibility", "classified_by")


def _keep_person_classification(old: Record, new: Record) -> Record:
    """`new`, but with `old`'s classification when a person made it (`classified_by:
    person:<username>`) and the feed brings only a mapping's or none (issue 15 §2: the feed
    owns its fields, navigator owns the classification). A feed whose own terms classify the
    service (navigator's taxonomies or `navigator-details`) still wins."""
    person = str(old.get("classified_by") or "").startswith("person:")
    incoming = str(new.get("classified_by") or "")
    if person and (incoming.startswith("mapping:") or new["service_type"] == UNCLASSIFIED):
        return new | {key: old[key] for key in CLASSIFICATION_FIELDS}
    return new


def _join(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())


def load_path(session: Session, path: Path, *, vocab: Vocabulary, changed_by: str) -> LoadReport:
    return load_documents(session, read_documents(path), vocab=vocab, changed_by=changed_by)
