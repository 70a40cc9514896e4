"""Need-to-know: which caller may see which patient, and what of a patient it sees.

The rules for the records about a patient live beside them and build on this module:
`referrals/access.py` (referrals), `transitions/access.py` (DTOC episodes, transition
events), `navigation/access.py` (navigations).

The rule (issue 12 §2, NHS DSPT need-to-know):
- navigator and admin API clients, and every console user, see every patient (audited);
- a provider sees the whole record of a patient referred to one of its organisation's
  services, or delayed in a DTOC episode its organisation owns (`provider_ods`) that
  someone other than its own organisation's clients opened: the receiving organisation
  needs the demographics to act, but cannot grant itself the view by naming an NHS number;
- any other client (integrators; providers without such a need) sees only the ids and the
  demographics it sent itself (`PatientSource`), never what another client or the console
  supplied, even for an NHS number navigator already holds.

Where a caller may not see a record, the API answers as if it did not exist (404, or 422
"no such id" for a reference in a request body), so its existence is not confirmed. Views
call these functions; they do not decide access themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.auth.models import ApiClient
from navigator.core.db import insert_unless_exists, utcnow
from navigator.core.places import Gazetteer, parse_postcode
from navigator.directory.index import DirectoryIndex
from navigator.patients.models import Patient, PatientSource

# The demographic fields a client can send about a patient (PatientInSchema), in the order
# the API shows them.
DEMOGRAPHICS = (
    "nhs_number",
    "name",
    "date_of_birth",
    "sex",
    "postcode",
    "gp_practice_ods",
    "care_home_service_id",
)


def sees_every_patient(caller: Caller) -> bool:
    """Navigator and admin API clients and console users (of any console role)."""
    return caller.kind != "api" or caller.role in ("navigator", "admin")


def same_ods(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().upper() == b.strip().upper()


def organisation_service_ids(index: DirectoryIndex, ods: str | None) -> list[str]:
    """Ids of the services whose organisation has this ODS code (none for no code)."""
    if not ods:
        return []
    return [e.id for e in index.entries if same_ods(e.organisation.get("ods_code"), ods)]


def may_see_call(caller: Caller, created_by: str) -> bool:
    """A navigation (a call routed) made by `created_by` (an audit label): navigators and
    admins see all; an integrator the calls it routed itself (a navigation may carry an NHS
    number and a care home's replies about the resident)."""
    return sees_every_patient(caller) or created_by == caller.label


# Who hands a patient to a provider organisation. Packages above this one (referrals: a
# referral to one of its services; transitions: a DTOC episode it owns) each declare one with
# `provider_link`, so the rule is read here without patients importing them (issue 14 layers).
# Fails closed: an undeclared link grants nothing. `create_app` imports every declaring module
# (through the views), and tests/patients/test_need_to_know.py checks both are declared.
ProviderLink = Callable[[Session, str, str, list[str]], ColumnElement[bool]]
PROVIDER_LINKS: dict[str, ProviderLink] = {}


def provider_link(name: str) -> Callable[[ProviderLink], ProviderLink]:
    """Declare a way a provider comes to need a patient: `link(session, patient_id, ods,
    own_service_ids)` returns an EXISTS clause, true when this organisation needs the patient."""

    def declare(link: ProviderLink) -> ProviderLink:
        PROVIDER_LINKS[name] = link
        return link

    return declare


def own_organisation_labels(session: Session, ods: str) -> list[str]:
    """Audit labels of the provider clients of one organisation (as `Caller.label` makes them)."""
    rows = session.execute(
        select(ApiClient.id, ApiClient.name).where(
            ApiClient.role == "provider", ApiClient.organisation_ods == ods
        )
    )
    return [Caller(row.id, row.name, "provider", ods).label for row in rows]


def provider_needs_patient(
    session: Session, caller: Caller, patient_id: str, index: DirectoryIndex
) -> bool:
    """A provider that a declared link (`PROVIDER_LINKS`) says needs the patient: a referral
    for them to one of its services (`referrals/access.py`), or a DTOC episode for them that
    it owns and someone other than its own organisation's clients opened
    (`transitions/access.py`)."""
    if caller.role != "provider" or not caller.organisation_ods:
        return False
    ods = caller.organisation_ods.strip().upper()
    own_services = organisation_service_ids(index, ods)
    needs = [link(session, patient_id, ods, own_services) for link in PROVIDER_LINKS.values()]
    return bool(needs) and bool(session.scalar(select(or_(*needs))))


def has_full_view(session: Session, caller: Caller, patient_id: str, index: DirectoryIndex) -> bool:
    """May this caller see everything navigator holds about the patient?"""
    return sees_every_patient(caller) or provider_needs_patient(session, caller, patient_id, index)


def source_of(session: Session, caller: Caller, patient_id: str) -> PatientSource | None:
    """What this caller itself sent about the patient, if anything."""
    return session.scalar(
        select(PatientSource).where(
            PatientSource.patient_id == patient_id, PatientSource.client_ref == caller.client_ref
        )
    )


def record_source(
    session: Session,
    patient: Patient,
    data: dict[str, Any],
    *,
    client_ref: str,
    gazetteer: Gazetteer,
) -> tuple[PatientSource, bool]:
    """Remember the demographics one client sent (the latest value of each field it gave);
    returns (source, created). `place` is derived from the postcode this client sent, never
    from the record held. Flushes, in the caller's transaction."""
    sent: dict[str, Any] = {}
    for key in DEMOGRAPHICS:
        value = data.get(key)
        if value is None:
            continue
        if key == "postcode":
            parsed = parse_postcode(str(value), allow_outward=False)
            if parsed is None:
                continue
            sent["postcode"] = parsed.text
            sent["place"] = gazetteer.locate(parsed).place
        else:
            sent[key] = value.isoformat() if isinstance(value, date) else value
    now = utcnow()
    # ON CONFLICT DO NOTHING: the same client sending the same patient twice at once makes
    # one source row, and the loser merges into it below instead of failing (never a 500).
    created = insert_unless_exists(
        session,
        PatientSource,
        {
            "patient_id": patient.id,
            "client_ref": client_ref,
            "fields": sent,
            "created_at": now,
            "updated_at": now,
        },
        on=["patient_id", "client_ref"],
    )
    source = session.scalar(
        select(PatientSource)
        .where(PatientSource.patient_id == patient.id, PatientSource.client_ref == client_ref)
        .with_for_update()
    )
    assert source is not None  # inserted above, or already there
    if created:
        return source, True
    # A new dict, so the JSON column is seen as changed.
    source.fields = {**source.fields, **sent}
    source.updated_at = now
    session.flush()
    return source, False


def full_patient_dict(patient: Patient) -> dict[str, Any]:
    """Everything navigator holds about the patient (for callers with the full view)."""
    return {
        "id": patient.id,
        "nhs_number": patient.nhs_number,
        "name": patient.name,
        "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
        "sex": patient.sex,
        "postcode": patient.postcode,
        "place": patient.place,
        "gp_practice_ods": patient.gp_practice_ods,
        "care_home_service_id": patient.care_home_service_id,
        "created_at": patient.created_at.isoformat(),
    }


def sourced_patient_dict(patient_id: str, source: PatientSource) -> dict[str, Any]:
    """The id and only what this client sent, in the same shape (fields it never sent are
    null; `sex` "unknown"; `created_at` is when this client first sent the patient)."""
    sent = source.fields
    return {
        "id": patient_id,
        "nhs_number": sent.get("nhs_number"),
        "name": sent.get("name"),
        "date_of_birth": sent.get("date_of_birth"),
        "sex": sent.get("sex") or "unknown",
        "postcode": sent.get("postcode"),
        "place": sent.get("place"),
        "gp_practice_ods": sent.get("gp_practice_ods"),
        "care_home_service_id": sent.get("care_home_service_id"),
        "created_at": source.created_at.isoformat(),
    }


def visible_patient_dict(
    session: Session, caller: Caller, patient: Patient, index: DirectoryIndex
) -> dict[str, Any] | None:
    """The patient as this caller may see it, or None when it may not see the patient at all
    (answer 404). Shape: `PatientSchema` without `warnings`."""
    if has_full_view(session, caller, patient.id, index):
        return full_patient_dict(patient)
    source = source_of(session, caller, patient.id)
    return sourced_patient_dict(patient.id, source) if source is not None else None


def visible_date_of_birth(
    session: Session, caller: Caller, patient: Patient, index: DirectoryIndex
) -> date | None:
    """The date of birth this caller may see: the one held if it has the full view and one is
    held, else the latest one it sent itself, else None.

    Every check of a patient's age for a client without the full view must use this, never
    `patient.date_of_birth`: an answer that depends on the held date (e.g. DTOC's "under 18")
    would disclose it one yes/no at a time (issue 12 §2).
    """
    if patient.date_of_birth is not None and has_full_view(session, caller, patient.id, index):
        return patient.date_of_birth
    source = source_of(session, caller, patient.id)
    sent = source.fields.get("date_of_birth") if source is not None else None
    return date.fromisoformat(sent) if sent else None


def shown_place(
    session: Session,
    caller: Caller,
    patient_id: str,
    index: DirectoryIndex,
    *,
    stored: str | None,
) -> str | None:
    """The `place` of a record about this patient (e.g. a DTOC episode) as this caller is
    shown it.

    With the full view, `stored`: the true place kept for the CISP metrics, which may come
    from the held postcode. Without it, only the place of the postcode this caller sent for
    the patient (`own_place`), else None, so the answer never depends on what another client
    or the console supplied.
    """
    if has_full_view(session, caller, patient_id, index):
        return stored
    return own_place(session, caller, patient_id)


def own_place(session: Session, caller: Caller, patient_id: str) -> str | None:
    """The place of the postcode this caller last sent for the patient (None: none sent, or
    outside BLMK)."""
    source = source_of(session, caller, patient_id)
    place = source.fields.get("place") if source is not None else None
    return str(place) if place is not None else None


def may_see_patient(
    session: Session, caller: Caller, patient: Patient, index: DirectoryIndex
) -> bool:
    """May the caller see or refer to this patient at all (the full record or its own part)?"""
    return (
        has_full_view(session, caller, patient.id, index)
        or source_of(session, caller, patient.id) is not None
    )
