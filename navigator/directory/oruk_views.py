"""`/oruk/`: the open Open Referral UK (HSDS 3.0, UK profile 3.0) read API.

No authentication and `Access-Control-Allow-Origin: *`, as the UK profile requires; it
carries no patient data and never shows professional-only contact or referral details.
Every response validates against the UK profile's compiled JSON schemas
(`tests/directory/test_oruk_schemas.py`): no `null`, UUID ids, the `Page` envelope on lists.
Services and organisations answer to their HSDS UUID and to their navigator slug. The query
parameters and the filters they apply are `navigator.directory.oruk_query`'s.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError

from navigator.core.errors import Problem
from navigator.core.places import Located
from navigator.core.reference import VOCABULARY
from navigator.core.schemas import field_messages
from navigator.core.vocabulary import Vocabulary
from navigator.directory.index import DirectoryIndex, Entry
from navigator.directory.oruk_export import (
    one_to_one,
    organisation_to_oruk,
    service_at_location_id,
    service_to_oruk,
    services_at_locations,
    source_term_object,
)
from navigator.directory.oruk_query import (
    OrukServiceArgs,
    PageArgs,
    TermArgs,
    location_distance,
    matches,
    matches_service,
    near,
    paged,
)
from navigator.directory.oruk_terms import (
    DETAILS_TERM_OBJECT,
    TAXONOMIES,
    hsds_id,
    taxonomy_object,
    term_object,
)
from navigator.directory.records import Record
from navigator.directory.reference import directory_index
from navigator.web.access import public
from navigator.web.edge import answers_bad_fields_with

blp = Blueprint("oruk", __name__, url_prefix="/oruk")
# Every bad query is 400 here (as `_load` answers), the edge's NUL/surrogate check included.
answers_bad_fields_with(blp, 400)

# The UK profile's own name for its version: the ORUK validator's mock feeds answer it, and it
# reads as 3.0 there (it strips "HSDS-UK-"), while a bare "3.0" would not say "UK profile"
# (README, "Open Referral UK"; tests/data/oruk/NOTES.md §5).
VERSION = "HSDS-UK-3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"
SPEC_URL = "https://openreferraluk.org/specifications/3.0/openapi.json"
# Why every view here is open (navigator.web.access): the route-access test reports it.
OPEN_DATA = (
    "Open Referral UK open data: the UK profile requires no authentication; public directory "
    "fields only, no patient data and no professional-only details"
)


@blp.after_request
def _open_cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _load(schema: Schema) -> dict[str, Any]:
    """The query string through `schema`: 400 problem+json naming each bad field."""
    try:
        return dict(schema.load(request.args.to_dict()))
    except ValidationError as exc:
        raise Problem(400, "Invalid query parameters", errors=field_messages(exc)) from exc


@dataclass
class _Ids:
    """What the feed looks up by id, for one build of the directory index: services and
    organisations by HSDS id and by slug, each service-at-location, and the source feeds'
    taxonomies and terms the services carry."""

    services: dict[str, Entry] = field(default_factory=dict)
    organisations: dict[str, Record] = field(default_factory=dict)
    sals: dict[str, tuple[Entry, int]] = field(default_factory=dict)
    source_terms: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_taxonomies: dict[str, dict[str, Any]] = field(default_factory=dict)


# The lookups of the latest index only: one slot, replaced when the index is rebuilt.
_LATEST: dict[str, tuple[DirectoryIndex, _Ids]] = {}
_LATEST_LOCK = threading.Lock()


def _ids(index: DirectoryIndex) -> _Ids:
    # Built once per index (the index is rebuilt, as a new object, when the directory changes).
    with _LATEST_LOCK:
        latest = _LATEST.get("ids")
        if latest is not None and latest[0] is index:
            return latest[1]
    ids = _Ids()
    for entry in index.entries:
        org = entry.organisation
        ids.services[entry.id] = ids.services[hsds_id("service", entry.id)] = entry
        ids.organisations[org["id"]] = ids.organisations[hsds_id("organisation", org["id"])] = org
        for i in range(len(entry.record["locations"])):
            ids.sals[service_at_location_id(entry.id, i)] = (entry, i)
        for term in entry.record["source_terms"]:
            obj = source_term_object(term)
            ids.source_terms.setdefault(obj["id"], obj)
            ids.source_taxonomies.setdefault(
                obj["taxonomy_id"],
                {
                    "id": obj["taxonomy_id"],
                    "name": term["taxonomy"],
                    "description": f"{term['taxonomy']}: the taxonomy of a feed navigator "
                    "loaded services from, kept as that feed published it",
                },
            )
    with _LATEST_LOCK:
        _LATEST["ids"] = (index, ids)
    return ids


def _service_json(entry: Entry, vocab: Vocabulary) -> dict[str, Any]:
    return service_to_oruk(entry.record, entry.organisation, vocab, include_professional=False)


@blp.route("/")
@public(OPEN_DATA)
def root() -> ResponseReturnValue:
    return jsonify(
        {
            "version": VERSION,
            "profile": PROFILE_URL,
            "openapi_url": SPEC_URL,
            "description": "BLMK directory of services (navigator)",
            "services_url": url_for("oruk.services", _external=True),
        }
    )


@blp.route("/services")
@public(OPEN_DATA)
def services() -> ResponseReturnValue:
    """Full service objects (a superset of `service_list.json`'s one-to-one fields), so a
    consumer need not fetch each `/services/{id}`."""
    args = _load(OrukServiceArgs())
    index = directory_index()
    vocab = VOCABULARY.get()
    matched = [entry for entry in index.entries if matches(entry, args)]
    if "postcode" in args:
        located = args["postcode"]
        matched.sort(key=lambda e: (e.distance_to(located) or float("inf"), e.record["name"]))
    else:
        matched.sort(key=lambda e: (e.record["name"], e.id))
    page = paged(matched, args["page"], args["per_page"])
    page["contents"] = [_service_json(e, vocab) for e in page["contents"]]
    return jsonify(page)


@blp.route("/services/<string:service_id>")
@public(OPEN_DATA)
def service(service_id: str) -> ResponseReturnValue:
    entry = _ids(directory_index()).services.get(service_id)
    if entry is None:
        raise Problem(404, "No service with that id.")
    return jsonify(_service_json(entry, VOCABULARY.get()))


@blp.route("/service_at_locations")
@public(OPEN_DATA)
def service_at_locations() -> ResponseReturnValue:
    """One item per location of each matching service (`service_at_location_list.json`: the
    link, the location and the service, one-to-one fields). `postcode` alone: the service
    covers it; with `proximity`: that location lies within so many metres of its centroid."""
    args = _load(OrukServiceArgs())
    index = directory_index()
    located: Located | None = args.get("postcode")
    pairs: list[tuple[float, Entry, int]] = []
    for entry in index.entries:
        if not entry.record["locations"] or not matches_service(entry, args):
            continue
        if located is not None and "proximity" not in args and not entry.covers(located):
            continue
        for i in range(len(entry.record["locations"])):
            distance = location_distance(entry, i, located) if located else None
            if "proximity" in args and not near(distance, args):
                continue
            pairs.append((distance if distance is not None else math.inf, entry, i))
    if located is not None:
        pairs.sort(key=lambda p: (p[0], p[1].record["name"], p[1].id, p[2]))
    else:
        pairs.sort(key=lambda p: (p[1].record["name"], p[1].id, p[2]))
    page = paged(pairs, args["page"], args["per_page"])
    vocab = VOCABULARY.get()
    built: dict[str, list[dict[str, Any]]] = {}
    contents = []
    for _, entry, i in page["contents"]:
        if entry.id not in built:
            built[entry.id] = services_at_locations(_service_json(entry, vocab), full=False)
        contents.append(built[entry.id][i])
    page["contents"] = contents
    return jsonify(page)


@blp.route("/service_at_locations/<string:ident>")
@public(OPEN_DATA)
def service_at_location(ident: str) -> ResponseReturnValue:
    found = _ids(directory_index()).sals.get(ident)
    if found is None:
        raise Problem(404, "No service at location with that id.")
    entry, i = found
    return jsonify(services_at_locations(_service_json(entry, VOCABULARY.get()), full=True)[i])


def _organisation_items(index: DirectoryIndex, vocab: Vocabulary) -> list[Record]:
    orgs = {entry.organisation["id"]: entry.organisation for entry in index.entries}
    return [organisation_to_oruk(orgs[key], vocab) for key in sorted(orgs)]


@blp.route("/organizations")
@public(OPEN_DATA)
def organizations() -> ResponseReturnValue:
    """The organisations that run the directory's services (`organization_list.json`)."""
    args = _load(PageArgs())
    items = _organisation_items(directory_index(), VOCABULARY.get())
    page = paged(items, args["page"], args["per_page"])
    page["contents"] = [one_to_one(item) for item in page["contents"]]
    return jsonify(page)


@blp.route("/organizations/<string:ident>")
@public(OPEN_DATA)
def organization(ident: str) -> ResponseReturnValue:
    """The organisation (`organization.json`) with its services' one-to-one fields."""
    index = directory_index()
    org = _ids(index).organisations.get(ident)
    if org is None:
        raise Problem(404, "No organization with that id.")
    vocab = VOCABULARY.get()
    services_of = sorted(
        (e for e in index.entries if e.organisation["id"] == org["id"]),
        key=lambda e: (e.record["name"], e.id),
    )
    body = organisation_to_oruk(org, vocab)
    body["services"] = [
        {k: v for k, v in one_to_one(_service_json(e, vocab)).items() if k != "organization"}
        for e in services_of
    ]
    return jsonify(body)


def _all_taxonomies(ids: _Ids) -> list[dict[str, Any]]:
    navigator = [taxonomy_object(scheme) for scheme in TAXONOMIES]
    return navigator + sorted(ids.source_taxonomies.values(), key=lambda t: t["name"])


@blp.route("/taxonomies")
@public(OPEN_DATA)
def taxonomies() -> ResponseReturnValue:
    """navigator's three taxonomies, then those of the feeds services were loaded from."""
    args = _load(TermArgs())
    items = _all_taxonomies(_ids(directory_index()))
    return jsonify(paged(items, args["page"], args["per_page"]))


@blp.route("/taxonomies/<string:ident>")
@public(OPEN_DATA)
def taxonomy(ident: str) -> ResponseReturnValue:
    for item in _all_taxonomies(_ids(directory_index())):
        if ident in (item["id"], item["name"]):
            return jsonify(item)
    raise Problem(404, "No taxonomy with that id.")


def _all_terms() -> list[dict[str, Any]]:
    """Every term an attribute in the feed names: navigator's vocabulary, the source feeds'
    terms the services carry, and the `navigator-details` term."""
    vocab = VOCABULARY.get()
    ids = _ids(directory_index())
    own = [
        term_object(vocab, scheme, code) for scheme in TAXONOMIES for code in vocab.codes(scheme)
    ]
    source = sorted(ids.source_terms.values(), key=lambda t: (t["taxonomy"], t["code"]))
    return [*own, *source, DETAILS_TERM_OBJECT]


@blp.route("/taxonomy_terms")
@public(OPEN_DATA)
def taxonomy_terms() -> ResponseReturnValue:
    args = _load(TermArgs())
    terms = _all_terms()
    if wanted := args.get("taxonomy_id"):
        terms = [t for t in terms if wanted in (t.get("taxonomy_id"), t.get("taxonomy"))]
    return jsonify(paged(terms, args["page"], args["per_page"]))


@blp.route("/taxonomy_terms/<string:ident>")
@public(OPEN_DATA)
def taxonomy_term(ident: str) -> ResponseReturnValue:
    term = next((t for t in _all_terms() if t["id"] == ident), None)
    if term is None:
        raise Problem(404, "No taxonomy term with that id.")
    return jsonify(term)
