"""A match's places in the store: the JSON kept with the match, and the areas it lies in.

`matches.places` keeps each place as it was when matched (a rebuilt gazetteer never moves
an old match); `match_places` holds one row per area (each place and each of its parents),
which is what `watcher matches --place` looks up.
"""

from __future__ import annotations

from typing import Any

from watcher.model import MatchPlace, PlaceRef


def places_json(places: tuple[MatchPlace, ...]) -> list[dict[str, Any]]:
    """The places as the `matches.places` column stores them."""
    return [
        {
            "id": place.id, "name": place.name, "kind": place.kind,
            "latitude": place.latitude, "longitude": place.longitude,
            "parents": [{"id": p.id, "name": p.name, "kind": p.kind} for p in place.parents],
        }
        for place in places
    ]


def places_of(stored: list[dict[str, Any]] | None) -> tuple[MatchPlace, ...]:
    """The places of a stored `matches.places` value; none for a match stored before 0008."""
    return tuple(
        MatchPlace(
            place["id"], place["name"], place["kind"], place["latitude"], place["longitude"],
            tuple(PlaceRef(p["id"], p["name"], p["kind"]) for p in place["parents"]),
        )
        for place in stored or ()
    )


def area_ids(places: tuple[MatchPlace, ...]) -> list[str]:
    """Every area the places lie in, themselves included, each once."""
    return list(dict.fromkeys(area for place in places for area in place.area_ids()))
