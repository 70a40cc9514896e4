"""Need-to-know for DTOC episodes and transition events (the rule is in
`patients/need_to_know.py`): who may open, see and list episodes and see events, and the
provider link "a DTOC episode my organisation owns that someone else opened"."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, true
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.identifiers import comparable_ods_code, same_ods_code
from navigator.patients.need_to_know import (
    own_organisation_labels,
    provider_link,
    sees_every_patient,
)
from navigator.transitions.models import DtocEpisode, TransitionEvent


@provider_link("dtoc_episode")
def delayed_with_organisation(
    session: Session, patient_id: str, ods: str, own_services: list[str]
) -> ColumnElement[bool]:
    """A DTOC episode of this patient owned by the organisation and opened by someone other
    than its own clients: an episode the provider opened itself does not count, or naming an
    NHS number navigator already holds in `POST /dtoc` would show it the held demographics."""
    return exists().where(
        DtocEpisode.patient_id == patient_id,
        DtocEpisode.provider_ods == ods,
        DtocEpisode.created_by.not_in(own_organisation_labels(session, ods)),
    )


def may_own_episode(caller: Caller, provider_ods: str) -> bool:
    """Providers open episodes only for their own organisation; other roles for any."""
    if caller.role != "provider" or caller.kind != "api":
        return True
    return same_ods_code(caller.organisation_ods, provider_ods)


def may_see_episode(caller: Caller, episode: DtocEpisode) -> bool:
    """Navigators and admins: all; a provider: its own organisation's (`provider_ods`)."""
    if sees_every_patient(caller):
        return True
    return caller.role == "provider" and same_ods_code(
        episode.provider_ods, caller.organisation_ods
    )


def episode_filter(caller: Caller) -> ColumnElement[bool]:
    """`may_see_episode` as a WHERE clause, for lists (nothing for other roles)."""
    if sees_every_patient(caller):
        return true()
    if caller.role == "provider" and caller.organisation_ods:
        return DtocEpisode.provider_ods == comparable_ods_code(caller.organisation_ods)
    return DtocEpisode.id.is_(None)  # matches nothing


def may_see_transition(caller: Caller, event: TransitionEvent) -> bool:
    """Navigators and admins: all; any other client: the events it recorded."""
    return sees_every_patient(caller) or event.client_id == caller.client_ref
