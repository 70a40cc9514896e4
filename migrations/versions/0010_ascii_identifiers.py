"""Identifiers stored in one ASCII spelling: NHS numbers, ODS codes, postcodes, phone numbers.

Until now `٩٤٣٤٧٦٥٩١٩` and `９４３４７６５٩١٩` passed the NHS number check and were stored as
typed, so one person could be three patients (issue 13, section 5; hazard H15, "Wrong
patient"). The app now normalises every identifier to ASCII before checking, storing and
matching (`navigator.core.identifiers`); this migration does the same to what is already stored:

- `patients`: nhs_number, postcode, gp_practice_ods; `patient_sources.fields` (what each
  client sent): the same three keys;
- `navigations`: nhs_number, postcode (full or outward code), gp_practice_ods, caller_phone;
- `organisations.ods_code`, `services` public/professional/SMS numbers, its GP-practice and
  postcode-district lists, `service_locations.postcode`;
- `api_clients.organisation_ods`, `dtoc_episodes.provider_ods`, the three organisation codes
  of `transition_events`, and the numbers of `sms_messages` and `sms_replies`.

A value is rewritten only when its normalised form is valid and differs (e.g. `e81001` becomes
`E81001`); a value that does not normalise (an impossible postcode such as `MK42 9CI`
accepted before the position rules) is left exactly as stored and counted in the report, so
no data is lost and nothing is guessed.

**Two patients, one NHS number.** Where normalising makes two patients share an NHS number
they are *not* merged: merging records joins two histories, and if one number was mistyped
they are two people, so whether to merge is a clinical-safety decision for a person (hazard
H15), not for a migration. The record that already held the number in ASCII keeps it (the
one every lookup since has matched), else the one created first; each other record keeps
everything except its NHS number, which is cleared (the column is unique). Both records get an
audit event (`action` "update", `route` "migration 0010_ascii_identifiers") whose `entity_id`
names the *other* record, so the audit trail of either leads to its twin; the report logged
by this migration lists the pairs by id (ids only, never patient data). The same rule leaves
an organisation's ODS code as stored when its normalised form belongs to another
organisation (the loader refuses two organisations with one code; a person fixes the data).

The normalisation is restated here rather than imported from `navigator.core.identifiers`, as in
0009: a data migration must give the same rows for as long as it exists, and the app's code
will move and change after it.

Downgrade does nothing: the ASCII values are values revision 0009's code also writes and
reads, and the original spellings are not kept.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00
"""

import datetime
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
ROUTE = "migration 0010_ascii_identifiers"
JsonList = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# --- the normalisation, as of this revision ---------------------------------------------------


def _fold(value: str) -> str | None:
    out = []
    for char in value:
        if char.isascii():
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Nd":
            out.append(chr(0x30 + unicodedata.decimal(char)))
        elif category in ("No", "Nl"):
            return None
        elif category == "Cf":
            continue
        elif category == "Zs":
            out.append(" ")
        elif category == "Pd":
            out.append("-")
        else:
            out.append(unicodedata.normalize("NFKC", char))
    folded = "".join(out)
    return folded if folded.isascii() else None


def nhs_number(value: str) -> str | None:
    # The modulus-11 check only: every stored number already passed the app's full check
    # (with the `nhs-number` library) in whatever digits it was typed.
    folded = _fold(value)
    digits = None if folded is None else re.sub(r"[\s-]", "", folded)
    if digits is None or not re.fullmatch(r"[0-9]{10}", digits) or len(set(digits)) == 1:
        return None
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    check = 0 if check == 11 else check
    return digits if check != 10 and check == int(digits[9]) else None


def ods_code(value: str) -> str | None:
    folded = _fold(value)
    code = None if folded is None else folded.strip().upper()
    return code if code is not None and re.fullmatch(r"[A-Z0-9]{3,10}", code) else None


def phone(value: str) -> str | None:
    folded = _fold(value)
    if folded is None:
        return None
    text = " ".join(folded.replace("-", " ").split())
    ok = re.fullmatch(r"\+?[0-9 ()]+", text) and sum(c.isdigit() for c in text) >= 3
    return text if ok else None


_OUTWARD = (
    "[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    "|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]"
)
_SPECIAL = {
    code.replace(" ", ""): code
    for code in (
        "ASCN 1ZZ",
        "BBND 1ZZ",
        "BIQQ 1ZZ",
        "FIQQ 1ZZ",
        "GX11 1AA",
        "PCRN 1ZZ",
        "SIQQ 1ZZ",
        "STHL 1ZZ",
        "TDCU 1ZZ",
        "TKCA 1ZZ",
        "GIR 0AA",
        "SAN TA1",
        "XM4 5HQ",
    )
}


