"""Where a match is: the gazetteer places its spans name, else those its article's title names.

Only matches are located (the gazetteer is loaded when the first match needs it, never at
import), and each name is looked up once per article. The rules, documented in
docs/commands.md ("Places of a match"):

- A span's text names places where a run of its words that begins with a capital (or an
  Arabic letter) is a gazetteer name, the longest run first, left to right: "Aleppo's
  Sheikh Maqsoud" names Aleppo and Sheikh Maqsoud, "siege" nothing. A `~Name` span that
  names no place as written ("Aleppos") is the place of the rule's own Name.
- A single word that is an ordinary English word names only a country: "Turkey" does,
  "Reading", "Human" (Uman) and the "Sham" of Ahrar al-Sham do not.
- A name several places share is the place that shares the most areas (itself and its
  parents) with the places the article's other names point to; on a tie, one in Syria or
  Iraq, then in a neighbour (Lebanon, Turkey, Jordan, Israel, Palestine), then the most
  populous: "Midan" beside "Sheikh Maqsoud" is Aleppo's, "Kobani" is not Mkoani in
  Tanzania, "Aleppo" alone is the city (the governorate shares its bare name).
- A match whose spans name no place is located at the places its article's title names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from watcher.engine.positional import TermRange
from watcher.model import Match, MatchPlace, PlaceRef, Span
from watcher.places import Gazetteer, Place, load, name_key
from watcher.rules.ast import And, InField, Near, NotIn, Or, Query, Term
from watcher.rules.compile import CAnd, CField, CNear, CNode, CNotIn, COr, CTerm
from watcher.text.variants import NOT_PLACE_RUNS, fold, is_not_place_name

MAX_NAME_WORDS = 6  # words in one place name at most ("Ras al-Ayn District" is 4)
# Bounds that keep a hostile feed (a title of 100,000 place names) from costing more than a
# normal article: only this much of a title is read, this many words of one span, and a
# match keeps this many places at most (in the order met).
MAX_TITLE_CHARS = 300
MAX_SPAN_WORDS = 40
MAX_PLACES = 10
# An all-capital word this short is an acronym (SANA, the news agency), no place's
# alternate name: it names only a place whose own name it is.
MAX_ACRONYM_LETTERS = 5
# Where the news watcher reads happens: a shared name is one of these countries' places first.
REGION_RANK = {"SY": 2, "IQ": 2, "LB": 1, "TR": 1, "JO": 1, "IL": 1, "PS": 1}
HOME_RANK = 2  # Syria's and Iraq's
# Endings that make a place's name a possessive whose apostrophe a feed stripped or a
# plural (Aleppo-'s, Syria-s, Syrian-s), then a demonym (Syria-n, Iraq-i). The stem must
# keep MIN_STEM_LETTERS letters.
PLURAL_ENDINGS = ("'s", "’s", "s")
DEMONYM_ENDINGS = ("n", "i")
MIN_STEM_LETTERS = 4
MAX_NAME_CHARS = 80  # a mention longer than this names no place (names_place reads it not)
NAMES_KEPT = 50_000  # names_place's lookups kept before starting afresh (a bound per process)
_WORD = re.compile(r"[^\W_]+")
# What may stand between two words of one name: spaces, hyphens, apostrophes (`Ra’s al ‘Ayn`).
_JOINER = re.compile(r"[\s\-'’‘ʿʾ`]*")


class Locator:
    """Locates an article's matches; one per engine, the gazetteer shared by the process."""

    def __init__(
        self, is_english: Callable[[str], bool], gazetteer: Callable[[], Gazetteer] = load
    ) -> None:
        """`is_english`: whether a word is an ordinary English word (the analyser's
        lexicon); `gazetteer`: the gazetteer, asked for only when a match is located."""
        self._is_english = is_english
        self._gazetteer = gazetteer
        self._lookups: _Lookups | None = None  # the process's lookups, for its gazetteer
        self._names: _ArticleNames | None = None  # for names_place, bounded (NAMES_KEPT)
        self._named: dict[str, bool] = {}  # names_place's answers by mention text

    def names_place(self, text: str) -> bool:
        """Whether a mention's text names a place, as located spans do, or is a place's
        demonym or stripped possessive (*Syrian*, *Iraqi*, *Syrias*): such a mention says
        where, not what happened (context reads the sentences that say what)."""
        if len(text) > MAX_NAME_CHARS:
            return False  # no place's name: not looked up, not kept
        known = self._named.get(text)
        if known is None:
            if self._names is None or len(self._named) > NAMES_KEPT:
                self._names = _ArticleNames(self.lookups())
                self._named = {}
            names = self._names
            known = (
                bool(text) and _opens_name(text, 0) and not is_not_place_name(text)
                and any(names.places_named(form) for form in _name_forms(text))
            )
            self._named[text] = known
        return known

    def locate(
        self, texts: Mapping[str, str], found: Sequence[tuple[Match, Mapping[Span, str]]]
    ) -> list[Match]:
        """Each match with its places. `texts` are the article's title and body by field
        name; each match comes with the rule's Name of each of its spans a `~Name` term made."""
        if not found:
            return []
        names = _ArticleNames(self.lookups())
        per_match = [
            [key for span in match.spans for key in names.of_span(texts, span, variants)]
            for match, variants in found
        ]
        title = texts.get("title", "")
        in_title = names.names_in(title, 0, min(len(title), MAX_TITLE_CHARS))
        chosen = names.resolve()
        placed = [
            names.described(tuple(keys), chosen) or names.described(tuple(in_title), chosen)
            for keys in per_match
        ]
        # A match built without places keeps them so: no copy for a match placed nowhere.
        return [replace(match, places=places) if places else match
                for (match, _), places in zip(found, placed, strict=True)]

    def lookups(self) -> _Lookups:
        """The lookups of the process's gazetteer, kept while it is the same one."""
        gazetteer = self._gazetteer()
        if self._lookups is None or self._lookups.gazetteer is not gazetteer:
            self._lookups = _Lookups(gazetteer, self._is_english)
        return self._lookups


