"""The gazetteer side of `~Name`: known names of the place a rule names, and of other places.

Spelling keys (variants.py) cannot know that *Ayn al-Arab* is Kobani or that *Kabani* is a
village in Latakia; the gazetteer can. For a `~Name` whose name is a gazetteer name, the
rule compiler asks `known_names` once: the other known names of the places it names
(matched exactly, after `name_key` folding, whatever their word count) and a `NameCheck`
that drops occurrences which are known names of *other* places, whole (*Kabani*, *Midan*)
or as part of a longer name around them (*Bab* in *Bab al-Hawa*). docs/variants.md.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from watcher.places import Gazetteer, Place, load, name_key
from watcher.places.curated import curated_names
from watcher.places.gazetteer import GAZETTEER_FILE
from watcher.text.variants import (
    CONSTRUCT_HEADS,
    NOT_PLACE_RUNS,
    dropped_vowel_forms,
    fold,
    is_article,
    is_not_place_name,
    is_variant,
    loose_keys,
    refused_possessives,
    variant_keys,
)

# Syria, Iraq and the neighbours the gazetteer has every town of (docs/gazetteer.md): a
# rule's place there gives its alternate names; the look-alikes are looked for there.
# Farther places' alternate names are noisy (GeoNames lists Kobani as a name of Mkoani in
# Tanzania) and indexing every name of the world would make loading rules slow.
REGION = frozenset({"SY", "IQ", "TR", "LB", "JO", "IL", "PS"})
# Words that make a longer name the name of a feature *of* the place, not of another
# place: `al-Hol camp` is al-Hol's camp, `Deir ez-Zor countryside` is Deir ez-Zor's.
FEATURE_WORDS = frozenset({
    "airport", "area", "border", "camp", "canton", "city", "countryside", "crossing", "dam",
    "district", "governorate", "nahiya", "province", "region", "subdistrict", "town",
    "village", "new", "old",
})  # fmt: skip
# Nouns that say a word before them is a place's, in a possessive whose apostrophe FA-KES
# stripped (*Hamas eastern countryside*, Hama's), and the directions that may stand
# between (*Hamas north-western province*: punctuation is no word). Narrower than
# FEATURE_WORDS: *Hamas camp*, *Hamas border* are the group's.
PLACE_NOUNS = frozenset({
    "city", "countryside", "countrysides", "governorate", "outskirts", "province", "suburbs",
})  # fmt: skip
DIRECTION_WORDS = frozenset({
    "central", "east", "eastern", "north", "northeastern", "northern", "northwestern", "south",
    "southeastern", "southern", "southwestern", "west", "western",
})  # fmt: skip
_MAX_DIRECTION_WORDS = 2
# A nisba, the surname of an Arabic name built on a place or people (*al-Shishani*, "the
# Chechen"; *al-Homsi*), ends so: a name word before the article and a nisba is a person's
# (*Salah al-Din al-Shishani*, *Abu Kamal al-Shami*), not the place's.
NISBA_ENDINGS = ("i", "y")
_MIN_NISBA = 4
ARTICLE_HYPHENS = frozenset({"-", "\u2010", "\u2011"})  # al-Abadi; a comma between is no name
# The spelling keys of the region's name words, made by scripts/build_gazetteer.py from the
# shipped gazetteer (docs/gazetteer.md, "Rebuilding"): keying them costs most of PlaceNames.
PLACE_WORD_KEYS_FILE = Path(__file__).parent / "data" / "place_word_keys.json.gz"
WORD_KEYS_FORMAT = 1
IsEnglish = Callable[[str], bool]
NameWords = tuple[str, ...]
Runs = tuple[tuple[NameWords, NameWords], ...]  # (words before, words after) the name


@dataclass(frozen=True)
class NameCheck:
    """What an occurrence of a `~Name` naming a known place is checked against.

    `rejected`: known names (`name_key`) of other places that the spelling keys accept as
    variants of the rule's name. `around`: the words before and after the rule's name in
    longer known names of other places (`Bab al-Hawa`: (), (`hawa`,)). `possessives`: the
    rule's name's stripped possessives that are names of something else (*hamas*), kept
    only before a place noun. `heads_names`: the name is one noun that heads other names
    (CONSTRUCT_HEADS: *Bab*), not kept written bare before a name word (*Bab Sharqi*).
    `not_places`: the `around` of names that are no place's (NOT_PLACE_RUNS: *al-Haal
    market*), whose short form a text goes on using for the same thing (*in al-Haal*).
    Any occurrence followed by a nisba (*al-Shishani*) is refused too: a person's name.
    """

    rejected: frozenset[str] = frozenset()
    around: tuple[tuple[NameWords, NameWords], ...] = ()
    possessives: frozenset[str] = frozenset()
    heads_names: bool = False
    not_places: Runs = ()
    # `around` by the lookup keys of the name word next to the rule's name, before it
    # and (for names with none before) after it: an occurrence compares only those.
    _before: dict[str, list[int]] = field(init=False, compare=False, repr=False)
    _after: dict[str, list[int]] = field(init=False, compare=False, repr=False)
    # `not_places` by every key their word next to the name may share with a text word
    # (loose keys too: `is_variant` meets those), to find the runs in a text in one pass.
    _run_edges: _RunEdges = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        before: dict[str, list[int]] = defaultdict(list)
        after: dict[str, list[int]] = defaultdict(list)
        for number, (words_before, words_after) in enumerate(self.around):
            side, word = (before, words_before[-1]) if words_before else (after, words_after[0])
            for key in _lookup_keys(word):
                side[key].append(number)
        object.__setattr__(self, "_before", dict(before))
        object.__setattr__(self, "_after", dict(after))
        object.__setattr__(self, "_run_edges", _RunEdges.of(self.not_places))

    def keeps(
        self,
        words: Sequence[str],
        start: int,
        end: int,
        *,
        is_english: IsEnglish,
        sentence: Sequence[int] | None = None,
        memo: dict[object, Any] | None = None,
        between: Callable[[int], str] | None = None,
    ) -> bool:
        """Whether the occurrence at words[start..end] stays a match of the rule (`sentence`:
        each word's sentence number, when known; else one sentence). `memo`: a dict kept
        with `words` (one per field), where what is found in the whole text is kept, so
        each occurrence looks it up instead of reading the text again. `between`: the text
        between a word and the next, when known (a comma ends a name)."""
        if _nisba_after(words, end, is_english, sentence, between):
            return False  # Salah al-Din al-Shishani: a person
        if (
            self.possessives
            and fold(words[end]) in self.possessives
            and not _place_noun_after(words, end)  # Hamas eastern countryside: Hama's
        ):
            return False
        if self.heads_names and start == end and _heads_another_name(words, start, is_english):
            return False
        if self.rejected:
            key = name_key(" ".join(words[start : end + 1]))
            # Daraas for ~Daraya: Daraa's, a possessive of another place's name
            if key in self.rejected or (key.endswith("s") and key[:-1] in self.rejected):
                return False
        if self.around:
            numbers = _indexed(self._before, _neighbour(words, start, -1))
            numbers |= _indexed(self._after, _neighbour(words, end, 1))
            if any(
                _words_before(words, start, self.around[number][0], is_english)
                and _words_after(words, end, self.around[number][1], is_english)
                for number in numbers
            ):
                return False
        # in al-Haal, after the al-Haal market: the market again (the dearest check, last)
        return not (
            self.not_places
            and self._same_form_in_run(words, start, end, is_english, {} if memo is None else memo)
        )

    def _same_form_in_run(
        self,
        words: Sequence[str],
        start: int,
        end: int,
        is_english: IsEnglish,
        memo: dict[object, Any],
    ) -> bool:
        """Whether the words at start..end stand, elsewhere in the text, inside one of
        `not_places` (a name that is no place's, with the occurrence's words at its spot):
        one sense per discourse, the text names the thing in full once and then by its short
        form. The runs are found once per text and form length (`memo`), so this is a lookup."""
        size = end - start + 1
        key = (self.not_places, size)
        forms = memo.get(key)
        if forms is None:
            edges = memo.get(self.not_places)
            if edges is None:
                edges = memo[self.not_places] = self._run_edges.find(words, is_english)
            forms = memo[key] = _forms_in_runs(words, self.not_places, edges, size)
        spots = forms.get(tuple(words[start : end + 1]), ())
        return any(at != start for at in spots)


@lru_cache(maxsize=65536)
def _lookup_keys(word: str) -> frozenset[str]:
    """The keys two words share when they may be variants: their spelling keys, or one
    folded spelling (for words without keys)."""
    return variant_keys(word) | {"=" + fold(word)}


def _loose_and_dropped_vowel_keys(word: str) -> frozenset[str]:
    """The lookup keys of every text word `is_variant(word, ..., loose=True,
    dropped_vowel=True)` may accept: `_lookup_keys`, `loose_keys` and each dropped-vowel
    spelling (*Kobni*) as `=` + it."""
    dropped = frozenset("=" + form for form in dropped_vowel_forms(word))
    return _lookup_keys(word) | loose_keys(word) | dropped


def _place_noun_after(words: Sequence[str], pos: int) -> bool:
    """Whether a place noun follows `pos`, after at most two directions (*eastern*)."""
    pos += 1
    for _ in range(_MAX_DIRECTION_WORDS):
        if pos < len(words) and words[pos] in DIRECTION_WORDS:
            pos += 1
    return pos < len(words) and fold(words[pos]) in PLACE_NOUNS


def _nisba_after(
    words: Sequence[str],
    pos: int,
    is_english: IsEnglish,
    sentence: Sequence[int] | None,
    between: Callable[[int], str] | None,
) -> bool:
    """Whether an article and a nisba follow `pos` in its sentence (*al-Shishani*, *Al
    Homsi*): a word with a nisba's ending that is no English word and no word of a place
    name in the region (*al Rai* and *al-Sukkari* in a list without commas, *al-Sharqi*,
    "eastern", are places'). *Aleppo. Al-Zanki agrees* is two sentences, and *Mosul,
    al-Abadi said* a place and a speaker: only white space may stand between the name and
    the article, and a hyphen or white space between the article and the nisba."""
    if pos + 2 >= len(words) or not is_article(words[pos + 1]):
        return False
    if sentence is not None and sentence[pos] != sentence[pos + 2]:
        return False
    if between is not None and not (
        between(pos).isspace() and _joins_article(between(pos + 1))
    ):
        return False
    word = words[pos + 2]
    return (
        len(word) >= _MIN_NISBA
        and word.isalpha()
        and word.endswith(NISBA_ENDINGS)
        and not is_english(word)
        and not _is_place_word(word)
    )


def _joins_article(text: str) -> bool:
    """Whether the text between an article and its word joins them (*al-Abadi*, *Al Masri*)."""
    return text in ARTICLE_HYPHENS or text.isspace()


@lru_cache(maxsize=4096)
def _is_place_word(word: str) -> bool:
    """Whether a word (lower case) is a word of some name of a place in the region."""
    return any(word in name.split() for name in place_names().with_word(word))


def _heads_another_name(words: Sequence[str], pos: int, is_english: IsEnglish) -> bool:
    """Whether the head noun at `pos` (*bab*) is written bare, no article before it, with
    the article or a word that is no English after it: *Bab al-Faraj*, *Bab Sharqi*, a
    longer name (*Al Bab from*, *al-Bab al-Rai* in a list without commas, stay the town)."""
    if fold(words[pos]) not in CONSTRUCT_HEADS or (pos > 0 and is_article(words[pos - 1])):
        return False
    after = words[pos + 1] if pos + 1 < len(words) else ""
    return is_article(after) or (after.isalpha() and not is_english(after))


def _neighbour(words: Sequence[str], pos: int, step: int) -> str | None:
    """The nearest word before (step -1) or after (step 1) `pos` that is no article."""
    pos += step
    while 0 <= pos < len(words) and is_article(words[pos]):
        pos += step
    return words[pos] if 0 <= pos < len(words) else None


def _indexed(index: dict[str, list[int]], word: str | None) -> set[int]:
    if word is None or not index:
        return set()
    return {number for key in _lookup_keys(word) for number in index.get(key, ())}


Edges = tuple[list[set[int]], list[set[int]]]  # per run: where a form may start, and end


@dataclass(frozen=True)
class _RunEdges:
    """The runs' words next to the name, by every key a text word that is a variant of one
    shares with it (`_loose_and_dropped_vowel_keys`: what `is_variant` meets with `loose`
    and `dropped_vowel`, as `_words_before` and `_words_after` compare them)."""

    runs: Runs
    before: dict[str, list[int]]  # key of a run's last word before the name -> run numbers
    after: dict[str, list[int]]  # key of a run's first word after the name -> run numbers

    @classmethod
    def of(cls, runs: Runs) -> _RunEdges:
        before: dict[str, list[int]] = defaultdict(list)
        after: dict[str, list[int]] = defaultdict(list)
        for number, (words_before, words_after) in enumerate(runs):
            for side, words, at in ((before, words_before, -1), (after, words_after, 0)):
                if words:
                    for key in _loose_and_dropped_vowel_keys(words[at]):
                        side[key].append(number)
        return cls(runs, dict(before), dict(after))

    def find(self, words: Sequence[str], is_english: IsEnglish) -> Edges:
        """Per run, the positions a form of the name may start at (the words before it
        spell the run's `before`) and end at (the words after it spell its `after`), found
        in one pass over the text: each word's keys, and a check where one is a run's."""
        starts: list[set[int]] = [set() for _ in self.runs]
        ends: list[set[int]] = [set() for _ in self.runs]
        count = len(words)
        for pos in range(count):
            word = words[pos]
            keys = _lookup_keys(word)
            befores = {n for key in keys for n in self.before.get(key, ())}
            afters = {n for key in keys for n in self.after.get(key, ())}
            if (not befores and not afters) or is_article(word):
                continue  # the words beside a name are read with articles skipped
            for number in befores:  # the form starts after it, articles between
                at = pos + 1
                while at < count:
                    if _words_before(words, at, self.runs[number][0], is_english):
                        starts[number].add(at)
                    if not is_article(words[at]):
                        break
                    at += 1
            for number in afters:  # the form ends before it, articles between
                last = pos - 1
                while last >= 0:
                    if _words_after(words, last, self.runs[number][1], is_english):
                        ends[number].add(last)
                    if not is_article(words[last]):
                        break
                    last -= 1
        return starts, ends


def _forms_in_runs(
    words: Sequence[str], runs: Runs, edges: Edges, size: int
) -> dict[NameWords, set[int]]:
    """The forms of `size` words that stand at a run's spot in the text, with the positions
    they start at there."""
    starts, ends = edges
    forms: dict[NameWords, set[int]] = defaultdict(set)
    for number, (before, after) in enumerate(runs):
        spots = starts[number] if before else {last - size + 1 for last in ends[number]}
        for at in spots:
            last = at + size - 1
            if at >= 0 and last < len(words) and (not after or last in ends[number]):
                forms[tuple(words[at : last + 1])].add(at)
    return dict(forms)


@dataclass(frozen=True)
class KnownNames:
    """What the gazetteer says about one `~Name`: its places, their names, the check."""

    places: tuple[Place, ...]
    names: tuple[NameWords, ...]  # the places' other known names, as name_key words
    check: NameCheck
    # The rule spells a region place's own or curated name (`_own_spelling`), so a typo of
    # that spelling, a vowel letter left out (*Kobni*), is the place's too.
    own_spelling: bool = False


def _words_before(words: Sequence[str], pos: int, name: NameWords, is_english: IsEnglish) -> bool:
    """Whether the words before `pos` (articles skipped) spell `name`: as loosely as any
    `~` may, a vowel letter left out included whatever the rule's own setting, so a longer
    name only ever refuses more (docs/variants.md)."""
    for name_word in reversed(name):
        pos -= 1
        while pos >= 0 and is_article(words[pos]):
            pos -= 1
        if pos < 0 or not is_variant(name_word, words[pos], is_english=is_english,
                                     known_place=True, loose=True, dropped_vowel=True):
            return False
    return True


def _words_after(words: Sequence[str], pos: int, name: NameWords, is_english: IsEnglish) -> bool:
    """Whether the words after `pos` (articles skipped) spell `name`, as `_words_before`."""
    for name_word in name:
        pos += 1
        while pos < len(words) and is_article(words[pos]):
            pos += 1
        if pos >= len(words) or not is_variant(name_word, words[pos], is_english=is_english,
                                               known_place=True, loose=True,
                                               dropped_vowel=True):
            return False
    return True


class PlaceNames:
    """The gazetteer's Latin names in the region, indexed by the spelling keys of their words.

    Built once, on the first `~Name` that names a known place: read from the shipped
    PLACE_WORD_KEYS_FILE when it was made from the shipped gazetteer, else keyed here
    (about 0.3 s: ~18,000 name words).
    """

    def __init__(self, gazetteer: Gazetteer, index: dict[str, str] | None = None) -> None:
        """`index`: spelling key -> the names with a word of that key, joined by `|`
        (`region_name_index`, as the shipped file holds it)."""
        self.gazetteer = gazetteer
        self._by_key = region_name_index(gazetteer) if index is None else index

    def candidates(self, word: str, *, dropped_vowel: bool = False) -> set[str]:
        """Region names with a word that may be a variant (or possessive) of `word`, also
        with one vowel group more or fewer where a known place's name word meets those, and
        with `dropped_vowel`, one vowel letter left out (*Kobni*)."""
        keys = _keys_with_possessive(word) | variant_keys(word + "s") | loose_keys(word)
        if dropped_vowel:
            keys |= {key for form in dropped_vowel_forms(word) for key in variant_keys(form)}
        return self._names_with(keys)

    def with_word(self, word: str) -> set[str]:
        """Region names that may have `word` itself as a word: those of its spelling keys
        only, cheap enough for each new word of each article (the nisba check)."""
        return self._names_with(variant_keys(word))

    def _names_with(self, keys: frozenset[str]) -> set[str]:
        found: set[str] = set()
        for key in keys:
            names = self._by_key.get(key)
            if names is not None:
                found.update(names.split("|"))
        return found


def region_name_index(gazetteer: Gazetteer) -> dict[str, str]:
    """Spelling key -> the region's Latin names (`name_key`, sorted, joined by `|`: a
    folded name has no `|`) with a word of that key or of its possessive stem."""
    by_key: dict[str, set[str]] = defaultdict(set)
    names = {
        name for place in gazetteer
        if place.country in REGION or place.kind == "country"
        for name in place.names
    }  # fmt: skip
    word_keys: dict[str, frozenset[str]] = {}  # words repeat across names: key each once
    for key in {name_key(name) for name in names}:
        if not key.isascii():
            continue
        for word in key.split():
            spelling_keys = word_keys.get(word)
            if spelling_keys is None:
                spelling_keys = word_keys[word] = _keys_with_possessive(word)
            for spelling_key in spelling_keys:
                by_key[spelling_key].add(key)
    return {key: "|".join(sorted(by_key[key])) for key in sorted(by_key)}


def place_word_keys_bytes(gazetteer_file: Path = GAZETTEER_FILE) -> bytes:
    """PLACE_WORD_KEYS_FILE's bytes for this gazetteer file: deterministic (no time stamp,
    sorted), headed by the gazetteer's digest and REGION so a stale file is not used."""
    document = {
        **_word_keys_header(gazetteer_file),
        "index": region_name_index(Gazetteer.from_file(gazetteer_file)),
    }
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def _word_keys_header(gazetteer_file: Path) -> dict[str, object]:
    return {
        "format": WORD_KEYS_FORMAT,
        "gazetteer": hashlib.sha256(gazetteer_file.read_bytes()).hexdigest(),
        "region": sorted(REGION),
    }


def read_place_word_keys(
    path: Path = PLACE_WORD_KEYS_FILE, gazetteer_file: Path = GAZETTEER_FILE
) -> dict[str, str] | None:
    """The shipped index, or None when it is missing or was made from another gazetteer,
    region or format (then the keys are computed: slower, same matches)."""
    try:
        document = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError):
        return None
    header = _word_keys_header(gazetteer_file)
    if any(document.get(field) != value for field, value in header.items()):
        return None
    return document["index"]


