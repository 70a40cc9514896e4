"""Directory records in the tables: every mapping between a canonical record
(`navigator.directory.records`) and its rows, and the writes, with change history and the
revision token.

A service is one `services` row, its `service_locations` rows (in order) and its
`opening_sessions` rows (weekly, bank-holiday, specified-date and recurring sessions, and closed
dates). Reading builds the canonical record back from them, so a record read after a write
equals the record written. Nothing here commits: callers own the unit of work.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from navigator.core.clock import WEEKDAYS
from navigator.core.db import utcnow
from navigator.directory.models import (
    DirectoryChange,
    DirectoryState,
    OpeningSession,
    Organisation,
    Service,
    ServiceChange,
    ServiceLocation,
)
from navigator.directory.opening_records import recurring_rule_json
from navigator.directory.records import (
    Record,
    canonical_organisation,
    canonical_service,
)

CHUNK = 2000  # keeps IN lists and executemany batches well inside both databases' limits


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Read on every search and routing call, so built once and run on the session's connection.
_REVISION = select(DirectoryState.revision).where(DirectoryState.id == bindparam("id"))
_VERSION = select(DirectoryState.revision, DirectoryState.seq).where(
    DirectoryState.id == bindparam("id")
)

# Change-log rows kept: a worker more than this many changes behind rebuilds its index whole
# (it would anyway: so many changes are a bulk load's worth). Each row is one edit's ids.
CHANGE_LOG_KEEP = 1000
# A change naming more services than this is logged as "everything" (NULL): every worker
# rebuilds for it anyway (`index.INLINE_APPLY_MAX` is far lower), so the ids are not stored.
CHANGE_LOG_MAX_IDS = 5000


def current_revision(session: Session) -> str | None:
    return session.connection().execute(_REVISION, {"id": 1}).scalar()


def current_version(session: Session) -> tuple[str | None, int]:
    """(revision token, seq) of the directory now: (None, 0) before its first change."""
    row = session.connection().execute(_VERSION, {"id": 1}).first()
    return (None, 0) if row is None else (row[0], int(row[1]))


def bump_revision(session: Session, service_ids: Iterable[str] | None = None) -> str:
    """Mark the directory as changed, logging which services changed; the new token.

    `service_ids` are the services whose records (or organisation) changed; None means
    "everything" (every worker rebuilds its index). The change's `seq` is allocated by an
    UPDATE of the `directory_state` row, which holds its lock until the caller commits, so
    two editors' seqs commit in seq order (an autoincrement id could commit out of order
    and a reader that had moved past it would skip it forever). Call it last in the unit
    of work to keep that lock short. Prunes log rows older than `CHANGE_LOG_KEEP` changes.
    """
    token, now = uuid.uuid4().hex, utcnow()
    seq = session.execute(
        update(DirectoryState)
        .where(DirectoryState.id == 1)
        .values(seq=DirectoryState.seq + 1, revision=token, changed_at=now)
        .returning(DirectoryState.seq)
    ).scalar()
    if seq is None:  # the first change ever: no row to lock yet
        seq = 1
        session.execute(insert(DirectoryState).values(id=1, revision=token, changed_at=now, seq=1))
    ids = None if service_ids is None else sorted(set(service_ids))
    if ids is not None and len(ids) > CHANGE_LOG_MAX_IDS:
        ids = None
    session.execute(
        insert(DirectoryChange).values(seq=seq, revision=token, service_ids=ids, changed_at=now)
    )
    if seq > CHANGE_LOG_KEEP:
        session.execute(delete(DirectoryChange).where(DirectoryChange.seq <= seq - CHANGE_LOG_KEEP))
    return token


def changed_service_ids(
    session: Session, since: int, since_revision: str | None, upto: int
) -> set[str] | None:
    """The services changed after change `since` (which left `since_revision`) up to and
    including change `upto`, from the change log; None when the log cannot say, and the
    reader must rebuild whole: a change of "everything", a row pruned (the reader is behind
    the horizon), or the row of `since` gone or naming another revision (the database was
    emptied or restored under the reader). Seqs commit in order (`bump_revision`), so every
    row up to `upto`, the `directory_state.seq` just read, is visible."""
    rows = session.execute(
        select(DirectoryChange.seq, DirectoryChange.revision, DirectoryChange.service_ids)
        .where(DirectoryChange.seq >= since, DirectoryChange.seq <= upto)
        .order_by(DirectoryChange.seq)
    ).all()
    if since > 0:
        if not rows or rows[0][0] != since or rows[0][1] != since_revision:
            return None
        rows = rows[1:]
    if [row[0] for row in rows] != list(range(since + 1, upto + 1)):
        return None
    ids: set[str] = set()
    for _, _, service_ids in rows:
        if service_ids is None:
            return None
        ids.update(service_ids)
    return ids


def organisation_service_ids(session: Session, organisation_ids: Iterable[str]) -> set[str]:
    """Ids of the services of these organisations (whose index entries show their name)."""
    wanted = list(organisation_ids)
    found: set[str] = set()
    for batch in chunks(wanted):
        found.update(session.scalars(select(Service.id).where(Service.organisation_id.in_(batch))))
    return found


# --- tables -> records ---------------------------------------------------------------------


def read_organisations(session: Session, ids: Iterable[str] | None = None) -> dict[str, Record]:
    """Canonical organisation records by id: all, or those of `ids` that exist."""
    query = select(Organisation.__table__)
    if ids is not None:
        query = query.where(Organisation.id.in_(list(ids)))
    rows = session.execute(query).mappings()
    return {row["id"]: canonical_organisation(dict(row)) for row in rows}


def read_services(session: Session, ids: Iterable[str] | None = None) -> dict[str, Record]:
    """Canonical service records by id (all, or those of `ids` that exist) straight from the
    tables, three queries whatever the size."""
    services_t = Service.__table__
    query = select(services_t)
    loc_query = select(ServiceLocation.__table__).order_by(ServiceLocation.position)
    sess_query = select(OpeningSession.__table__).order_by(OpeningSession.id)
    if ids is not None:
        wanted = list(ids)
        query = query.where(services_t.c.id.in_(wanted))
        loc_query = loc_query.where(ServiceLocation.service_id.in_(wanted))
        sess_query = sess_query.where(OpeningSession.service_id.in_(wanted))
    locations: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in session.execute(loc_query).mappings():
        locations[row["service_id"]].append(dict(row))
    sessions: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in session.execute(sess_query).mappings():
        sessions[row["service_id"]].append(dict(row))
    return {
        row["id"]: _record_from_row(dict(row), locations[row["id"]], sessions[row["id"]])
        for row in session.execute(query).mappings()
    }


def _opening_from_rows(open_all_hours: bool, rows: Iterable[Mapping[str, Any]]) -> Record:
    weekly: dict[str, list[list[str]]] = defaultdict(list)
    bank: list[list[str]] = []
    dates: dict[date, Record] = {}
    recurring: dict[str, Record] = {}  # by the rule's canonical JSON
    for row in rows:
        pair = [row["opens"], row["closes"]]
        if row["kind"] == "weekly":
            weekly[WEEKDAYS[row["weekday"]]].append(pair)
        elif row["kind"] == "bank_holiday":
            bank.append(pair)
        elif row["kind"] == "recurring":
            rule = row["rule"]
            recurring.setdefault(rule, json.loads(rule) | {"sessions": []})["sessions"].append(pair)
        else:
            entry = dates.setdefault(
                row["on_date"], {"date": row["on_date"], "closed": False, "sessions": []}
            )
            if row["closed"]:
                entry["closed"] = True
            else:
                entry["sessions"].append(pair)
    return {
        "open_all_hours": open_all_hours,
        "weekly": weekly,
        "bank_holidays": bank,
        "specified_dates": list(dates.values()),
        "recurring": list(recurring.values()),
    }


def _record_from_row(
    row: Mapping[str, Any],
    locations: Iterable[Mapping[str, Any]],
    sessions: Iterable[Mapping[str, Any]],
) -> Record:
    return canonical_service(
        {
            **row,
            "organisation": row["organisation_id"],
            "eligibility": {
                "min_age_days": row["min_age_days"],
                "max_age_days": row["max_age_days"],
                "sex": row["sex"],
                "caller_roles": row["caller_roles"],
                "gp_practices": row["restrict_gp_practices"],
                "places": row["restrict_places"],
            },
            "coverage": {
                "places": row["coverage_places"],
                "postcode_districts": row["coverage_districts"],
                "radius_km": row["radius_km"],
            },
            "locations": [dict(loc) for loc in locations],
            "contact": row,
            "referral": {"method": row["referral_method"], "info": row["referral_info"]},
            "opening": _opening_from_rows(row["open_all_hours"], sessions),
            "sms": {
                "number": row["sms_number"],
                "consent": row["sms_consent"],
                "consent_recorded_at": row["sms_consent_recorded_at"],
            },
        }
    )


# --- records -> tables ---------------------------------------------------------------------


def service_columns(record: Record) -> dict[str, Any]:
    """The `services` row of a canonical record (column name -> value; no timestamps)."""
    elig, cov, contact = record["eligibility"], record["coverage"], record["contact"]
    assured = record["assured_at"]
    return {
        "id": record["id"],
        "organisation_id": record["organisation"],
        "name": record["name"],
        "public_name": record["public_name"],
        "description": record["description"],
        "service_type": record["service_type"],
        "sector": record["sector"],
        "status": record["status"],
        "needs": record["needs"],
        "min_age_days": elig["min_age_days"],
        "max_age_days": elig["max_age_days"],
        "sex": elig["sex"],
        "caller_roles": elig["caller_roles"],
        "restrict_gp_practices": elig["gp_practices"],
        "restrict_places": elig["places"],
        "coverage_places": cov["places"],
        "coverage_districts": cov["postcode_districts"],
        "radius_km": cov["radius_km"],
        "public_phone": contact["public_phone"],
        "professional_phone": contact["professional_phone"],
        "email": contact["email"],
        "website": contact["website"],
        "referral_method": record["referral"]["method"],
        "referral_info": record["referral"]["info"],
        "open_all_hours": record["opening"]["open_all_hours"],
        "assured_at": datetime.fromisoformat(assured) if assured else None,
        "assured_by": record["assured_by"],
        "classified_by": record["classified_by"],
        "source_terms": record["source_terms"],
        # The opt-out is not part of the record: reloading the directory never clears it.
        **_sms_columns(record.get("sms")),
    }


def _sms_columns(sms: Record | None) -> dict[str, Any]:
    recorded = sms["consent_recorded_at"] if sms else None
    return {
        "sms_number": sms["number"] if sms else None,
        "sms_consent": bool(sms and sms["consent"]),
        "sms_consent_recorded_at": datetime.fromisoformat(recorded) if recorded else None,
    }


def location_rows(record: Record) -> list[dict[str, Any]]:
    """The record's `service_locations` rows, `position` keeping their order."""
    return [
        {"service_id": record["id"], "position": index, **location}
        for index, location in enumerate(record["locations"])
    ]