class _Lookups:
    """What depends on a name or a place alone, kept for the process (NAMES_KEPT at most
    of each): the places a name may be and a place's description. The matches of an
    article share most of their names, and the next article many of them again."""

    def __init__(self, gazetteer: Gazetteer, is_english: Callable[[str], bool]) -> None:
        self.gazetteer = gazetteer
        self.is_english = is_english
        self._by_name: dict[str, tuple[str, tuple[Place, ...]]] = {}  # name as written
        self._described: dict[str, MatchPlace] = {}  # by place id

    def places_named(self, name: str) -> tuple[str, tuple[Place, ...]]:
        """A name's name_key and the places it may be (`_candidates`)."""
        known = self._by_name.get(name)
        if known is None:
            if len(self._by_name) >= NAMES_KEPT:
                self._by_name.clear()
            key = name_key(name)
            known = self._by_name[name] = (key, self._candidates(name, key))
        return known

    def _candidates(self, name: str, key: str) -> tuple[Place, ...]:
        """The places a name may be, before the article's other names are known. A lone
        word that is a person's or organisation's name (`is_not_place_name`: Hamas; Cham,
        the Levant) names none; an ordinary English word only a country; a short
        all-capital word (SANA) only a place whose own name it is."""
        if " " in key:
            places = self.gazetteer.lookup(name)
        elif is_not_place_name(name):
            return ()
        else:
            places = self.gazetteer.lookup(name)
            if self.is_english(name):
                places = tuple(p for p in places if p.kind == "country")
            if _is_acronym(name):
                places = tuple(p for p in places if p.name.casefold() == name.casefold())
        return tuple(sorted(places, key=lambda p: -REGION_RANK.get(p.country, 0)))

    def described(self, place: Place) -> MatchPlace:
        """A place as a match carries it, with its parents."""
        known = self._described.get(place.id)
        if known is None:
            if len(self._described) >= NAMES_KEPT:
                self._described.clear()
            parents = tuple(PlaceRef(p.id, p.name, p.kind) for p in self.gazetteer.parents(place))
            known = MatchPlace(place.id, place.name, place.kind, place.latitude,
                               place.longitude, parents)
            self._described[place.id] = known
        return known