def _keys_with_possessive(word: str) -> frozenset[str]:
    """Spelling keys of a word, and of its stem when it may be a stripped possessive."""
    keys = variant_keys(word)
    if word.endswith("s") and len(word) > 3:
        keys |= variant_keys(word[:-1])
    return keys


@cache
def place_names() -> PlaceNames:
    return PlaceNames(load(), read_place_word_keys())


def known_names(
    rule_name: str, rule_words: Sequence[str], *, is_english: IsEnglish
) -> KnownNames | None:
    """What the gazetteer knows of `~rule_name` (split into `rule_words`, articles dropped);
    None when it names no place, so the spelling keys alone decide, as before."""
    return _known_names(name_key(rule_name), tuple(rule_words), is_english)


@cache
def _known_names(rule_key: str, rule_words: NameWords, is_english: IsEnglish) -> KnownNames | None:
    names = place_names()
    places = names.gazetteer.lookup(rule_key) if rule_key else ()
    if not places or not rule_words:
        return None
    related = _Related(names.gazetteer, places)
    other_names = _other_names(places, rule_key, related, is_english)
    # only a word long enough to leave a vowel out asks (the curated file is read once)
    own_spelling = any(map(dropped_vowel_forms, rule_words)) and _own_spelling(
        places, rule_key)
    check = _check(names, rule_words, other_names, related, is_english, own_spelling)
    # Hamas (Hama's), refused as a word, matches as a known name the check keeps in context
    possessives = refused_possessives(rule_words[-1])
    own = tuple(name_key(word) for word in rule_words[:-1])
    return KnownNames(
        places,
        other_names + tuple((*own, possessive) for possessive in sorted(possessives)),
        replace(check, possessives=possessives,
                heads_names=len(rule_words) == 1 and fold(rule_words[0]) in CONSTRUCT_HEADS),
        own_spelling,
    )


