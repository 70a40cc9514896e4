"""Need-to-know for referrals (the rule is in `patients/need_to_know.py`): who may see and who
may update a referral, and the provider link "a patient referred to one of my organisation's
services"."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, true
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.identifiers import same_ods_code
from navigator.directory.index import DirectoryIndex
from navigator.patients.need_to_know import (
    organisation_service_ids,
    provider_link,
    sees_every_patient,
)
from navigator.referrals.models import Referral


@provider_link("referral")
def referred_to_organisation(
    session: Session, patient_id: str, ods: str, own_services: list[str]
) -> ColumnElement[bool]:
    """A referral of this patient to one of the organisation's services."""
    return exists().where(Referral.patient_id == patient_id, Referral.service_id.in_(own_services))


def referral_is_for(caller: Caller, referral: Referral, index: DirectoryIndex) -> bool:
    """A provider's: the referral is addressed to a service its organisation owns."""
    entry = index.by_id.get(referral.service_id)
    return bool(
        caller.role == "provider"
        and entry is not None
        and same_ods_code(entry.organisation.get("ods_code"), caller.organisation_ods)
    )


def may_see_referral(caller: Caller, referral: Referral, index: DirectoryIndex) -> bool:
    """Navigators and admins: all; providers: those addressed to their organisation;
    integrators: those they created."""
    if sees_every_patient(caller):
        return True
    if caller.role == "provider":
        return referral_is_for(caller, referral, index)
    return referral.client_id == caller.client_ref


def may_read(caller: Caller, referral: Referral, index: DirectoryIndex) -> bool:
    """`may_see_referral`: integrators read the referrals they created."""
    return may_see_referral(caller, referral, index)


def may_update(caller: Caller, referral: Referral, index: DirectoryIndex) -> bool:
    """Navigators, admins and console users; a provider for its own organisation's
    referrals."""
    return sees_every_patient(caller) or referral_is_for(caller, referral, index)


def referral_filter(caller: Caller, index: DirectoryIndex) -> ColumnElement[bool]:
    """`may_see_referral` as a WHERE clause, for lists."""
    if sees_every_patient(caller):
        return true()
    if caller.role == "provider":
        return Referral.service_id.in_(organisation_service_ids(index, caller.organisation_ods))
    return Referral.client_id == caller.client_ref
