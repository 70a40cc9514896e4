"""The `searchset` Bundle of the FHIR directory search (`GET /fhir/HealthcareService`,
`GET /fhir/Organization`; FHIR R4 search, http://hl7.org/fhir/R4/search.html) and its paging
links.

Paging (`searchset_bundle`): `_count` entries from `_offset` (0-based); `_count` defaults to
`DEFAULT_COUNT` and is capped at `MAX_COUNT` (`navigator.fhir.search_params`: a larger one is
served as `MAX_COUNT`, and the links say so); `_count=0` answers the total alone. The Bundle's
`self`, `first`, `previous`, `next` and `last` links repeat the query as understood, so
following `next` to the end gives each match once (the order is total: distance or name, then
id).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fhir.resources.R4B.bundle import Bundle

from navigator.fhir.search_params import Paging


def page_link(url: str, query: tuple[tuple[str, str], ...], count: int, offset: int) -> str:
    """`url` with the query as understood and this page's `_count` and `_offset`."""
    return url + "?" + urlencode([*query, ("_count", str(count)), ("_offset", str(offset))])


def searchset_bundle(
    *,
    url: str,
    query: tuple[tuple[str, str], ...],
    paging: Paging,
    total: int,
    entries: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """A `searchset` Bundle (JSON-ready, parsed and serialised with fhir.resources): `total`,
    the `self`, `first`, `last` and, where they exist, `previous` and `next` links, and the
    page's `entries` (each already with `fullUrl`, `resource` and `search`); a new id and `now`
    as its timestamp."""
    count, offset = paging.count, paging.offset
    links = [{"relation": "self", "url": page_link(url, query, count, offset)}]
    if count > 0:
        last = max(0, (total - 1) // count * count)
        links.append({"relation": "first", "url": page_link(url, query, count, 0)})
        if offset > 0:
            previous = max(0, min(offset - count, last))
            links.append({"relation": "previous", "url": page_link(url, query, count, previous)})
        if offset + count < total:
            links.append({"relation": "next", "url": page_link(url, query, count, offset + count)})
        links.append({"relation": "last", "url": page_link(url, query, count, last)})
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "timestamp": now.isoformat(),
        "total": total,
        "link": links,
        **({"entry": entries} if entries else {}),
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