def session_rows(record: Record) -> list[dict[str, Any]]:
    """The record's `opening_sessions` rows: one per weekly, bank-holiday, specified-date or
    recurring session, and one `closed` row per closed date (weekday 0 = Monday). A recurring
    session's `rule` is its entry's rule as canonical JSON (`recurring_rule_json`)."""
    service_id, opening = record["id"], record["opening"]
    rows: list[dict[str, Any]] = []

    def add(kind: str, pairs: Iterable[list[str]], **extra: Any) -> None:
        for opens, closes in pairs:
            rows.append(
                {"service_id": service_id, "kind": kind, "opens": opens, "closes": closes}
                | {"weekday": None, "on_date": None, "closed": False, "rule": None}
                | extra
            )

    for day, pairs in opening["weekly"].items():
        add("weekly", pairs, weekday=WEEKDAYS.index(day))
    add("bank_holiday", opening["bank_holidays"])
    for entry in opening["specified_dates"]:
        on_date = date.fromisoformat(entry["date"])
        if entry["closed"]:
            rows.append(
                {"service_id": service_id, "kind": "date", "weekday": None, "on_date": on_date}
                | {"opens": None, "closes": None, "closed": True, "rule": None}
            )
        else:
            add("date", entry["sessions"], on_date=on_date)
    for entry in opening.get("recurring", []):
        add("recurring", entry["sessions"], rule=recurring_rule_json(entry))
    return rows


