"""`place:` terms: a place of the gazetteer and every place inside it, as `~Name` terms.

The parser leaves `place:Aleppo` as a PlaceRef; the loader asks `expand_place` for the
Or of `~Name` variant terms it stands for, so the engine never sees a place term. The
gazetteer is read only when a rule set has one (docs/rule-language.md, "Places").
"""

from __future__ import annotations

import difflib
import gzip
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from watcher.places import Gazetteer, Place, load, name_key
from watcher.places.gazetteer import ID_PREFIXES, SIMPLEMAPS_PREFIX
from watcher.rules.ast import Or, Query, Term
from watcher.rules.references import PlaceRef, replace_refs
from watcher.text.lexicon import ENGLISH_WORDS_FILE
from watcher.text.variants import fold, is_article, is_not_place_name

# Of several places of one name, the most populous is the obvious one only when it has
# this many times the people of the next (Damascus, Syria and Damascus, Oregon).
OBVIOUS_POPULATION_RATIO = 10
# A one-word name shorter than this is left out of an area's names (`Bab`, `Tal`): as a
# `~` variant it would match too many other words. With its article (`al-Bab`) it stays.
MIN_NAME_LETTERS = 4
# A hamlet's one-word name shorter than this is matched as written, not as `~` (`_hamlet`).
HAMLET_NAME_LETTERS = 8
# `watcher rules check` warns about a place term that expands to more names than this.
LARGE_EXPANSION = 500
MAX_LISTED = 8  # candidates named in one error message
_WORD_SPLIT = re.compile(r"[\s\-\u2010\u2011]+")


class PlaceTermError(ValueError):
    """A place term that names no known place, or several with none the obvious one."""