class _ArticleNames:
    """The place names one article's matches and title hold, each looked up once, and
    each span read once (an article's matches share most of their spans)."""

    def __init__(self, lookups: _Lookups) -> None:
        self.lookups = lookups
        self.candidates: dict[str, tuple[Place, ...]] = {}  # by name_key, in the order met
        # by a span's text and its rule's Name: the same text reads the same names (those it
        # looks up are then this article's already), wherever it is
        self._span_names: dict[tuple[str, str | None], list[str]] = {}
        self._placed: dict[tuple[str, ...], tuple[MatchPlace, ...]] = {}

    def of_span(
        self, texts: Mapping[str, str], span: Span, variants: Mapping[Span, str]
    ) -> list[str]:
        """The names in one span: a `~Name` span's whole text or else the rule's Name, any
        other span's runs of words."""
        text = texts.get(span.field, "")
        written = text[span.start:span.end]
        rule_name = variants.get(span) if variants else None
        known = self._span_names.get((written, rule_name))
        if known is None:
            known = self._span_names[written, rule_name] = self._read_span(
                text, span, written, rule_name)
        return known

    def _read_span(self, text: str, span: Span, written: str, rule_name: str | None) -> list[str]:
        if rule_name is not None:
            for name in (written, rule_name):
                if self.places_named(name):
                    return [name_key(name)]
        if written.isascii() and written.islower():
            return []  # no word opens a name (most spans: "killed", "shelling"): no lookup
        return self.names_in(text, span.start, span.end)

    def names_in(self, text: str, start: int, end: int) -> list[str]:
        """The folded place names in text[start:end], longest run of words first."""
        words = [(m.start(), m.end()) for m in _first(_WORD.finditer(text, start, end))]
        found: list[str] = []
        i = 0
        while i < len(words):
            if skipped := _not_place_run(text, words, i):
                i += skipped
                continue
            taken = self._longest_name(text, words, i) if _opens_name(text, words[i][0]) else 0
            if taken:
                found.append(name_key(text[words[i][0]:words[i + taken - 1][1]]))
            i += taken or 1
        return found

    def _longest_name(self, text: str, words: list[tuple[int, int]], first: int) -> int:
        """How many words from `first` on make the longest known place name; 0 if none."""
        last = first
        while (last + 1 < len(words) and last + 1 - first < MAX_NAME_WORDS
               and _JOINER.fullmatch(text, words[last][1], words[last + 1][0])):
            last += 1
        for end in range(last, first - 1, -1):
            if self.places_named(text[words[first][0]:words[end][1]]):
                return end - first + 1
        return 0

    def places_named(self, name: str) -> tuple[Place, ...]:
        """The places a name may be, region first then most populous: those of the first
        name of its name_key this article met."""
        key, places = self.lookups.places_named(name)
        known = self.candidates.get(key)
        if known is None:
            known = self.candidates[key] = places
        return known

    def resolve(self) -> dict[str, Place]:
        """Each name met to one place: the candidate sharing the most areas with the first
        candidates of the article's other names, then the region's, then the most populous.

        A lone word that is only an alternate name of a place abroad (Omar for Israel's
        'Omer) counts only when the article's other names are places of that country.
        The areas of all names are counted once and each name's own taken off (linear in
        the names, not quadratic)."""
        named = {key: places for key, places in self.candidates.items() if places}
        areas = {key: _areas(places[0]) for key, places in named.items()}
        countries = Counter(places[0].country for places in named.values())
        kept = {key: places for key, places in named.items()
                if not _abroad_alias(key, places[0]) or countries[places[0].country] > 1}
        area_count = Counter(area for key in kept for area in areas[key])
        chosen: dict[str, Place] = {}
        for key, places in kept.items():
            own = areas[key]
            chosen[key] = max(
                enumerate(places),
                key=lambda pair: (_shared(_areas(pair[1]), own, area_count), -pair[0]),
            )[1]
        return chosen

    def described(
        self, keys: tuple[str, ...], chosen: Mapping[str, Place]
    ) -> tuple[MatchPlace, ...]:
        """The places of some names (`resolve`'s choice), each once in the order met,
        MAX_PLACES at most; the same names give the same places again."""
        known = self._placed.get(keys)
        if known is None:
            places = _unique(chosen[k] for k in keys if k in chosen)
            known = self._placed[keys] = tuple(map(self.lookups.described, places))
        return known