# --- writing -------------------------------------------------------------------------------


def diff_fields(old: Record, new: Record) -> list[tuple[str, Any, Any]]:
    return [(key, old.get(key), new[key]) for key in new if old.get(key) != new[key]]


def insert_organisations(session: Session, records: Sequence[Record]) -> None:
    if records:
        session.execute(insert(Organisation), list(records))


def update_organisation(session: Session, record: Record) -> None:
    values = {k: v for k, v in record.items() if k != "id"}
    session.execute(update(Organisation).where(Organisation.id == record["id"]).values(values))


def insert_services(session: Session, records: Sequence[Record], *, changed_by: str) -> None:
    """Bulk-create services (fast enough for a 100,000-service synthetic directory)."""
    now = utcnow()
    for batch in chunks(records):
        session.execute(
            insert(Service),
            [service_columns(r) | {"created_at": now, "updated_at": now} for r in batch],
        )
        children = [row for r in batch for row in location_rows(r)]
        if children:
            session.execute(insert(ServiceLocation), children)
        sessions = [row for r in batch for row in session_rows(r)]
        if sessions:
            session.execute(insert(OpeningSession), sessions)
        session.execute(
            insert(ServiceChange),
            [
                {
                    "service_id": r["id"],
                    "changed_at": now,
                    "changed_by": changed_by,
                    "field": "created",
                    "old_value": None,
                    "new_value": r["name"],
                }
                for r in batch
            ],
        )