def postcode(value: str, *, allow_outward: bool = False) -> str | None:
    folded = _fold(value)
    if folded is None:
        return None
    compact = "".join(folded.split()).upper()
    if compact in _SPECIAL:
        return _SPECIAL[compact]
    if match := re.fullmatch(r"BFPO([0-9]{1,4})", compact):
        return f"BFPO {match.group(1)}"
    if match := re.fullmatch(f"({_OUTWARD})([0-9][ABD-HJLNP-UW-Z]{{2}})", compact):
        return f"{match.group(1)} {match.group(2)}"
    if allow_outward and re.fullmatch(f"(?:{_OUTWARD})", compact):
        return compact
    return None


def any_postcode(value: str) -> str | None:
    return postcode(value, allow_outward=True)


def district(value: str) -> str | None:
    text = postcode(value, allow_outward=True)
    return text if text is not None and " " not in text else None


Normalise = Callable[[str], str | None]

# (table, primary key, column, normalisation); unique columns are handled apart, below.
COLUMNS: tuple[tuple[str, str, str, Normalise], ...] = (
    ("patients", "id", "postcode", postcode),
    ("patients", "id", "gp_practice_ods", ods_code),
    ("navigations", "id", "nhs_number", nhs_number),
    ("navigations", "id", "postcode", any_postcode),
    ("navigations", "id", "gp_practice_ods", ods_code),
    ("navigations", "id", "caller_phone", phone),
    ("services", "id", "public_phone", phone),
    ("services", "id", "professional_phone", phone),
    ("services", "id", "sms_number", phone),
    ("service_locations", "id", "postcode", postcode),
    ("api_clients", "id", "organisation_ods", ods_code),
    ("dtoc_episodes", "id", "provider_ods", ods_code),
    ("transition_events", "id", "organisation", ods_code),
    ("transition_events", "id", "from_organisation", ods_code),
    ("transition_events", "id", "to_organisation", ods_code),
    ("sms_messages", "id", "to_number", phone),
    ("sms_replies", "id", "from_number", phone),
)
# JSON lists of identifiers on services.
LISTS: tuple[tuple[str, Normalise], ...] = (
    ("restrict_gp_practices", ods_code),
    ("coverage_districts", district),
)
# Keys of patient_sources.fields that hold identifiers.
SOURCE_KEYS: dict[str, Normalise] = {
    "nhs_number": nhs_number,
    "postcode": postcode,
    "gp_practice_ods": ods_code,
}
# E.164 columns (texts): `phone` keeps their spelling for ASCII values, so only a number
# stored with other digits changes; spaces would not be E.164, so they are removed there.
E164 = {("services", "sms_number"), ("sms_messages", "to_number"), ("sms_replies", "from_number")}


class Report:
    """What changed and what was left as stored, logged at the end (counts and ids only)."""

    def __init__(self) -> None:
        self.changed: dict[str, int] = defaultdict(int)
        self.left: dict[str, int] = defaultdict(int)
        self.twins: list[tuple[str, str]] = []  # (kept patient id, cleared patient id)
        self.ods_clashes: list[tuple[str, str]] = []  # (owner organisation id, left as stored)

    def log(self) -> None:
        for name, count in sorted(self.changed.items()):
            log.info("0010: %s: %d value(s) rewritten in ASCII", name, count)
        for name, count in sorted(self.left.items()):
            log.warning("0010: %s: %d value(s) do not normalise; left as stored", name, count)
        for kept, cleared in self.twins:
            log.warning(
                "0010: patients %s and %s share an NHS number once normalised; not merged: "
                "%s keeps it, %s's is cleared (see both audit trails; hazard H15)",
                kept,
                cleared,
                kept,
                cleared,
            )
        for owner, left in self.ods_clashes:
            log.warning(
                "0010: organisation %s's ODS code normalises to %s's; left as stored", left, owner
            )


def upgrade() -> None:
    conn = op.get_bind()
    report = Report()
    for table_name, key, column, normalise in COLUMNS:
        _normalise_column(conn, report, table_name, key, column, normalise)
    _normalise_services_lists(conn, report)
    _normalise_patient_sources(conn, report)
    _normalise_unique(conn, report, "organisations", "ods_code", ods_code)
    _normalise_patient_nhs_numbers(conn, report)
    report.log()


def downgrade() -> None:
    """Nothing to undo: ASCII identifiers are what revision 0009's code writes too."""


def _normalise_column(
    conn: sa.Connection,
    report: Report,
    table_name: str,
    key: str,
    column: str,
    normalise: Normalise,
) -> None:
    table = sa.table(table_name, sa.column(key), sa.column(column, sa.String()))
    rows = conn.execute(
        sa.select(table.c[key], table.c[column]).where(table.c[column].is_not(None))
    ).all()
    updates = []
    for ident, value in rows:
        new = normalise(value)
        if new is not None and (table_name, column) in E164:
            new = re.sub(r"[ ()]", "", new)
        if new is None:
            report.left[f"{table_name}.{column}"] += 1
        elif new != value:
            updates.append({"_key": ident, "_value": new})
    if updates:
        conn.execute(
            table.update()
            .where(table.c[key] == sa.bindparam("_key"))
            .values({column: sa.bindparam("_value")}),
            updates,
        )
        report.changed[f"{table_name}.{column}"] += len(updates)


