"""Need-to-know: which caller may see which patient.

What a caller is then shown of a patient it may see (the whole record, or only what it sent
itself) is `patients/shown.py`; what each client sent is `patients/sources.py`. The rules for
the records about a patient live beside those records and build on this module:
`referrals/need_to_know.py` (referrals), `transitions/need_to_know.py` (DTOC episodes,
transition events), `navigation/need_to_know.py` (navigations); and `directory/need_to_know.py`
says which services' capacity a provider may update.

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

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.auth.models import ApiClient
from navigator.core.identifiers import comparable_ods_code, same_ods_code
from navigator.directory.index import DirectoryIndex
from navigator.patients.models import Patient
from navigator.patients.sources import source_of


def sees_every_patient(caller: Caller) -> bool:
    """Navigator and admin API clients and console users (of any console role)."""
    return caller.kind != "api" or caller.role in ("navigator", "admin")


def organisation_service_ids(index: DirectoryIndex, ods: str | None) -> list[str]:
    """Ids of the services whose organisation has this ODS code (none for no code)."""
    if not ods:
        return []
    return [e.id for e in index.entries if same_ods_code(e.organisation.get("ods_code"), ods)]


def may_see_call(caller: Caller, created_by: str) -> bool:
    """A navigation (a call routed) made by `created_by` (an audit label): navigators and
    admins see all; an integrator the calls it routed itself (a navigation may carry an NHS
    number and a care home's replies about the resident)."""
    return sees_every_patient(caller) or created_by == caller.label


# Who hands a patient to a provider organisation. Packages above this one (referrals: a
# referral to one of its services; transitions: a DTOC episode it owns) each declare one with
# `provider_link`, so the rule is read here without patients importing them (issue 14 layers).
# Fails closed: an undeclared link grants nothing. `create_app` imports every declaring module
# itself, and tests/patients/test_need_to_know.py checks that it alone declares both.
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
    for them to one of its services (`referrals/need_to_know.py`), or a DTOC episode for them
    that it owns and someone other than its own organisation's clients opened
    (`transitions/need_to_know.py`)."""
    if caller.role != "provider" or not caller.organisation_ods:
        return False
    ods = comparable_ods_code(caller.organisation_ods)
    own_services = organisation_service_ids(index, ods)
    needs = [link(session, patient_id, ods, own_services) for link in PROVIDER_LINKS.values()]
    return bool(needs) and bool(session.scalar(select(or_(*needs))))


def has_full_view(session: Session, caller: Caller, patient_id: str, index: DirectoryIndex) -> bool:
    """May this caller see everything navigator holds about the patient?"""
    return sees_every_patient(caller) or provider_needs_patient(session, caller, patient_id, index)


def may_see_patient(
    session: Session, caller: Caller, patient: Patient, index: DirectoryIndex
) -> bool:
    """May the caller see or refer to this patient at all (the full record or its own part)?"""
    return (
        has_full_view(session, caller, patient.id, index)
        or source_of(session, caller, patient.id) is not None
    )
