"""`/api/v1/transitions` and `/api/v1/dtoc`."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select

from navigator.core.db import retry_on_conflict, transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.directory.reference import directory_index
from navigator.patients.audit import audit_record
from navigator.patients.need_to_know import sees_every_patient
from navigator.transitions.dtoc import episode_dict, load_episode, open_episode, update_episode
from navigator.transitions.models import DtocEpisode
from navigator.transitions.need_to_know import episode_filter, may_see_episode
from navigator.transitions.schemas import (
    DtocInSchema,
    DtocListSchema,
    DtocQuerySchema,
    DtocSchema,
    DtocUpdateSchema,
    TransitionInSchema,
    TransitionSchema,
)
from navigator.transitions.service import get_transition, record_transition, transition_dict
from navigator.web.auth import current_caller, require_roles
from navigator.web.openapi import problems

blp = Blueprint(
    "transitions", __name__, url_prefix="/api/v1", description="Transitions of care and DTOC"
)

WRITERS = ("integrator", "navigator", "provider", "admin")


@blp.route("/transitions", methods=["POST"])
@require_roles(*WRITERS)
@blp.arguments(TransitionInSchema())
@blp.response(201, TransitionSchema)
@blp.alt_response(200, schema=TransitionSchema, description="This event_id was already recorded")
@problems(409)
def post_transition(body: dict[str, Any]) -> ResponseReturnValue:
    """Record a transition of care; the same event_id twice records once."""
    session, caller, index = current_session(), current_caller(), directory_index()

    def once() -> tuple[dict[str, Any], bool]:
        event, created = record_transition(
            session, body, caller=caller, gazetteer=GAZETTEER.get(), index=index
        )
        return transition_dict(session, event, caller=caller, index=index), created

    # The same event_id sent twice at once: the loser of the unique constraint reruns and
    # finds the winner's event.
    data, created = retry_on_conflict(session, once)
    return jsonify(data), 201 if created else 200


@blp.route("/transitions/<string:ident>")
@require_roles(*WRITERS)
@blp.response(200, TransitionSchema)
def read_transition(ident: str) -> ResponseReturnValue:
    session = current_session()
    with transaction(session):
        data = get_transition(session, ident, caller=current_caller(), index=directory_index())
    return jsonify(data)


def _episode(ident: str, *, lock: bool = False) -> DtocEpisode:
    """The episode if this caller may see it (locked, `lock`), else 404 like an unknown id:
    need-to-know, another organisation's episode is not confirmed to exist."""
    caller = current_caller()
    return load_episode(
        current_session(),
        ident,
        for_update=lock,
        visible=lambda episode: may_see_episode(caller, episode),
    )


@blp.route("/dtoc", methods=["POST"])
@require_roles("navigator", "provider", "admin")
@blp.arguments(DtocInSchema())
@blp.response(201, DtocSchema)
def post_dtoc(body: dict[str, Any]) -> ResponseReturnValue:
    """Open a delayed-transfer-of-care episode (adults only)."""
    session, now = current_session(), utcnow()
    with transaction(session):
        episode = open_episode(
            session,
            body,
            caller=current_caller(),
            gazetteer=GAZETTEER.get(),
            index=directory_index(),
            now=now,
        )
        data = episode_dict(session, episode, now, caller=current_caller(), index=directory_index())
    return jsonify(data), 201


@blp.route("/dtoc/<string:ident>", methods=["PATCH"])
@require_roles("navigator", "provider", "admin")
@blp.arguments(DtocUpdateSchema())
@blp.response(200, DtocSchema)
@problems(409)
def patch_dtoc(body: dict[str, Any], ident: str) -> ResponseReturnValue:
    """Change reason/responsibility from a time, record acceptance, or record the transfer."""
    session, now = current_session(), utcnow()
    with transaction(session):
        episode = update_episode(
            session,
            _episode(ident, lock=True),
            body,
            caller=current_caller(),
            index=directory_index(),
            now=now,
        )
        data = episode_dict(session, episode, now, caller=current_caller(), index=directory_index())
    return jsonify(data)


@blp.route("/dtoc/<string:ident>")
@require_roles("navigator", "provider", "admin")
@blp.response(200, DtocSchema)
def get_dtoc(ident: str) -> ResponseReturnValue:
    """An episode with delayed days in total, by month, by reason and by responsibility."""
    session, now = current_session(), utcnow()
    with transaction(session):
        episode = _episode(ident)
        audit_record(session, episode, actor=current_caller().label, action="read", entity="dtoc")
        data = episode_dict(session, episode, now, caller=current_caller(), index=directory_index())
    return jsonify(data)


@blp.route("/dtoc")
@require_roles("navigator", "provider", "admin")
@blp.arguments(DtocQuerySchema(), location="query")
@blp.response(200, DtocListSchema)
def list_dtoc(args: dict[str, Any]) -> ResponseReturnValue:
    """The live board: open (or closed) episodes, longest delay first."""
    session, now = current_session(), utcnow()
    query = select(DtocEpisode)
    query = query.where(
        DtocEpisode.transferred_at.is_(None)
        if args["open"]
        else DtocEpisode.transferred_at.is_not(None)
    )
    caller, index = current_caller(), directory_index()
    # Need-to-know: the stored place may come from the held record, so only a caller that sees
    # every patient filters on it; anyone else filters on the place it is shown, or whether
    # an episode is listed would tell it the held place.
    by_stored_place = "place" in args and sees_every_patient(caller)
    if by_stored_place:
        query = query.where(DtocEpisode.place == args["place"])
    query = query.where(episode_filter(caller))  # a provider sees its own organisation's
    with transaction(session):
        shown = [
            (episode, episode_dict(session, episode, now, caller=caller, index=index))
            for episode in session.scalars(query).all()
        ]
        if "place" in args and not by_stored_place:
            shown = [(e, data) for e, data in shown if data["place"] == args["place"]]
        for episode, _ in shown:  # a list read is audited like a read of each episode
            audit_record(session, episode, actor=caller.label, action="read", entity="dtoc")
        items = [data for _, data in shown]
    items.sort(key=lambda e: (-e["delayed_days"], e["ready_at"] or "", e["id"]))
    return jsonify({"items": items})