def _normalise_services_lists(conn: sa.Connection, report: Report) -> None:
    services = sa.table(
        "services", sa.column("id"), *(sa.column(name, JsonList) for name, _ in LISTS)
    )
    for name, normalise in LISTS:
        for ident, values in conn.execute(sa.select(services.c.id, services.c[name])).all():
            if not values:
                continue
            new = sorted({normalise(v) or v for v in values})
            report.left[f"services.{name}"] += sum(normalise(v) is None for v in values)
            if new != values:
                conn.execute(services.update().where(services.c.id == ident).values({name: new}))
                report.changed[f"services.{name}"] += 1


def _normalise_patient_sources(conn: sa.Connection, report: Report) -> None:
    sources = sa.table("patient_sources", sa.column("id"), sa.column("fields", sa.JSON()))
    for ident, sent in conn.execute(sa.select(sources.c.id, sources.c.fields)).all():
        if not isinstance(sent, dict):
            continue
        new = dict(sent)
        for name, normalise in SOURCE_KEYS.items():
            if isinstance(new.get(name), str):
                new[name] = normalise(new[name]) or new[name]
        if new != sent:
            conn.execute(sources.update().where(sources.c.id == ident).values(fields=new))
            report.changed["patient_sources.fields"] += 1


def _groups(
    rows: Sequence[sa.Row[Any]], normalise: Normalise, report: Report, name: str
) -> dict[str, list[sa.Row[Any]]]:
    """Rows by normalised value (only values that normalise), each group ordered with the
    row that already holds the value as normalised first, then by `created_at`, then id."""
    by_value: dict[str, list[sa.Row[Any]]] = defaultdict(list)
    for row in rows:
        new = normalise(row.value)
        if new is None:
            report.left[name] += 1
        else:
            by_value[new].append(row)
    for new, group in by_value.items():
        group.sort(key=lambda r, v=new: (r.value != v, r.created_at or _EPOCH, str(r.id)))
    return by_value


_EPOCH = datetime.datetime(1970, 1, 1)


def _normalise_unique(
    conn: sa.Connection, report: Report, table_name: str, column: str, normalise: Normalise
) -> None:
    table = sa.table(table_name, sa.column("id"), sa.column(column, sa.String()))
    rows = conn.execute(
        sa.select(table.c.id, table.c[column].label("value"), sa.null().label("created_at")).where(
            table.c[column].is_not(None)
        )
    ).all()
    for new, group in _groups(rows, normalise, report, f"{table_name}.{column}").items():
        owner, *others = group
        report.ods_clashes += [(str(owner.id), str(r.id)) for r in others]
        if owner.value != new:
            conn.execute(table.update().where(table.c.id == owner.id).values({column: new}))
            report.changed[f"{table_name}.{column}"] += 1


def _normalise_patient_nhs_numbers(conn: sa.Connection, report: Report) -> None:
    patients = sa.table(
        "patients",
        sa.column("id", sa.String()),
        sa.column("nhs_number", sa.String()),
        sa.column("created_at", sa.DateTime()),
        sa.column("updated_at", sa.DateTime()),
    )
    audit = sa.table(
        "audit_events",
        sa.column("at", sa.DateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("entity", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("patient_id", sa.String()),
        sa.column("route", sa.String()),
    )
    rows = conn.execute(
        sa.select(patients.c.id, patients.c.nhs_number.label("value"), patients.c.created_at).where(
            patients.c.nhs_number.is_not(None)
        )
    ).all()
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    groups = _groups(rows, nhs_number, report, "patients.nhs_number")
    # Clear every twin first, so no rewrite below meets the unique constraint.
    for group in groups.values():
        keeper, *twins = group
        for twin in twins:
            conn.execute(
                patients.update()
                .where(patients.c.id == twin.id)
                .values(nhs_number=None, updated_at=now)
            )
            for patient_id, other in ((twin.id, keeper.id), (keeper.id, twin.id)):
                conn.execute(
                    audit.insert().values(
                        at=now,
                        actor="migration 0010",
                        action="update",
                        entity="patient",
                        entity_id=other,
                        patient_id=patient_id,
                        route=ROUTE,
                    )
                )
            report.twins.append((str(keeper.id), str(twin.id)))
    for new, (keeper, *_) in groups.items():
        if keeper.value != new:
            conn.execute(
                patients.update()
                .where(patients.c.id == keeper.id)
                .values(nhs_number=new, updated_at=now)
            )
            report.changed["patients.nhs_number"] += 1