def _own_spelling(places: tuple[Place, ...], rule_key: str) -> bool:
    """Whether the rule spells a region place's display name or a name the curated file
    gives it (*Kobani*, *Kobane*), not only one of GeoNames' alternate names: those are
    also transliterations nobody writes (*Sabura* for Şabbūrah), whose left-out vowels
    made other words (*Sabra*, a surname; docs/variants.md)."""
    return any(
        place.country in REGION
        and (name_key(place.name) == rule_key or rule_key in curated_names().get(place.id, ()))
        for place in places
    )


class _Related:
    """The places a rule names, and the places they lie in or contain: never 'other places'.

    Aleppo's district and governorate, its neighbourhoods: a name of one of them is no
    look-alike of Aleppo.
    """

    def __init__(self, gazetteer: Gazetteer, places: tuple[Place, ...]) -> None:
        self.gazetteer = gazetteer
        self.places = places
        self._arabic = {
            tuple(key.split()) for place in places for name in place.names
            if not (key := name_key(name)).isascii()
        }  # fmt: skip
        self._parents = {place.parents[0] for place in places if place.parents}

    def place(self, place: Place) -> bool:
        is_within = self.gazetteer.is_within
        return any(is_within(place, own) or is_within(own, place) for own in self.places)

    def name(self, key: str) -> bool:
        """Whether some place with this name is related (so the name may be this place's)."""
        return any(self.place(place) for place in self.gazetteer.lookup(key))

    def namesake(self, key: str) -> bool:
        """Whether some place with this name has the rule's place's Arabic name (in a longer
        one: `قضاء الحمدانية`, Iraq's al-Hamdaniya District, for Aleppo's Hamdaniyeh): the
        same name, spelled alike, of two places; the spelling cannot tell them apart."""
        if not self._arabic:
            return False
        return any(
            _contains(_name_words(name), own)
            for place in self.gazetteer.lookup(key)
            for name in place.names
            if not name.isascii()
            for own in self._arabic
        )

    def neighbour(self, key: str) -> bool:
        """Whether some place with this name lies in the same place as the rule's place, so
        a longer name with the rule's name inside is named after it (Masaken Hanano, the
        Hanano housing estate beside Hanano)."""
        return any(
            place.parents and place.parents[0] in self._parents
            for place in self.gazetteer.lookup(key)
        )

    def owns(self, key: str) -> bool:
        """Whether the name is the rule's place's own: every other place with it lies abroad
        and is smaller (GeoNames lists *Kobani* for Mkoani, Tanzania, and *Veroia*, Greek
        Veria, for Aleppo: Veria is smaller than Aleppo, Mkoani than Kobani)."""
        largest = max(place.population for place in self.places)
        return all(
            self.place(place) or (place.country not in REGION and place.population < largest)
            for place in self.gazetteer.lookup(key)
        )