def _opens_name(text: str, at: int) -> bool:
    """A place name begins with a capital letter, or a letter of a script without case."""
    char = text[at]
    return char.isupper() or (char.isalpha() and char.lower() == char.upper())


def _name_forms(text: str) -> list[str]:
    """A mention as written, then without a possessive or plural ending (*Syrias*,
    *Syrians*), then without a demonym ending (*Syrian*, *Iraqi*)."""
    stems = [text] + [text[:-len(ending)] for ending in PLURAL_ENDINGS
                      if text.endswith(ending) and len(text) - len(ending) >= MIN_STEM_LETTERS]
    return stems + [stem[:-1] for stem in stems
                    if stem.endswith(DEMONYM_ENDINGS) and len(stem) - 1 >= MIN_STEM_LETTERS]


def _first(found: Iterable[re.Match[str]]) -> list[re.Match[str]]:
    """The first MAX_SPAN_WORDS words found: a span is read no further."""
    return [m for _, m in zip(range(MAX_SPAN_WORDS), found, strict=False)]


# The runs that are no place's name by their number of words, and the words they begin with.
_NOT_PLACE_RUN_KEYS: dict[int, set[str]] = {}
for _run in NOT_PLACE_RUNS:
    _NOT_PLACE_RUN_KEYS.setdefault(len(_WORD.findall(_run)), set()).add(name_key(_run))
_NOT_PLACE_RUN_OPENERS = frozenset(fold(_WORD.findall(run)[0]) for run in NOT_PLACE_RUNS)


def _not_place_run(text: str, words: list[tuple[int, int]], first: int) -> int:
    """How many words from `first` on make a run that is no place's name (NOT_PLACE_RUNS:
    *Al Mayadeen TV*); 0 if none."""
    if fold(text[words[first][0]:words[first][1]]) not in _NOT_PLACE_RUN_OPENERS:
        return 0
    for size, keys in _NOT_PLACE_RUN_KEYS.items():
        end = first + size
        if end <= len(words) and name_key(text[words[first][0]:words[end - 1][1]]) in keys:
            return size
    return 0


def _is_acronym(word: str) -> bool:
    """A short all-capital word (SANA, ISIS): an acronym more often than a place."""
    return word.isupper() and len(word) <= MAX_ACRONYM_LETTERS


def _abroad_alias(key: str, place: Place) -> bool:
    """A one-word name that is only an alternate name of a place outside Syria and Iraq
    (not a country): Omar of Israel's 'Omer, Hamas of Germany's Hamm."""
    return (" " not in key and REGION_RANK.get(place.country, 0) < HOME_RANK
            and name_key(place.name) != key and place.kind != "country")


def _shared(candidate: set[str], own: set[str], area_count: Counter[str]) -> int:
    """How many of a candidate's areas the article's other names point to: those counted
    for some name besides this one's own first candidate."""
    return sum(1 for area in candidate if area_count[area] - (area in own) > 0)


def _areas(place: Place) -> set[str]:
    return {place.id, *place.parents}


def _unique(places: Iterable[Place]) -> list[Place]:
    """Each place once, in the order first met, MAX_PLACES at most."""
    return list({place.id: place for place in places}.values())[:MAX_PLACES]