def update_service(session: Session, old: Record, new: Record, *, changed_by: str) -> None:
    """Replace a service's row and children with `new`, recording each changed field."""
    changes = diff_fields(old, new)
    if not changes:
        return
    now = utcnow()
    service_id = new["id"]
    session.execute(
        update(Service)
        .where(Service.id == service_id)
        .values(service_columns(new) | {"updated_at": now})
    )
    if old["locations"] != new["locations"]:
        session.execute(delete(ServiceLocation).where(ServiceLocation.service_id == service_id))
        if rows := location_rows(new):
            session.execute(insert(ServiceLocation), rows)
    if old["opening"] != new["opening"]:
        session.execute(delete(OpeningSession).where(OpeningSession.service_id == service_id))
        if rows := session_rows(new):
            session.execute(insert(OpeningSession), rows)
    session.execute(
        insert(ServiceChange),
        [
            {
                "service_id": service_id,
                "changed_at": now,
                "changed_by": changed_by,
                "field": field,
                "old_value": old_value,
                "new_value": new_value,
            }
            for field, old_value, new_value in changes
        ],
    )


def record_change(
    session: Session, service_id: str, field: str, old: Any, new: Any, *, changed_by: str
) -> None:
    session.add(
        ServiceChange(
            service_id=service_id,
            changed_by=changed_by,
            field=field,
            old_value=old,
            new_value=new,
            changed_at=utcnow(),
        )
    )