def _other_names(
    places: tuple[Place, ...], rule_key: str, related: _Related, is_english: IsEnglish
) -> tuple[NameWords, ...]:
    """The region places' other names: not the rule's own, not shared with another place
    in the region or a larger one abroad (`owns`), not all English (*Revolution City* for
    Tabqa), not a person's or a newspaper's (`is_not_place_name`: *Derek* for al-Malikiyah,
    *al-Thawra* for Tabqa). A name of several words also written as one
    (*Abukamal*, *Ainissa*) counts in that form too."""
    found: dict[str, None] = {}
    keys = [rule_key] + [
        name_key(name) for place in places if place.country in REGION for name in place.names
    ]
    for key in keys:
        words = key.split()
        fused = "".join(words) if len(words) > 1 and key.isascii() else ""
        for form in (key, fused):
            if (
                form
                and form != rule_key
                and related.owns(form)
                and not all(is_english(word) for word in form.split())
                and not is_not_place_name(form)
            ):
                found.setdefault(form)
    return tuple(tuple(key.split()) for key in found)


def _check(
    names: PlaceNames,
    rule_words: NameWords,
    other_names: tuple[NameWords, ...],
    related: _Related,
    is_english: IsEnglish,
    dropped_vowel: bool = False,
) -> NameCheck:
    """Other places' names the spelling keys would take for the rule's name: whole names
    of as many words, and longer names with the rule's name inside, or one of the place's
    other known names (*Tadmor*, Palmyra's, in *Bab Tadmor*, a district of Homs); and
    the names of several words that are no place's (NOT_PLACE_RUNS: *Sada al-Balad*).
    `dropped_vowel`: the rule's word also meets its spelling with a vowel letter left out
    (`is_variant`), so those spellings are looked for and checked too."""
    rejected: set[str] = set()
    around: dict[tuple[NameWords, NameWords], None] = {}
    for key in sorted(names.candidates(rule_words[0], dropped_vowel=dropped_vowel)):
        other = _other_place(key, rule_words, related)
        for before, after in _spelled_in(rule_words, other, is_english, dropped_vowel):
            if not before and not after:
                rejected.add(key)
            elif not set(before + after) <= FEATURE_WORDS:
                around.setdefault((before, after))
    if dropped_vowel and len(rule_words) == 1:
        rejected |= _shared_dropped_vowel_forms(rule_words[0], rejected)
    # The place's other names match exactly: only longer names with them exactly inside.
    for own in other_names:
        text = " ".join(own)
        for key in sorted(k for k in names.candidates(own[0]) if text in k and k != text):
            words = tuple(key.split())
            spots = [
                (words[:at], words[at + len(own) :])
                for at in range(len(words) - len(own) + 1)
                if words[at : at + len(own)] == own
            ]
            spots = [(b, a) for b, a in spots if (b or a) and not set(b + a) <= FEATURE_WORDS]
            if spots and _other_place(key, own, related):
                around.update(dict.fromkeys(spots))
    first = _lookup_keys(rule_words[0])
    not_places: dict[tuple[NameWords, NameWords], None] = {}
    for run in _not_place_runs():
        if any(first & _lookup_keys(word) for word in run):
            for before, after in _spelled_in(rule_words, run, is_english, dropped_vowel):
                if before or after:
                    around.setdefault((before, after))
                    not_places.setdefault((before, after))
    return NameCheck(frozenset(rejected), tuple(around), not_places=tuple(not_places))