@dataclass(frozen=True)
class VariantTerms:
    """A rule's `~Name` terms, found once per rule: each compiled sequence with its place
    in the walk of the query (`variant_terms`) and its Name as the rule writes it.

    Per match only the sequences that occur are read (an @list of hundreds of names
    usually has a few in an article), in walk order, so a term range two terms share keeps
    the Name of the later one."""

    # sequence -> (place in walk order, Name, its compiled node: plans are kept by node)
    by_seq: Mapping[int, tuple[int, str, CNode]]
    seqs: frozenset[int]
    others: tuple[tuple[int, str, CNode], ...] = ()  # `~Name`s not compiled to one term

    @property
    def none(self) -> bool:
        """Whether the rule has no `~Name` term at all (most rules): nothing to read."""
        return not self.seqs and not self.others

    def names(
        self, occurring: Callable[[frozenset[int]], set[int]],
        ranges_of: Callable[[CNode], set[TermRange] | None],
    ) -> dict[TermRange, str]:
        """The occurrences of the terms, each with its Name; `occurring`: which of some
        sequences occur in the article; `ranges_of`: a node's term ranges (None: false)."""
        found: dict[TermRange, str] = {}
        chosen = [self.by_seq[seq] for seq in occurring(self.seqs)]
        for _, name, node in sorted(chosen + list(self.others), key=lambda term: term[0]):
            for term_range in ranges_of(node) or ():
                found[term_range] = name
        return found


class ArticleVariants:
    """The `~Name` spans of one article's matches. Rules share their `~Name` terms (the
    compiler keeps one node per distinct term), so each term's spans are found once per
    article for all of them."""

    def __init__(
        self, occurring: Callable[[frozenset[int]], set[int]],
        ranges_of: Callable[[CNode], set[TermRange] | None],
        span_of: Callable[[TermRange], Span],
    ) -> None:
        """`occurring` and `ranges_of` as VariantTerms.names takes them, for this article;
        `span_of`: a term range's span in the article's text."""
        self._occurring = occurring
        self._ranges_of = ranges_of
        self._span_of = span_of
        self._ranges: dict[int, set[TermRange] | None] = {}  # by id of a node the index keeps
        self._spans: dict[TermRange, Span] = {}

    def spans(self, terms: VariantTerms) -> dict[Span, str]:
        """The spans of a rule's `~Name` terms, each with its Name."""
        if terms.none:
            return {}
        names = terms.names(self._occurring, self._node_ranges)
        found = {}
        for term_range, name in names.items():
            span = self._spans.get(term_range)
            if span is None:
                span = self._spans[term_range] = self._span_of(term_range)
            found[span] = name
        return found

    def _node_ranges(self, node: CNode) -> set[TermRange] | None:
        key = id(node)
        if key not in self._ranges:
            self._ranges[key] = self._ranges_of(node)
        return self._ranges[key]


def variant_terms(query: Query, compiled: CNode) -> VariantTerms:
    """A rule's `~Name` terms, walking its syntax tree beside the compiled query.

    The compiled query mirrors the rule's syntax tree; where the two part (a form compiled
    otherwise) the walk stops there, and those spans are read as written. A term met again
    keeps its last place: a range of it is named by the last term of the walk holding it."""
    walked: list[tuple[CNode, str]] = []
    _walk_variants(query, compiled, walked)
    by_seq: dict[int, tuple[int, str, CNode]] = {}
    others: dict[CNode, tuple[int, str, CNode]] = {}
    for place, (node, name) in enumerate(walked):
        if isinstance(node, CTerm):
            by_seq[node.seq] = (place, name, node)
        else:
            others[node] = (place, name, node)
    return VariantTerms(by_seq, frozenset(by_seq), tuple(others.values()))


def _walk_variants(query: Query, compiled: CNode, found: list[tuple[CNode, str]]) -> None:
    match query, compiled:
        case Term(kind="variant", text=name), _:
            found.append((compiled, name))
        case (And(children), CAnd(compiled_children)) | (Or(children), COr(compiled_children)):
            for child, compiled_child in zip(children, compiled_children, strict=False):
                _walk_variants(child, compiled_child, found)
        case InField(_, child), CField(_, compiled_child):
            _walk_variants(child, compiled_child, found)
        case Near(left, right), CNear(compiled_left, compiled_right):
            _walk_variants(left, compiled_left, found)
            _walk_variants(right, compiled_right, found)
        case NotIn(include, _), CNotIn(compiled_include, _):
            _walk_variants(include, compiled_include, found)  # the right side is no span
