"""Postcodes to places, coordinates and nations.

A postcode district listed in `places/postcode_districts.csv` gives its centroid, and its BLMK
place when it is in BLMK (a neighbouring district is listed with no place). Any other postcode
gets **no position at all**: an area's centroid can be tens of kilometres from the caller
(MK18, Buckingham, sat 4 km from Milton Keynes' urgent treatment centre on the MK area
centroid, really 17 km), so it is never used for a distance, a radius or a reason (issue 13
clinical review, hazard H12). Every postcode also gets its nation (`places/postcode_nations.csv`),
which decides the non-emergency catch-all (NHS 111 in England and Wales, NHS 24 on 111 in
Scotland, no 111 elsewhere; hazard H29).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from navigator.core.identifiers import (
    BFPO,
    SPECIAL_POSTCODES,
    is_geographic_postcode,
    normalise_postcode,
)

_AREA = re.compile(r"^[A-Z]{1,2}")

EARTH_RADIUS_KM = 6371.0088
_RAD = math.pi / 180


@dataclass(frozen=True, slots=True)
class Postcode:
    """A parsed postcode: `text` is normalised ASCII ("MK42 9DJ"); inward is None for "MK42".
    `geographic` is False for a valid postcode that locates nowhere (BFPO, GIR 0AA, the
    overseas territories): the caller is out of area, not in error."""

    text: str
    district: str
    inward: str | None
    geographic: bool = True

    @property
    def area(self) -> str:
        match = _AREA.match(self.district)
        assert match
        return match.group(0)


def parse_postcode(value: str, *, allow_outward: bool = True) -> Postcode | None:
    """A UK postcode (or, with `allow_outward`, an outward code alone) in any script,
    spacing and case; None when it breaks the format's position rules. The rules and the
    non-geographic postcodes are `navigator.core.identifiers.normalise_postcode`'s."""
    text = normalise_postcode(value, allow_outward=allow_outward)
    if text is None:
        return None
    district, _, inward = text.partition(" ")
    return Postcode(text, district, inward or None, is_geographic_postcode(text))


@dataclass(frozen=True, slots=True)
class Point:
    """A position with its trigonometry precomputed: distances are on every search's hot path."""

    lat: float
    lng: float
    lat_rad: float
    lng_rad: float
    cos_lat: float

    @classmethod
    def of(cls, lat: float, lng: float) -> Point:
        return cls(lat, lng, lat * _RAD, lng * _RAD, math.cos(lat * _RAD))

    def km_to(self, other: Point) -> float:
        """Great-circle (haversine) distance."""
        h = (
            math.sin((other.lat_rad - self.lat_rad) / 2) ** 2
            + self.cos_lat * other.cos_lat * math.sin((other.lng_rad - self.lng_rad) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


# Nations (and places beyond them) that decide the non-emergency catch-all. Postcodes with no
# geography that are not in one of these (GIR 0AA, BX, SAN TA1) count as England.
ENGLAND = "england"
NATIONS = (
    ENGLAND,
    "scotland",
    "wales",
    "northern_ireland",
    "crown_dependencies",  # Jersey, Guernsey, the Isle of Man: their own health services
    "forces_and_overseas",  # BFPO and the overseas territories: no NHS 111 at all
)
# Valid postcodes with no geography that are abroad or with the forces (identifiers.py).
_ABROAD = frozenset(SPECIAL_POSTCODES - {"GIR 0AA", "SAN TA1", "XM4 5HQ"})


@dataclass(frozen=True, slots=True)
class Located:
    """Where a postcode is, as far as navigator knows: `place` is a BLMK place or None (out of
    area); `lat`/`lng`/`point` are a known district's centroid or None (never an area's
    centroid); `nation` is one of NATIONS."""

    postcode: Postcode
    place: str | None
    lat: float | None
    lng: float | None
    point: Point | None = None
    nation: str = ENGLAND

    @classmethod
    def at(
        cls,
        postcode: Postcode,
        place: str | None,
        lat: float | None,
        lng: float | None,
        *,
        nation: str = ENGLAND,
    ) -> Located:
        point = Point.of(lat, lng) if lat is not None and lng is not None else None
        return cls(postcode, place, lat, lng, point, nation)


@dataclass(frozen=True)
class Gazetteer:
    # district -> (BLMK place or None for a listed neighbouring district, lat, lng)
    districts: dict[str, tuple[str | None, float, float]]
    # area -> (lat, lng), England-wide and approximate: reference data for synthetic
    # directories only, never a caller's position (see the module docstring).
    areas: dict[str, tuple[float, float]]
    # postcode area or district -> nation; a district entry overrides its area's.
    nations: dict[str, str] = field(default_factory=dict)

    def nation_of(self, postcode: Postcode) -> str:
        """The nation whose health service a postcode is in (one of NATIONS)."""
        if not postcode.geographic:
            abroad = (
                postcode.text in _ABROAD
                or BFPO.fullmatch(postcode.text) is not None
                or postcode.area == "BF"
            )
            return "forces_and_overseas" if abroad else ENGLAND
        return self.nations.get(postcode.district) or self.nations.get(postcode.area) or ENGLAND

    def locate(self, postcode: Postcode) -> Located:
        nation = self.nation_of(postcode)
        if not postcode.geographic:  # BFPO, GIR 0AA, SAN TA1: valid, but no place at all
            return Located.at(postcode, None, None, None, nation=nation)
        if hit := self.districts.get(postcode.district):
            place, lat, lng = hit
            return Located.at(postcode, place, lat, lng, nation=nation)
        # An unlisted district: its area's centroid is no position for it (module docstring).
        return Located.at(postcode, None, None, None, nation=nation)

    def districts_of(self, place: str) -> list[str]:
        return sorted(d for d, (p, _, _) in self.districts.items() if p == place)


@lru_cache(maxsize=4)
def load_gazetteer(data_dir: str) -> Gazetteer:
    folder = Path(data_dir) / "places"
    districts: dict[str, tuple[str | None, float, float]] = {}
    with (folder / "postcode_districts.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            districts[row["district"].strip().upper()] = (
                row["place"].strip() or None,  # empty: a neighbouring district outside BLMK
                float(row["lat"]),
                float(row["lng"]),
            )
    areas: dict[str, tuple[float, float]] = {}
    with (folder / "postcode_areas.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            areas[row["area"].strip().upper()] = (float(row["lat"]), float(row["lng"]))
    nations: dict[str, str] = {}
    with (folder / "postcode_nations.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            nation = row["nation"].strip()
            if nation not in NATIONS:
                raise ValueError(f"postcode_nations.csv: unknown nation {nation!r}")
            nations[row["prefix"].strip().upper()] = nation
    return Gazetteer(districts, areas, nations)


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance; on the hot path of every search, so kept lean."""
    p1, p2 = lat1 * _RAD, lat2 * _RAD
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin((lng2 - lng1) * _RAD / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
