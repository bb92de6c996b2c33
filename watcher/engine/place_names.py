"""A place a person names (`--place "Aleppo Governorate"`, a silence's place) to its
gazetteer id: one resolver for `watcher matches --place`, silences and the workspace."""

from __future__ import annotations

from watcher.engine.locate import REGION_RANK
from watcher.places import Place, load, name_key
from watcher.rules.place_terms import obvious_place

SHOWN_CANDIDATES = 5  # an ambiguous name lists this many of its places, then a count


def place_id(name: str, how: str = "") -> str:
    """The id of the gazetteer place `name` means (or `name` itself, an id); ValueError,
    in one line listing the places it could be (and `how` to give an id), for an unknown
    or ambiguous name.

    The place `place:NAME` terms resolve to (place_terms.obvious_place: `Aleppo` is the
    city, `Lebanon` the country, not the towns in the United States), else the one in the
    region the locator ranks first (REGION_RANK). "Midan", two neighbourhoods of Syria,
    stays ambiguous.
    """
    gazetteer = load()
    name = name.strip()
    if name in gazetteer:
        return name
    places = gazetteer.lookup(name)
    if not places:
        raise ValueError(f"no place named {name!r} in the gazetteer")
    key = name_key(name)
    own = tuple(p for p in places if name_key(p.name) == key) or places
    place = obvious_place(name, places, gazetteer) or _first_in_region(own)
    if place is not None:
        return place.id
    shown = "; ".join(gazetteer.describe(p) for p in own[:SHOWN_CANDIDATES])
    more = len(own) - SHOWN_CANDIDATES
    raise ValueError(
        f"{name!r} names {len(own)} places: {shown}{f'; and {more} more' if more > 0 else ''}"
        f"; give the one you mean by its id{how}")


def place_name(place: str) -> str:
    """How a place id reads for people: `Aleppo Governorate`; the id itself if unknown."""
    gazetteer = load()
    return gazetteer.get(place).name if place in gazetteer else place


def _first_in_region(places: tuple[Place, ...]) -> Place | None:
    """The one place of the highest region rank among `places` (a name's own places), if
    only one has it and it is in the region."""
    rank = max(REGION_RANK.get(p.country, 0) for p in places)
    best = [p for p in places if REGION_RANK.get(p.country, 0) == rank]
    return best[0] if rank and len(best) == 1 else None