def _shared_dropped_vowel_forms(rule_word: str, rejected: set[str]) -> set[str]:
    """The rule word's spellings with a vowel letter left out that are as much a rejected
    one-word name's (*Kbani*: Kobani's and Kabani's, a village in Latakia): a typo that
    may be either place's is not taken for the rule's."""
    forms = dropped_vowel_forms(rule_word)
    return {
        form for name in rejected if " " not in name
        for form in forms & dropped_vowel_forms(name)
    }  # fmt: skip


@cache
def _not_place_runs() -> tuple[NameWords, ...]:
    return tuple(tuple(name_key(run).split()) for run in NOT_PLACE_RUNS)


def _other_place(key: str, own: NameWords, related: _Related) -> NameWords:
    """The words of a region name that may be another place's name holding `own` (as
    many words or more); () when it is no other place's: a related place's, a namesake's
    (the same name), or a neighbour's named after the place."""
    words = tuple(key.split())
    if len(words) < len(own) or related.name(key):
        return ()
    if related.namesake(key) if len(words) == len(own) else related.neighbour(key):
        return ()
    return words


def _spelled_in(
    own: NameWords, words: NameWords, is_english: IsEnglish, dropped_vowel: bool = False
) -> list[tuple[NameWords, NameWords]]:
    """The words before and after each spot where `words` spell the name `own`."""
    count = len(own)
    return [
        (words[:at], words[at + count :])
        for at in range(len(words) - count + 1)
        if _spells(own, words[at : at + count], is_english, dropped_vowel)
    ]


@lru_cache(maxsize=4096)
def _name_words(name: str) -> NameWords:
    """A name's `name_key` words; rules ask of the same places' names again and again."""
    return tuple(name_key(name).split())


def _contains(words: NameWords, part: NameWords) -> bool:
    """Whether `part` is a run of consecutive words of `words`."""
    return any(words[at : at + len(part)] == part for at in range(len(words) - len(part) + 1))


def _spells(
    rule_words: NameWords, name_words: NameWords, is_english: IsEnglish,
    dropped_vowel: bool = False,
) -> bool:
    """Whether the spelling keys take these name words for the rule's words (a possessive
    on the last word included, as `~Name` matches it)."""
    last = len(rule_words) - 1
    return all(
        is_variant(rule, word, is_english=is_english, possessive=number == last,
                   known_place=True, loose=True, dropped_vowel=dropped_vowel)
        for number, (rule, word) in enumerate(zip(rule_words, name_words, strict=True))
    )
