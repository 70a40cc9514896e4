"""Postcodes to places and coordinates.

A BLMK postcode district gives its place and centroid; an English postcode area outside
BLMK gives only an approximate centroid (so distances are "where known").
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from navigator.identifiers import is_geographic_postcode, normalise_postcode

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
    non-geographic postcodes are `navigator.identifiers.normalise_postcode`'s."""
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


@dataclass(frozen=True, slots=True)
class Located:
    postcode: Postcode
    place: str | None
    lat: float | None
    lng: float | None
    point: Point | None = None

    @classmethod
    def at(
        cls, postcode: Postcode, place: str | None, lat: float | None, lng: float | None
    ) -> Located:
        point = Point.of(lat, lng) if lat is not None and lng is not None else None
        return cls(postcode, place, lat, lng, point)


@dataclass(frozen=True)
class Gazetteer:
    districts: dict[str, tuple[str, float, float]]  # district -> (place, lat, lng)
    areas: dict[str, tuple[float, float]]  # area -> (lat, lng), England-wide, approximate

    def locate(self, postcode: Postcode) -> Located:
        if not postcode.geographic:  # BFPO, GIR 0AA, SAN TA1: valid, but no place at all
            return Located.at(postcode, None, None, None)
        if hit := self.districts.get(postcode.district):
            place, lat, lng = hit
            return Located.at(postcode, place, lat, lng)
        if area := self.areas.get(postcode.area):
            return Located.at(postcode, None, area[0], area[1])
        return Located.at(postcode, None, None, None)

    def districts_of(self, place: str) -> list[str]:
        return sorted(d for d, (p, _, _) in self.districts.items() if p == place)


@lru_cache(maxsize=4)
def load_gazetteer(data_dir: str) -> Gazetteer:
    folder = Path(data_dir) / "places"
    districts: dict[str, tuple[str, float, float]] = {}
    with (folder / "postcode_districts.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            districts[row["district"].strip().upper()] = (
                row["place"].strip(),
                float(row["lat"]),
                float(row["lng"]),
            )
    areas: dict[str, tuple[float, float]] = {}
    with (folder / "postcode_areas.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            areas[row["area"].strip().upper()] = (float(row["lat"]), float(row["lng"]))
    return Gazetteer(districts, areas)


_RAD = math.pi / 180


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance; on the hot path of every search, so kept lean."""
    p1, p2 = lat1 * _RAD, lat2 * _RAD
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin((lng2 - lng1) * _RAD / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