@dataclass(frozen=True)
class PlaceExpansion:
    """What one place term stands for: the place, how many places its area holds, and the
    terms of their names (one spelling per folded form; `area_terms`)."""

    place: Place
    places: int
    terms: tuple[Term, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(term.text for term in self.terms)

    @property
    def query(self) -> Query:
        """One term by itself, several in an Or."""
        return self.terms[0] if len(self.terms) == 1 else Or(self.terms)


@cache
def expand_place(text: str) -> PlaceExpansion:
    """The expansion of `place:TEXT` over the shipped gazetteer; PlaceTermError if TEXT names
    no place or several. Kept per text: a rule set names the same places again and again."""
    gazetteer = load()
    place = resolve_place(text, gazetteer)
    area = (place, *gazetteer.descendants(place))
    return PlaceExpansion(place, len(area), area_terms(text, area, gazetteer))


def resolve_place(text: str, gazetteer: Gazetteer) -> Place:
    """The one place `text` names: an id, a name, or `Name, Parent, …` (each parent a name of
    a place it lies inside); PlaceTermError for none, or several and none obvious."""
    text = " ".join(text.split())
    if text.startswith(ID_PREFIXES):
        if text not in gazetteer:
            raise PlaceTermError(f"unknown place id '{text}' (ids: docs/gazetteer.md)")
        return gazetteer.get(text)
    name, *within = (part.strip() for part in text.split(","))
    if not name or not all(within):
        raise PlaceTermError(f"empty name in place '{text}': write place:\"Name, Parent\"")
    named = gazetteer.lookup(name)
    if not named:
        raise PlaceTermError(_unknown(name, gazetteer))
    inside = [p for p in named if all(gazetteer.ancestors_named(p, area) for area in within)]
    if not inside:
        raise PlaceTermError(
            f"no place '{name}' lies inside {' and '.join(repr(a) for a in within)}; "
            f"places of that name: {_listed(name, named, gazetteer)}"
        )
    place = obvious_place(name, inside, gazetteer)
    if place is None:
        raise PlaceTermError(_ambiguous(name, inside, gazetteer))
    return place


def obvious_place(
    name: str, places: Sequence[Place], gazetteer: Gazetteer, *, likeliest: bool = False
) -> Place | None:
    """The place a name means when several share it, or None when none is the obvious one.

    1. A place that contains another of the name is left out: the governorate or district
       named after its seat means the seat (`Aleppo` is the city, not the governorate).
    2. A place whose own name (display name) it is wins over places that have it only as an
       alternate name (`Homs` is Syria's, not Libya's Al Khums).
    3. Of several left, the most populous if it has OBVIOUS_POPULATION_RATIO times the
       people of the next, both known (Damascus in Syria, not in Oregon); else none.
       `likeliest` (which names an area takes, where nobody can say which place is meant):
       the most populous if it has more people than the next, an unknown count as none
       (Al Quşayr in Syria over Egypt's; Sinjar in Iraq, not the Syrian village).
    """
    inner = [p for p in places if not any(o is not p and gazetteer.is_within(o, p) for o in places)]
    key = name_key(name)
    own = [p for p in inner if name_key(p.name) == key] or inner
    if len(own) == 1:
        return own[0]
    first, second = sorted(own, key=lambda place: -place.population)[:2]
    if likeliest and first.population > second.population:
        return first
    if second.population and first.population >= OBVIOUS_POPULATION_RATIO * second.population:
        return first
    return None


def area_terms(text: str, area: Sequence[Place], gazetteer: Gazetteer) -> tuple[Term, ...]:
    """The terms a place term stands for: `~Name` of the place's own name and of the name
    written, always; then `~Name` of the own name of each place of the area (nearer before
    farther; a `_hamlet`'s as written), then the phrase of each alternate name, but for
    names `_is_noise` leaves out; one spelling per folded form (a governorate's alternate
    name `Raqqa` is its city's own, so `~Raqqa`).

    Alternate names are matched as written, not as `~` variants: GeoNames' are in many
    languages and short (`Raco` for Raju), and as variants they matched other places'
    names (*Raqqa*) and ordinary ones (*SANA*) on the labelled set (bench.quality)."""
    place = area[0]
    inside = {p.id for p in area}
    chosen: dict[str, Term] = {}
    written = () if text.startswith(ID_PREFIXES) else (text.split(",")[0].strip(),)
    for name in (place.name, *written):
        if _is_latin(name):
            chosen.setdefault(name_key(name), Term("variant", name))
    own = [(member.name, "word" if _hamlet(member) else "variant") for member in area]
    alternate = [(name, "word") for member in area for name in member.names[1:]]
    for name, kind in (*own, *alternate):
        key = name_key(name)
        if key and key not in chosen and not _is_noise(name, inside, gazetteer):
            # A village inside: its spellings only (Term.in_area)
            chosen[key] = Term(kind, name, in_area=kind == "variant")  # type: ignore[arg-type]
    return tuple(chosen.values())


def _hamlet(place: Place) -> bool:
    """A place of unknown size with a one-word name (articles aside) of fewer than
    HAMLET_NAME_LETTERS letters: its name is matched as written, not as a `~` variant. Of
    unknown size: a village of unknown population, a GeoNames populated place (unknown
    there, whatever population SimpleMaps gives it), or a town only SimpleMaps has (its
    population is often the subdistrict's: Taji 200,000). As variants such names matched
    other places and people on the labelled set: Qenterê *Quneitra*, Rājū *al-Raju*, Al
    Kasrah *Qasser*, Ar Rā‘ī *RIA*; and in news, Al ‘Ashārah *Ashura*, Ḩārim *Boko Haram*,
    Al-Quriyah *Kerry*, *Khouri* and *Kweyris*."""
    unknown = (
        place.kind == "populated place"
        or place.id.startswith(SIMPLEMAPS_PREFIX)
        or (place.kind == "village" and not place.population)
    )
    if not unknown:
        return False
    words = [w for w in _WORD_SPLIT.split(place.name) if w and not is_article(w)]
    return len(words) == 1 and sum(ch.isalpha() for ch in words[0]) < HAMLET_NAME_LETTERS


def _is_noise(name: str, inside: set[str], gazetteer: Gazetteer) -> bool:
    """Whether an area's name is left out: not Latin script; one short word (`Bab`, but not
    `al-Bab`); one word, articles aside, that is ordinary English (a village called `Safe`);
    a name news uses for a person or a newspaper (`is_not_place_name`: *Derek*, *Thawra*);
    or a name that places outside the area share, unless its likeliest place
    (`obvious_place`) is inside (`Midan` is in Aleppo and in Damascus: neither area takes
    it; `Berea`, an old name of Aleppo, is a town in Kentucky)."""
    if not _is_latin(name) or is_not_place_name(name):
        return True
    words = [w for w in _WORD_SPLIT.split(name) if w]
    content = [w for w in words if not is_article(w)] or words
    if len(content) == 1:
        word = fold(content[0])
        short = sum(ch.isalpha() for ch in word) < MIN_NAME_LETTERS
        if (short and len(words) == 1) or word in _english_words():
            return True
    holders = gazetteer.lookup(name)
    if all(p.id in inside for p in holders):
        return False
    likeliest = obvious_place(name, holders, gazetteer, likeliest=True)
    return likeliest is None or likeliest.id not in inside


def _is_latin(name: str) -> bool:
    """Every letter Latin (`Qamişlo`, not `القامشلي`): articles are read as English text."""
    letters = [ch for ch in name if ch.isalpha()]
    return bool(letters) and all(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)


@cache
def _english_words() -> frozenset[str]:
    """The ordinary English words `~` never takes for a name (watcher.text.lexicon's list)."""
    with gzip.open(ENGLISH_WORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(handle.read().split())


def _unknown(name: str, gazetteer: Gazetteer) -> str:
    """`unknown place 'Alepoo' (did you mean: Alepo, Aleppo, …?)`: difflib over the names of
    about the same length that share the first letter or the last two (a thousandth of the
    time of all 130,000)."""
    key = name_key(name)
    pool = [
        other for other in _all_keys(gazetteer)
        if abs(len(other) - len(key)) <= 2 and (other[:1] == key[:1] or other[-2:] == key[-2:])
    ]
    close = difflib.get_close_matches(key, pool, n=5, cutoff=0.75)
    spelled = ", ".join(dict.fromkeys(_closest_name(gazetteer.lookup(k)[0], k) for k in close))
    hint = f" (did you mean: {spelled}?)" if spelled else ""
    return f"unknown place '{name}'{hint}; the gazetteer's places: docs/gazetteer.md"


def _closest_name(place: Place, key: str) -> str:
    """The place's name spelled as the folded key that came close."""
    return next((n for n in place.names if name_key(n) == key), place.name)


@cache
def _all_keys(gazetteer: Gazetteer) -> list[str]:
    """Every Latin-script name's folded form, for suggestions (built on the first unknown
    name, in under a second)."""
    return sorted({key for p in gazetteer for n in p.names if (key := name_key(n)).isascii()}
                  - {""})


def _ambiguous(name: str, places: Sequence[Place], gazetteer: Gazetteer) -> str:
    return (
        f"ambiguous place '{name}': {len(places)} places have that name and none is the "
        f"obvious one; pick one: {_listed(name, places, gazetteer)}"
    )


def _listed(name: str, places: Sequence[Place], gazetteer: Gazetteer) -> str:
    """Each place with how to write it alone, `place:"Midan, Damascus" = Midan
    (neighbourhood; Damascus, Damascus Governorate, Syria) watcher:damascus-midan`."""
    shown = [f"{_how_to_pick(name, p, places, gazetteer)} = {gazetteer.describe(p)}"
             for p in places[:MAX_LISTED]]
    more = len(places) - MAX_LISTED
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _how_to_pick(name: str, place: Place, places: Sequence[Place], gazetteer: Gazetteer) -> str:
    """`place:"Name, Parent"` with the nearest parent that tells it from the other places of
    the name, else its id."""
    for parent in gazetteer.parents(place):
        named = [p for p in places if gazetteer.ancestors_named(p, parent.name)]
        if named == [place]:
            return f'place:"{name}, {parent.name}"'
    return f"place:{place.id}"


def expand_places(
    query: Query | PlaceRef,
    error: Callable[[PlaceRef, str], None],
    warn: Callable[[PlaceRef, str], None] = lambda ref, message: None,
) -> Query:
    """`query` with every place term replaced by its names' `~` terms. A place term that
    names no place or several goes to `error` and stays in (the rule set will not load);
    one that expands to more than LARGE_EXPANSION names goes to `warn`."""

    def resolve(ref: PlaceRef) -> Query:
        try:
            expansion = expand_place(ref.text)
        except PlaceTermError as exc:
            error(ref, str(exc))
            return ref  # type: ignore[return-value]  # reported: the rule set will not load
        if len(expansion.names) > LARGE_EXPANSION:
            warn(ref, f"place:{ref.text} expands to {len(expansion.names):,} names of "
                      f"{expansion.places:,} places (more than {LARGE_EXPANSION}); a smaller "
                      "area (a governorate, a city) matches faster and wrongly less often")
        return expansion.query

    return replace_refs(query, PlaceRef, resolve)
