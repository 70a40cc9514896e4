"""`/api/v1/services`: directory search, service detail, capacity updates."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import RAISE

from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.directory.capacity import capacities, update_capacity
from navigator.directory.index import Entry
from navigator.directory.need_to_know import may_update_capacity
from navigator.directory.reference import default_reset_minutes, directory_index, stale_hours
from navigator.directory.schemas import (
    CapacityOutSchema,
    CapacityUpdateSchema,
    ServiceDetailSchema,
    ServiceListSchema,
    ServiceSearchArgs,
)
from navigator.directory.search import ServiceQuery, search_services, service_detail
from navigator.web.auth import current_caller, require_roles

blp = Blueprint(
    "services", __name__, url_prefix="/api/v1/services", description="Directory of services"
)


@blp.route("")
@require_roles()
@blp.arguments(ServiceSearchArgs(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, ServiceListSchema)
def list_services(**args: Any) -> ResponseReturnValue:
    """Search the directory; filters combine with AND."""
    now = utcnow()
    query = ServiceQuery.from_args(args, now)
    result = search_services(
        current_session(), directory_index(), query, now=now, stale_hours=stale_hours()
    )
    # Built as plain dicts (documented by ServiceListSchema) to keep the hot path fast.
    return jsonify(
        {
            "items": result.items,
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
        }
    )


def _entry(service_id: str) -> Entry:
    entry = directory_index().by_id.get(service_id)
    if entry is None:
        raise Problem(404, f"No service with id {service_id!r}.")
    return entry


@blp.route("/<string:service_id>")
@require_roles()
@blp.response(200, ServiceDetailSchema)
def get_service(service_id: str) -> ResponseReturnValue:
    """A service with full opening times and its change history."""
    return jsonify(
        service_detail(
            current_session(), _entry(service_id), now=utcnow(), stale_hours=stale_hours()
        )
    )


@blp.route("/<string:service_id>/capacity", methods=["PUT"])
@require_roles("provider", "navigator", "admin")
@blp.arguments(CapacityUpdateSchema())
@blp.response(200, CapacityOutSchema)
def put_capacity(body: dict[str, Any], service_id: str) -> ResponseReturnValue:
    """Set a service's capacity; providers only for their own organisation's services."""
    entry = _entry(service_id)
    caller = current_caller()
    if not may_update_capacity(caller, entry):
        raise Problem(403, "A provider may only update its own organisation's services.")
    session, now = current_session(), utcnow()
    with transaction(session):
        update_capacity(
            session,
            service_id,
            body,
            changed_by=caller.label,
            now=now,
            default_reset_minutes=default_reset_minutes(),
        )
        capacity = capacities(session, [service_id], now, stale_hours())[service_id]
    return jsonify(capacity.as_dict())
