"""An in-memory index of the directory's static data, shared by search and routing.

Built from the canonical records (three queries), then kept current from the directory's
change log (`store.changed_service_ids`): a worker whose index is at change `seq` N re-reads
only the services changed since and replaces their entries. Lookups intersect small integer
sets (by type, need, place, district and a coarse grid for radius coverage) before any
per-service check, which is what keeps a postcode + need + open-now search on 100,000
services within a few milliseconds. Capacity is deliberately not here: it is read live (see
`capacity`).

Refreshing never makes a request wait long (issue 18 §2; `get_index`):

- an index is immutable once published. A change makes a new `DirectoryIndex` that shares
  every untouched set with the old one and has fresh copies of the touched ones (each copied
  once per batch), then replaces the old in one reference swap, so a reader holding the old
  one never sees a set change under it or half of a change;
- a few changed services (at most `INLINE_APPLY_MAX`) are applied inline by the request that
  notices them (a few milliseconds at 100,000 services);
- more (a bulk load, a "everything" change, a worker behind the pruned log horizon) need a
  full build: inline when the last full build took less than `inline_build_seconds` (a small
  directory, as in the tests), otherwise in a background thread while every request keeps
  using the current index, which is swapped for the new one when it is ready (hazard H42:
  meanwhile, this worker serves the index as it was);
- only a process with no index at all builds inline whatever the size. wsgi.py builds it in
  the gunicorn master before forking, so no worker, including one the master restarts later
  (it forks from the master's index and catches up as above), starts cold.
"""

from __future__ import annotations

import copy
import gc
import json
import logging
import math
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from navigator.core.places import Gazetteer, Located, Point
from navigator.directory.opening import Schedule, schedule_from_opening
from navigator.directory.opening_summary import describe
from navigator.directory.records import Record
from navigator.directory.store import (
    changed_service_ids,
    current_version,
    read_organisations,
    read_services,
)

log = logging.getLogger(__name__)

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


CHUNK_BITS = 10  # EntryList chunks of 1,024 entries


class EntryList(Sequence[Entry]):
    """Entries by position, in chunks of 1,024, so that a new index replacing a few entries
    copies the list of ~100 chunks and the touched chunks only. Copying one flat list of
    100,000 entries would write every entry's reference count, which after a fork turns the
    pages holding them from shared into private memory in every worker, and took up to a
    second per worker on its first refresh (bench/index_refresh.py). Never changed once its
    index is published; `append` is for building."""

    __slots__ = ("_chunks", "_length")

    def __init__(self, chunks: list[list[Entry]] | None = None, length: int = 0) -> None:
        self._chunks, self._length = chunks if chunks is not None else [], length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, pos: int) -> Entry:  # type: ignore[override]  # no slices
        if pos < 0:
            pos += self._length
        if not 0 <= pos < self._length:
            raise IndexError(pos)
        return self._chunks[pos >> CHUNK_BITS][pos & ((1 << CHUNK_BITS) - 1)]

    def __iter__(self) -> Iterator[Entry]:
        for chunk in self._chunks:
            yield from chunk

    def append(self, entry: Entry) -> None:
        if not self._chunks or len(self._chunks[-1]) == 1 << CHUNK_BITS:
            self._chunks.append([])
        self._chunks[-1].append(entry)
        self._length += 1

    def with_changes(self, replaced: Mapping[int, Entry], added: list[Entry]) -> EntryList:
        """A new list: these positions replaced, then `added` appended; this one unchanged."""
        chunks = list(self._chunks)
        copied: set[int] = set()

        def chunk_for(pos: int) -> list[Entry]:
            number = pos >> CHUNK_BITS
            if number == len(chunks):
                chunks.append([])
                copied.add(number)
            elif number not in copied:
                chunks[number] = list(chunks[number])
                copied.add(number)
            return chunks[number]

        for pos, entry in replaced.items():
            chunk_for(pos)[pos & ((1 << CHUNK_BITS) - 1)] = entry
        length = self._length
        for entry in added:
            chunk_for(length).append(entry)
            length += 1
        return EntryList(chunks, length)


