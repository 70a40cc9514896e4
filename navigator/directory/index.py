"""An in-memory index of the directory's static data, shared by search and routing.

Built from the canonical records (three queries) and rebuilt when the directory's revision
token changes. Lookups intersect small integer sets (by type, need, place, district and a
coarse grid for radius coverage) before any per-service check, which is what keeps a
postcode + need + open-now search on 100,000 services within a few milliseconds.
Capacity is deliberately not here: it is read live (see `capacity`).
"""

from __future__ import annotations

import gc
import json
import math
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from navigator.core.places import Gazetteer, Located, Point
from navigator.directory.opening import Schedule, schedule_from_opening
from navigator.directory.opening_summary import describe
from navigator.directory.records import Record
from navigator.directory.store import current_revision, read_organisations, read_services

# Grid cell for radius coverage, about 11 km square at England's latitudes. A service is filed
# under every cell its coverage circle reaches, so a postcode's cell lists its candidates.
CELL_LAT, CELL_LNG = 0.1, 0.16


def _cell(lat: float, lng: float) -> tuple[int, int]:
    return (math.floor(lat / CELL_LAT), math.floor(lng / CELL_LNG))


@dataclass(slots=True)
class Entry:
    """One service as the index holds it: its record plus precomputed lookups."""

    pos: int
    record: Record
    organisation: Record
    schedule: Schedule
    opening_summary: str
    needs: frozenset[str]
    caller_roles: frozenset[str]
    gp_restriction: frozenset[str]
    place_restriction: frozenset[str]
    coverage_places: frozenset[str]
    coverage_districts: frozenset[str]
    radius_km: float | None
    points: tuple[Point, ...]
    text: str
    # Services with identical eligibility share this tuple, so per-query checks can be memoised.
    eligibility_key: tuple[object, ...] = ()
    id: str = ""
    service_type: str = ""
    active: bool = False

    def __post_init__(self) -> None:
        self.id = str(self.record["id"])
        self.service_type = str(self.record["service_type"])
        self.active = self.record["status"] == "active"

    def age_ok(self, age_days: int) -> bool:
        elig = self.record["eligibility"]
        maximum = elig["max_age_days"]
        return bool(elig["min_age_days"] <= age_days and (maximum is None or age_days <= maximum))

    def sex_ok(self, sex: str) -> bool:
        wanted = self.record["eligibility"]["sex"]
        return bool(wanted == "any" or wanted == sex)

    def restriction_ok(self, gp_practice: str | None, place: str | None) -> bool:
        """Services restricted to listed GP practices or places admit only those patients."""
        if self.gp_restriction and (gp_practice or "").upper() not in self.gp_restriction:
            return False
        return not self.place_restriction or place in self.place_restriction

    def distance_to(self, located: Located) -> float | None:
        here = located.point
        if here is None or not self.points:
            return None
        if len(self.points) == 1:
            return self.points[0].km_to(here)
        return min(point.km_to(here) for point in self.points)

    def covers(self, located: Located, distance: float | None = None) -> bool:
        """Serves this postcode by place, district, or radius (give `distance` if known)."""
        if located.place and located.place in self.coverage_places:
            return True
        if located.postcode.district in self.coverage_districts:
            return True
        if self.radius_km is None:
            return False
        if distance is None:
            distance = self.distance_to(located)
        return distance is not None and distance <= self.radius_km


