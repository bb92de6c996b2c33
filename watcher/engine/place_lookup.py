"""A place named by a person (`watcher matches --place`, the inbox's place filter) as the
gazetteer id that `match_places` is searched by."""

from __future__ import annotations

from watcher.engine.locate import REGION_RANK
from watcher.places import Place, load, name_key
from watcher.rules.place_terms import obvious_place

SHOWN_CANDIDATES = 5  # an ambiguous name lists this many of its places, then a count


class UnknownPlace(ValueError):
    """No place, or more than one, by that name: the message names the candidates."""


def place_id(name: str, id_hint: str = "--place ID") -> str:
    """The id of the gazetteer place `name` means (or `name` itself, an id); an unknown or
    ambiguous name raises UnknownPlace listing the places it could be, and `id_hint` says
    where to give an id instead.

    The place `place:NAME` terms resolve to (place_terms.obvious_place: `Aleppo` is the
    city, `Lebanon` the country, not the towns in the United States), else the one in the
    region the locator ranks first (REGION_RANK): one resolver for both. "Midan", two
    neighbourhoods of Syria, stays ambiguous.
    """
    gazetteer = load()
    if name in gazetteer:
        return name
    places = gazetteer.lookup(name)
    if not places:
        raise UnknownPlace(f"no place named {name!r} in the gazetteer")
    key = name_key(name)
    own = tuple(p for p in places if name_key(p.name) == key) or places
    place = obvious_place(name, places, gazetteer) or _first_in_region(own)
    if place is not None:
        return place.id
    shown = "; ".join(gazetteer.describe(p) for p in own[:SHOWN_CANDIDATES])
    more = len(own) - SHOWN_CANDIDATES
    raise UnknownPlace(
        f"{name!r} names {len(own)} places: {shown}{f'; and {more} more' if more > 0 else ''}"
        f"; give the one you mean by its id ({id_hint})"
    )


def _first_in_region(places: tuple[Place, ...]) -> Place | None:
    """The one place of the highest region rank among `places` (a name's own places), if
    only one has it and it is in the region."""
    rank = max(REGION_RANK.get(p.country, 0) for p in places)
    best = [p for p in places if REGION_RANK.get(p.country, 0) == rank]
    return best[0] if rank and len(best) == 1 else None