class EntriesById(Mapping[str, Entry]):
    """Service id -> entry, read through positions: a service keeps its position for the
    life of an index and its descendants (`DirectoryIndex.updated`), so replacing its entry
    changes only the entry list, and this mapping need not be copied per change. Iterating
    goes through this index's own entry list, so it is that snapshot's services."""

    __slots__ = ("_entries", "_positions")

    def __init__(self, positions: dict[str, int], entries: EntryList) -> None:
        self._positions, self._entries = positions, entries

    def __getitem__(self, key: str) -> Entry:
        pos = self._positions[key]
        if pos >= len(self._entries):  # filed by a newer index sharing `_positions`
            raise KeyError(key)
        return self._entries[pos]

    def get(self, key: str, default: Any = None) -> Any:
        pos = self._positions.get(key)
        return default if pos is None or pos >= len(self._entries) else self._entries[pos]

    def __contains__(self, key: object) -> bool:
        pos = self._positions.get(key)  # type: ignore[call-overload]
        return pos is not None and pos < len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return (entry.id for entry in self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class DirectoryIndex:
    """Entries by position, and sets of positions filed by what lookups ask about.

    Published indexes are never mutated: `updated` returns a new one (copy-on-write)."""

    revision: str | None
    gazetteer: Gazetteer
    # The directory change (`directory_state.seq`) this index includes, and how long the full
    # build it descends from took (seconds; decides inline or background for the next one).
    seq: int = 0
    build_seconds: float = 0.0
    entries: EntryList = field(default_factory=EntryList)
    by_id: EntriesById = field(init=False)
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

    def __post_init__(self) -> None:
        self.by_id = EntriesById({}, self.entries)

    def _schedule(self, opening: Record) -> tuple[Schedule, str]:
        # Most services share a handful of opening patterns: build each Schedule once.
        key = json.dumps(opening, sort_keys=True)
        if key not in self._schedules:
            schedule = schedule_from_opening(opening)
            self._schedules[key] = (schedule, describe(schedule))
        return self._schedules[key]

    def _entry(self, pos: int, record: Record, organisation: Record) -> Entry:
        schedule, summary = self._schedule(record["opening"])
        elig, cov = record["eligibility"], record["coverage"]
        points = tuple(
            Point.of(loc["lat"], loc["lng"])
            for loc in record["locations"]
            if loc["lat"] is not None and loc["lng"] is not None
        )
        return Entry(
            pos=pos,
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

    def _filings(self, entry: Entry) -> Iterator[tuple[str, object]]:
        """Every (table, key) whose set lists this entry's position: `add` files the entry
        under each and `updated` takes it out of each, so the two cannot drift apart."""
        yield "by_type", entry.service_type
        yield "by_sector", entry.record["sector"]
        for need in entry.needs:
            yield "by_need", need
        for place in entry.coverage_places:
            yield "by_place", place
        for district in entry.coverage_districts:
            yield "by_district", district
        if entry.radius_km:
            for cell in self._cells_within(entry.points, entry.radius_km):
                yield "by_cell", cell
                yield "by_cell_type", (*cell, entry.service_type)
                for need in entry.needs:
                    yield "by_cell_need", (*cell, need)

    def add(self, record: Record, organisation: Record) -> None:
        """File a new service (building an index; a published index is never changed)."""
        entry = self._entry(len(self.entries), record, organisation)
        self.entries.append(entry)
        self.by_id._positions[entry.id] = entry.pos
        pos = entry.pos
        for table, key in self._filings(entry):
            getattr(self, table)[key].add(pos)

    def updated(
        self,
        services: Mapping[str, Record],
        organisations: Mapping[str, Record],
        *,
        seq: int,
        revision: str | None,
    ) -> DirectoryIndex:
        """A new index with these services' entries replaced (or added, for new ids), at
        change `seq`; this one is left exactly as it was (readers may be using it).

        Copy-on-write: the entry list's touched chunks (`EntryList`) and each table touched
        are shallow copies, and each touched set is copied once, then changed; untouched
        chunks, tables and sets are shared with this index. A replaced service keeps its
        position, so sets that do not mention it stay valid. `organisations` must hold each
        service's organisation."""
        new = copy.copy(self)
        new.seq, new.revision = seq, revision
        positions = self.by_id._positions
        if any(service_id not in positions for service_id in services):
            positions = dict(positions)  # new services: never add to a shared dict
        tables: dict[str, dict[object, set[int]]] = {}
        copied: set[tuple[str, object]] = set()

        def fresh_set(table: str, key: object) -> set[int]:
            if table not in tables:
                tables[table] = getattr(self, table).copy()  # a defaultdict stays one
                setattr(new, table, tables[table])
            if (table, key) not in copied:
                copied.add((table, key))
                tables[table][key] = set(tables[table].get(key, ()))
            return tables[table][key]

        replaced: dict[int, Entry] = {}
        added: list[Entry] = []
        for service_id in sorted(services):
            record = services[service_id]
            old = self.by_id.get(service_id)
            pos = len(self.entries) + len(added) if old is None else old.pos
            entry = new._entry(pos, record, organisations[record["organisation"]])
            if old is None:
                added.append(entry)
                positions[service_id] = pos
            else:
                replaced[pos] = entry
            # The same position stays filed where both versions are filed: only the sets
            # the edit moves it in or out of are copied (none for status, hours or
            # eligibility, which no set is keyed by).
            was = set(self._filings(old)) if old is not None else set()
            now = set(self._filings(entry))
            for table, key in was - now:
                fresh_set(table, key).discard(pos)
            for table, key in now - was:
                fresh_set(table, key).add(pos)
        new.entries = self.entries.with_changes(replaced, added)
        new.by_id = EntriesById(positions, new.entries)
        return new

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


# Changes naming at most this many services are applied inline by the request that notices
# them. Set from bench/index_refresh.py at 100,000 synthetic services (bench/README.md): a
# fixed cost per batch (the change-log and record reads, copying the entry list) plus about
# 0.5 ms a service on an idle 2-core machine (2 ms under load 10), so 50 stays inside the
# 50 ms budget when the machine is not saturated.
INLINE_APPLY_MAX = 50
# A full build runs inline when the last one took less than this (a small directory: the
# tests' few services build in about a millisecond), otherwise in the background.
INLINE_BUILD_SECONDS = 0.05


def build_index(session: Session, gazetteer: Gazetteer) -> DirectoryIndex:
    """A full index of the directory as it is now (its version is read first, so the records
    are at least that new; a change read twice is harmless)."""
    started = time.perf_counter()
    revision, seq = current_version(session)
    index = DirectoryIndex(revision=revision, gazetteer=gazetteer, seq=seq)
    organisations = read_organisations(session)
    for record in sorted(read_services(session).values(), key=lambda r: r["id"]):
        index.add(record, organisations[record["organisation"]])
    index.build_seconds = time.perf_counter() - started
    return index


def apply_changes(
    session: Session,
    index: DirectoryIndex,
    service_ids: Iterable[str],
    *,
    seq: int,
    revision: str | None,
) -> DirectoryIndex | None:
    """`index` brought to change `seq` by re-reading these services (and their
    organisations); None if one no longer exists (only a full build can drop an entry)."""
    wanted = sorted(set(service_ids))
    services = read_services(session, wanted)
    if len(services) != len(wanted):
        return None
    organisations = read_organisations(session, {r["organisation"] for r in services.values()})
    return index.updated(services, organisations, seq=seq, revision=revision)


_lock = threading.Lock()  # guards _cache and _busy
# The published index of each engine (one per app, so two apps in one process are two nodes).
_cache: weakref.WeakKeyDictionary[Engine, DirectoryIndex] = weakref.WeakKeyDictionary()
# Engines whose index a thread is refreshing now: others keep using the published one.
_busy: weakref.WeakSet[Engine] = weakref.WeakSet()


def get_index(
    session: Session,
    gazetteer: Gazetteer,
    *,
    inline_build_seconds: float = INLINE_BUILD_SECONDS,
    inline_apply_max: int = INLINE_APPLY_MAX,
) -> DirectoryIndex:
    """The index for this session's database, brought up to date without stalling.

    One indexed read of `directory_state` per call. When the directory has moved on: if
    another thread is already refreshing, the current index is returned as it is; otherwise
    up to `inline_apply_max` changed services are applied here, and anything more is a full
    build, here if the last took under `inline_build_seconds`, else in a background thread
    (this call returns the current index). With no index yet, it is built here."""
    engine = session.get_bind().engine
    revision, seq = current_version(session)
    cached = _cache.get(engine)
    if cached is not None and cached.seq == seq and cached.revision == revision:
        return cached
    if cached is None:
        with _lock:  # the first build: everyone waits for it (wsgi.py does it before forking)
            cached = _cache.get(engine)
            if cached is None:
                cached = _cache[engine] = build_index(session, gazetteer)
                gc.collect()  # before freezing, so that garbage is not kept for good
                gc.freeze()
        return cached
    with _lock:
        if engine in _busy:
            return cached
        cached = _cache.get(engine, cached)
        if cached.seq == seq and cached.revision == revision:
            return cached
        _busy.add(engine)
    in_background, started = False, time.perf_counter()
    try:
        ids = None
        if 0 <= cached.seq < seq:
            ids = changed_service_ids(session, cached.seq, cached.revision, seq)
        if ids is not None and len(ids) <= inline_apply_max:
            refreshed = apply_changes(session, cached, ids, seq=seq, revision=revision)
            if refreshed is not None:
                log.info(
                    "directory index: %d changed services applied inline in %.1f ms",
                    len(ids),
                    (time.perf_counter() - started) * 1000,
                )
                return _publish(engine, refreshed, freeze=False)
        if cached.build_seconds < inline_build_seconds:
            return _publish(engine, build_index(session, gazetteer))
        log.info("directory index: full rebuild started in the background")
        in_background = True
        threading.Thread(
            target=_build_in_background,
            args=(engine, gazetteer),
            name="directory-index-build",
            daemon=True,
        ).start()
        return cached
    finally:
        if not in_background:
            with _lock:
                _busy.discard(engine)


def _publish(engine: Engine, index: DirectoryIndex, *, freeze: bool = True) -> DirectoryIndex:
    with _lock:
        _cache[engine] = index
    if freeze:
        # The index is long-lived: move it out of the cyclic GC's way so that full
        # collections stay short and do not show up as latency spikes (and, after a fork,
        # so that collections do not write to its shared pages). No gc.collect() first: a
        # full collection of a big heap would stall every thread of the worker.
        gc.freeze()
    return index


def _build_in_background(engine: Engine, gazetteer: Gazetteer) -> None:
    try:
        with Session(engine) as session:
            index = build_index(session, gazetteer)
        _publish(engine, index)
        log.info("directory index rebuilt in the background in %.1f s", index.build_seconds)
    except Exception:  # the current index stays in use; the next request tries again
        log.exception("background directory index build failed")
    finally:
        with _lock:
            _busy.discard(engine)