@dataclass
class DirectoryIndex:
    revision: str | None
    gazetteer: Gazetteer
    entries: list[Entry] = field(default_factory=list)
    by_id: dict[str, Entry] = field(default_factory=dict)
    by_type: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_need: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_sector: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_place: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_district: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_cell: dict[tuple[int, int], set[int]] = field(default_factory=lambda: defaultdict(set))
    # The same filed again by need: in dense cities a cell lists thousands of services, and a
    # need + postcode search should start from the few hundred that meet the need.
    by_cell_need: dict[tuple[int, int, str], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )
    # ... and by service type, for routing, which asks for a few types near a postcode.
    by_cell_type: dict[tuple[int, int, str], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )

    _schedules: dict[str, tuple[Schedule, str]] = field(default_factory=dict)
    _eligibilities: dict[tuple[object, ...], tuple[object, ...]] = field(default_factory=dict)

    def _schedule(self, opening: Record) -> tuple[Schedule, str]:
        # Most services share a handful of opening patterns: build each Schedule once.
        key = json.dumps(opening, sort_keys=True)
        if key not in self._schedules:
            schedule = schedule_from_opening(opening)
            self._schedules[key] = (schedule, describe(schedule))
        return self._schedules[key]

    def add(self, record: Record, organisation: Record) -> None:
        schedule, summary = self._schedule(record["opening"])
        elig, cov = record["eligibility"], record["coverage"]
        points = tuple(
            Point.of(loc["lat"], loc["lng"])
            for loc in record["locations"]
            if loc["lat"] is not None and loc["lng"] is not None
        )
        entry = Entry(
            pos=len(self.entries),
            record=record,
            organisation=organisation,
            schedule=schedule,
            opening_summary=summary,
            needs=frozenset(record["needs"]),
            caller_roles=frozenset(elig["caller_roles"]),
            gp_restriction=frozenset(elig["gp_practices"]),
            place_restriction=frozenset(elig["places"]),
            coverage_places=frozenset(cov["places"]),
            coverage_districts=frozenset(cov["postcode_districts"]),
            radius_km=cov["radius_km"],
            points=points,
            eligibility_key=self._eligibilities.setdefault(
                key := (
                    elig["min_age_days"],
                    elig["max_age_days"],
                    elig["sex"],
                    frozenset(elig["caller_roles"]),
                    frozenset(elig["gp_practices"]),
                    frozenset(elig["places"]),
                ),
                key,
            ),
            text=" ".join(
                [
                    record["name"],
                    record["public_name"] or "",
                    record["description"],
                    organisation["name"],
                ]
            ).lower(),
        )
        self.entries.append(entry)
        self.by_id[entry.id] = entry
        pos = entry.pos
        self.by_type[entry.service_type].add(pos)
        self.by_sector[record["sector"]].add(pos)
        for need in entry.needs:
            self.by_need[need].add(pos)
        for place in entry.coverage_places:
            self.by_place[place].add(pos)
        for district in entry.coverage_districts:
            self.by_district[district].add(pos)
        if entry.radius_km:
            for cell in self._cells_within(points, entry.radius_km):
                self.by_cell[cell].add(pos)
                self.by_cell_type[(*cell, entry.service_type)].add(pos)
                for need in entry.needs:
                    self.by_cell_need[(*cell, need)].add(pos)

    @staticmethod
    def _cells_within(points: Iterable[Point], radius_km: float) -> set[tuple[int, int]]:
        cells: set[tuple[int, int]] = set()
        for point in points:
            lat, lng = point.lat, point.lng
            dlat = radius_km / 111.0
            dlng = radius_km / (111.0 * max(math.cos(math.radians(lat)), 0.1))
            (lo_lat, lo_lng), (hi_lat, hi_lng) = (
                _cell(lat - dlat, lng - dlng),
                _cell(lat + dlat, lng + dlng),
            )
            cells.update(
                (i, j) for i in range(lo_lat, hi_lat + 1) for j in range(lo_lng, hi_lng + 1)
            )
        return cells

    def covering_types(self, located: Located, types: Iterable[str]) -> set[int]:
        """Positions of services of these types that may cover this postcode."""
        empty: set[int] = set()
        wanted: set[int] = set().union(*(self.by_type.get(t, empty) for t in types))
        found = self.by_district.get(located.postcode.district, empty) & wanted
        if located.place:
            found |= self.by_place.get(located.place, empty) & wanted
        if located.lat is not None and located.lng is not None:
            cell = _cell(located.lat, located.lng)
            for service_type in types:
                found |= self.by_cell_type.get((*cell, service_type), empty)
        return found

    def covering(self, located: Located, need: str | None = None) -> set[int]:
        """Positions of services that may cover this postcode (checked exactly by `covers`),
        limited to those meeting `need` when one is given."""
        empty: set[int] = set()
        found = set(self.by_district.get(located.postcode.district, empty))
        if located.place:
            found |= self.by_place.get(located.place, empty)
        if need is not None:
            found &= self.by_need.get(need, empty)
        if located.lat is not None and located.lng is not None:
            cell = _cell(located.lat, located.lng)
            if need is None:
                found |= self.by_cell.get(cell, empty)
            else:
                found |= self.by_cell_need.get((*cell, need), empty)
        return found


def narrow(current: set[int] | None, more: set[int]) -> set[int]:
    if current is None:
        return set(more)
    return current & more if len(current) <= len(more) else more & current


def build_index(session: Session, gazetteer: Gazetteer, revision: str | None) -> DirectoryIndex:
    index = DirectoryIndex(revision=revision, gazetteer=gazetteer)
    organisations = read_organisations(session)
    for record in sorted(read_services(session).values(), key=lambda r: r["id"]):
        index.add(record, organisations[record["organisation"]])
    return index


_lock = threading.Lock()
_cache: dict[str, DirectoryIndex] = {}


def get_index(session: Session, gazetteer: Gazetteer) -> DirectoryIndex:
    """The current index for this database, rebuilt when the revision token has moved."""
    key = str(session.get_bind().engine.url)
    revision = current_revision(session)
    cached = _cache.get(key)
    if cached is not None and cached.revision == revision:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is None or cached.revision != revision:
            cached = build_index(session, gazetteer, revision)
            _cache[key] = cached
            # The index is long-lived: move it out of the cyclic GC's way so that full
            # collections stay short and do not show up as latency spikes.
            gc.collect()
            gc.freeze()
    return cached
