"""Context of a match's mentions: is the event historical, ended, negated or hypothetical,
or are they page furniture (boilerplate)?

A ConText-style reader written for news. Trigger phrases label the mentions within a
bounded scope after them (forward), before them (backward) or on either side (both),
never past their sentence, a clause break (`;`, `:`, a dash, a bracket) or a terminator
("but", "however"); pseudo-triggers look like triggers but are none ("not only"), and at
each word the longest phrase wins. Dates clearly before the article's publication ("in
2014" in an article of 2017, "on March 17" in one of April 8) are historical triggers.

The trigger lists are data (watcher/engine/data/context.yaml, extended by the file that
watcher.yaml's `context.triggers` names; read by watcher/engine/context_triggers.py), and so
are the words around a date that make it a start (DateRules) and those of the "whether"
alternative (Alternatives); the date reader's English (month names, ordinals) is code.
Pure: it reads the analysed words the engine already has, only the sentences holding a
match's mentions (or the earlier sentence one repeats word for word), each once per article.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from datetime import date
from typing import NamedTuple

import numpy as np

from watcher.engine.context_trigger_lists import (
    MAX_SCOPE,
    TRIGGER_DIRECTIONS,
    Alternatives,
    DateRules,
    Entry,
    Triggers,
)
from watcher.engine.evaluation import Sentence
from watcher.engine.positional import TermRange
from watcher.model import CONTEXT_LABELS, ContextLabel, ContextLabelName
from watcher.text.analysis import (
    LIST_SEPARATORS,
    AnalysedText,
    FieldText,
    WordType,
)

__all__ = ["ContextLexicon", "ContextReader"]

LABELS = CONTEXT_LABELS
# A date this many days or more before publication is history, not today's news: reports
# of the last days ("on Tuesday", "on March 3" in an article of March 5) are the news.
HISTORICAL_DAYS = 14
# A sentence this long or longer that repeats the end of an earlier one is read there; a
# shorter one ("He said.", "Fighting continued.") may repeat by chance.
MIN_REPEAT = 6  # words
DATE_SCOPE = 8  # words on either side of a past date (its clause when it opens the sentence)
# The date reader's English stays here (month names, the words that make "may" a month,
# ordinals); what a date's words around it say (it starts something ongoing, a present
# perfect ends its scope) and the "whether" alternative are data (DateRules, Alternatives).
MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
MONTHS |= {f"{name}.": number for name, number in list(MONTHS.items())
           if len(name) <= 4 and name != "may"}  # "Sept. 22", as spaCy keeps the period
# Months that are also ordinary words: a month only beside a day or year, or after these.
AMBIGUOUS_MONTHS = frozenset({"may", "march", "jan", "mar", "sep", "dec"})
MONTH_LEADS = frozenset({"in", "early", "late", "mid", "since", "until", "on", "by", "of",
                         "last", "this", "between", "from", "during", "through"})
ORDINAL_ENDINGS = ("st", "nd", "rd", "th")
# ContextLexicon's years after which a word may be a cue: a trigger's anchor is one even in
# an article without a publication date (year -1), other words never (a year is at most 2100).
ALWAYS_A_CUE, NEVER_A_CUE = -2, np.iinfo(np.int16).max
YEARS_KEPT = 8  # publication years whose cue words ContextLexicon keeps (few: recent news)

Carried = dict[ContextLabelName, list[str]]  # a sentence's labels with their cue words
Stop = frozenset[ContextLabelName] | None  # the labels a terminator ends (None: every one)
Mentions = list[TermRange]  # the terms (field, first word, last word) in one sentence
# Finds the sentences stating a match's event (Evaluator.evidence): asked only when a
# match's words are in more than one sentence, where it decides which of them are read.
Evidence = Callable[[], Set[Sentence]]


def no_evidence() -> Set[Sentence]:
    """No sentence known to state the event: every sentence holding a match's word is read."""
    return frozenset()


class ContextLexicon:
    """Per word type of one analyser, from which publication year on a trigger or a past
    date can start at it: learnt once per type, so an article's words that may be cues are
    found in one array lookup and a sentence is searched only at those few."""

    def __init__(self, triggers: Triggers, types: list[WordType]) -> None:
        self.triggers = triggers
        self.types = types
        self.known = 0  # types learnt; the arrays below have room for more (_room)
        self._folded = np.zeros(0, dtype=object)  # of each type (an array: read by slices)
        # Per type: the word may start a cue in an article published after this year.
        self._cue_after_year = np.zeros(0, dtype=np.int16)
        # Per publication year (-1: unknown), whether each type may start a cue.
        self._cues_by_year: dict[int, np.ndarray] = {}

    def anchors(self, type_indexes: np.ndarray, published: date | None) -> list[int]:
        """Positions in `type_indexes` of the words a cue of an article published on
        `published` (None: unknown) may be found by: a trigger's anchor always, a month when
        the date is known, a year when it is before the publication's."""
        self.learn()
        year = -1 if published is None else published.year
        cues = self._cues_by_year.get(year)
        if cues is None:
            if len(self._cues_by_year) >= YEARS_KEPT:
                self._cues_by_year.clear()
            cues = self._cues_by_year[year] = self._cue_after_year < year
        return cues.take(type_indexes).nonzero()[0].tolist()

    def words(self, type_indexes: np.ndarray) -> list[str]:
        """The folded words of these types (a sentence's, to find its cues in)."""
        self.learn()
        return self._folded[type_indexes].tolist()

    def learn(self) -> None:
        """Catch up with the word types the analyser met since."""
        known, total = self.known, len(self.types)
        if known == total:
            return
        new = [word.folded for word in self.types[known:total]]
        self._folded = _room(self._folded, total)
        self._folded[known:total] = new
        after_year = self._cue_after_year = _room(self._cue_after_year, total)
        after_year[known:total] = [self._cue_after(word) for word in new]
        for year, cues in self._cues_by_year.items():
            cues = self._cues_by_year[year] = _room(cues, total)
            cues[known:total] = after_year[known:total] < year
        self.known = total

    def _cue_after(self, word: str) -> int:
        """The year after which articles may have a cue at the word (see `anchors`)."""
        if word in self.triggers.anchors:
            return ALWAYS_A_CUE
        if word in MONTHS:
            return 0
        year = _year(word)
        return NEVER_A_CUE if year is None else year


def _room(array: np.ndarray, size: int) -> np.ndarray:
    """`array`, or a copy at least twice as large when it has fewer than `size` entries:
    a daemon learns a few types per article, and each is then copied a bounded number of
    times, not at every article."""
    if size <= len(array):
        return array
    grown = np.zeros(max(size, 2 * len(array)), dtype=array.dtype)
    grown[:len(array)] = array
    return grown


class Cue(NamedTuple):
    """A trigger found in a sentence, at words [first, last] of the sentence (a named tuple:
    one is made for every trigger and date found, and a tuple is the cheapest to make)."""

    label: ContextLabelName
    direction: str
    scope: int
    first: int
    last: int
    perfect_ends: bool = False  # a present perfect ends its forward scope (DateRules)


# -- reading an article ----------------------------------------------------------------


class ContextReader:
    """Labels the mentions of matches in one analysed article; each sentence's triggers are
    found once, when a match first needs them."""

    def __init__(
        self, lexicon: ContextLexicon, text: AnalysedText,
        names_place: Callable[[str], bool] | None = None,
        sentence_numbers: Callable[[int], list[int]] | None = None,
    ) -> None:
        """`names_place`: whether a mention's text names a place (the engine's Locator);
        without it every sentence holding a mention is read. `sentence_numbers`: each word's
        sentence number in a field as a list, where the caller holds them already (the
        engine's Evaluator.unit_numbers, read for NEAR/s and the evidence); without it they
        are read from the text."""
        self.lexicon = lexicon
        self.names_place = names_place
        self._numbers_of = sentence_numbers or self._read_numbers
        published = text.article.published
        self.published = published.date() if published is not None else None
        self._sentences: dict[Sentence, _Sentence | None] = {}
        self._fields = text.fields()
        self._cues: list[_FieldCues | None] = [None, None]  # per field, when first needed
        self._numbers: list[list[int] | None] = [None, None]  # per field, when first needed
        self._leads: dict[Sentence, int | None] = {}  # (field, sentence's first word)
        self._copies: dict[Sentence, tuple[Sentence, int]] = {}  # _copied_from's

    def labels(
        self, terms: Iterable[TermRange], evidence: Evidence = no_evidence,
        exclude: Set[ContextLabelName] = frozenset(),
    ) -> tuple[ContextLabel, ...]:
        """The labels every sentence that states the event carries, with their cue words.

        `evidence`: the sentences (field, number) where the query holds on its own (one of
        its NEARs with both sides in the sentence). When a mention lies in one, only those
        sentences are read: a sentence that merely names the place again says nothing of
        the event. Otherwise (a NEAR/p, a NEAR across a sentence's end) the sentences
        holding a mention that names no place are read, or every sentence holding a
        mention when each names one (`names_place`). A sentence carries a
        label when a trigger's scope reaches one of its mentions (the place may sit outside
        the scope while the event word is inside). Every sentence read must carry it, so
        one plain report of the event keeps the match unlabelled.

        `exclude`: the labels that hold the match back. When every sentence read carries
        one of them, though not the same one (a recalled date in one, a list of related
        headlines in the other), no sentence states the event plainly: those labels are
        returned too, each with the cues of the sentences that carry it.

        `evidence` may be a function that finds those sentences: it is called only when the
        mentions lie in more than one sentence (the one sentence holding them all is read,
        whichever states the event).
        """
        grouped = self._by_sentence(terms, evidence)
        if grouped is None:
            return ()  # a sentence stating the event can carry no label: none holds
        read = self._read_for(*grouped)
        if any(self._plain(key) for key, _ in read):
            return ()  # a plain sentence that tells of the event: no label can hold
        labelled: list[tuple[Sentence, Mentions, Carried]] = []
        for key, mentions in read:
            carried = self._carried(key, mentions)
            if not carried:
                return ()  # a sentence read that tells of the event plainly
            labelled.append((key, mentions, carried))
        carried_by = [carried for _, _, carried in labelled]
        if not carried_by:
            return ()
        found = {label: cues for label, cues in _cues_of(carried_by).items()
                 if all(label in carried for carried in carried_by)}
        if exclude and all(exclude & carried.keys() for carried in carried_by):
            found |= {label: cues for label, cues in _cues_of(carried_by).items()
                      if label in exclude}
        return tuple(
            ContextLabel(label, tuple(found[label])) for label in LABELS if label in found
        )

    def _read_for(
        self, by_sentence: dict[Sentence, Mentions], stating: Set[Sentence] | None
    ) -> list[tuple[Sentence, Mentions]]:
        """The sentences whose labels decide, in order, with their mentions: those stating
        the event (in `stating`, None when the mentions lie in one sentence: it is read
        whichever states the event) when some do; else those that tell what happened (a
        mention in them names no place), or every one when each only says where."""
        if stating is None:
            return list(by_sentence.items())
        stated = [(key, mentions) for key, mentions in by_sentence.items() if key in stating]
        if stated:
            return sorted(stated)
        telling = [(key, mentions) for key, mentions in by_sentence.items()
                   if not self._places_only(key, mentions)]
        return sorted(telling or by_sentence.items())

    def _by_sentence(
        self, terms: Iterable[TermRange], evidence: Evidence
    ) -> tuple[dict[Sentence, Mentions], Set[Sentence] | None] | None:
        """The terms in each sentence (field, number), and the sentences stating the event
        (`evidence`, found once a second sentence holds a term: with one, that sentence is
        read whichever states it); None as soon as a sentence holding a term states the
        event and can carry no label (then no label holds)."""
        by_sentence: dict[Sentence, Mentions] = {}
        stating: Set[Sentence] | None = None
        numbers: list[int] = []
        numbers_field = -1  # the field `numbers` are of
        for term in terms:
            field_no = term[0]
            if field_no != numbers_field:
                numbers, numbers_field = self._sentence_numbers(field_no), field_no
            key = (field_no, numbers[term[1]])
            mentions = by_sentence.get(key)
            if mentions is None:
                if by_sentence:  # a second sentence: which of them states the event decides
                    if stating is None:
                        stating = evidence()
                        if self._states_plainly(next(iter(by_sentence)), stating):
                            return None
                    if self._states_plainly(key, stating):
                        return None
                mentions = by_sentence[key] = []
            mentions.append(term)
        return by_sentence, stating

    def _states_plainly(self, key: Sentence, stating: Set[Sentence]) -> bool:
        """Whether the sentence states the event and can carry no label."""
        return key in stating and self._plain(key)

    def _first_copy(self, key: Sentence) -> tuple[Sentence, int]:
        """Where the sentence first stood, and how far back its words stand there, when it
        repeats the end of an earlier sentence of its field word for word (else itself and
        0): a flattened page repeats a timeline's entries or a caption without the date or
        words before them, and the copy says no more than the first ("January 2015 Kurdish
        fighters oust IS from Kobane", then "Kurdish fighters oust IS from Kobane")."""
        copy = self._copies.get(key)
        if copy is None:
            copy = self._copies[key] = self._copied_from(key)
        return copy

    def _copied_from(self, key: Sentence) -> tuple[Sentence, int]:
        """The earlier sentence whose end the sentence repeats character for character, not
        page furniture (a related headline that repeats the story's sentence is no first
        place for it), and the shift of its words there; else the sentence itself and 0.
        Found by a search of the text before it, so a sentence that repeats none costs a
        string search."""
        field_no, number = key
        numbers = self._sentence_numbers(field_no)
        first, end = bisect_left(numbers, number), bisect_right(numbers, number)
        if end - first < MIN_REPEAT or first < MIN_REPEAT:
            return key, 0  # too short to be a copy, or nothing long enough before it
        field = self._fields[field_no]
        starts, ends = field.starts, field.ends
        begin = starts.item(first)
        own = field.text[begin:ends.item(end - 1)]
        found = field.text.find(own, 0, begin)
        while found >= 0:
            at = int(np.searchsorted(starts, found))  # the word the copy would begin at there
            last = at + end - 1 - first
            if at < first and starts.item(at) == found and ends.item(last) == found + len(own) \
                    and numbers[at] == numbers[last] and numbers[last + 1] != numbers[last] \
                    and self._furniture_lead(field_no, numbers, bisect_left(
                        numbers, numbers[at])) is None:
                return (field_no, numbers[at]), at - first
            found = field.text.find(own, found + 1, begin)
        return key, 0

    def _sentence_numbers(self, field_no: int) -> list[int]:
        numbers = self._numbers[field_no]
        if numbers is None:
            numbers = self._numbers[field_no] = self._numbers_of(field_no)
        return numbers

    def _read_numbers(self, field_no: int) -> list[int]:
        return self._fields[field_no].sentence.tolist()

    def _places_only(self, key: Sentence, mentions: Mentions) -> bool:
        """Whether every mention in the sentence names a place (*Syrian*, *Deir ez-Zor*):
        such a sentence says where, not what happened."""
        if self.names_place is None:
            return False
        field = self._fields[key[0]]
        return all(self.names_place(_text_of(field, first, last)) for _, first, last in mentions)

    def _carried(
        self, key: Sentence, mentions: Mentions
    ) -> dict[ContextLabelName, list[str]]:
        """The labels one sentence carries for its mentions: its triggers' and dates', and
        `boilerplate` when they all lie in page furniture (the sentence begins with a lead
        word, and they come before the story's own words start: FieldText.furniture_end)."""
        sentence = self._sentence(key)
        if sentence is None:
            first, shift = self._first_copy(key)
            if first == key:
                return {}
            sentence = self._sentence(first)
            mentions = [(field_no, low + shift, high + shift) for field_no, low, high in mentions]
        return {} if sentence is None else sentence.carried(mentions)

    def _plain(self, key: Sentence) -> bool:
        """Whether the sentence can carry no label: no cue word nor page furniture in it,
        nor where it first stood when it repeats an earlier sentence (_first_copy)."""
        if self._sentence(key) is not None:
            return False
        first, _ = self._first_copy(key)
        return first == key or self._sentence(first) is None

    def _sentence(self, key: Sentence) -> _Sentence | None:
        """The sentence (field, number), read when a match first needs it; None when it
        can carry no label (no word of it that a cue is found by, no page furniture opening
        it): most sentences, told apart by a bisection and a word's lookup."""
        known = self._sentences.get(key, False)
        if known is not False:
            return known
        field_no, number = key
        field = self._fields[field_no]
        numbers = self._sentence_numbers(field_no)
        first = bisect_left(numbers, number)
        anchors, has_leads = self._field_cues(field_no)
        next_anchor = bisect_left(anchors, first)
        cued = next_anchor < len(anchors) and numbers[anchors[next_anchor]] == number
        lead = self._furniture_lead(field_no, numbers, first) if has_leads else None
        sentence = None
        if cued or lead is not None:
            end = bisect_right(numbers, number, first)
            in_sentence = anchors[next_anchor:bisect_left(anchors, end, next_anchor)]
            sentence = _Sentence(self, field, first, end, [i - first for i in in_sentence], lead)
        self._sentences[key] = sentence
        return sentence

    def _furniture_lead(self, field_no: int, numbers: list[int], first: int) -> int | None:
        """The lead word of the page furniture the sentence starting at word `first` is
        (FieldText.lead_at), else None. A bar `|` ends a sentence, so the items of a link
        list after "Related" are sentences of their own ("Related News Iraqs vote
        violations | The global gag rule | Syrian regime attacks kill 16 ..."): a sentence a
        bar splits off furniture that runs to the bar is furniture of the same lead. Each
        sentence walked over keeps the answer, so a long list is walked once."""
        field, leads = self._fields[field_no], self._leads
        walked: list[int] = []
        lead: int | None = None
        while (field_no, first) not in leads:
            walked.append(first)
            if field.lead_at(first):
                lead = first
                break
            if first == 0 or not set(_between(field, first - 1, first)) & LIST_SEPARATORS:
                break
            before = bisect_left(numbers, numbers[first - 1])
            if field.furniture_end(before, first) < first:
                break  # the story began before the bar
            first = before
        else:
            lead = leads[field_no, first]
        for sentence_first in walked:
            leads[field_no, sentence_first] = lead
        return lead

    def _field_cues(self, field_no: int) -> _FieldCues:
        """Where the field's cues may be, found in one step when its first sentence is read."""
        found = self._cues[field_no]
        if found is None:
            field = self._fields[field_no]
            found = self._cues[field_no] = _FieldCues(
                self.lexicon.anchors(field.types, self.published), field.has_leads()
            )
        return found


class _FieldCues(NamedTuple):
    """Where a field's cues may be: the words a trigger or a date is found by (from
    ContextLexicon), and whether a boilerplate lead word is anywhere in it."""

    anchors: list[int]
    has_leads: bool


class _Furniture(NamedTuple):
    """Page furniture that opens a sentence: its lead words as written (`Related`), and the
    field word where the story's own words start again (FieldText.furniture_end)."""

    lead: str
    end: int


class _Sentence:
    """One sentence's words, clauses, triggers and page furniture, found once per article
    and shared by every match with a mention in it; its words and triggers are read when a
    mention in it is first looked at."""

    # Slots: one is made for every sentence of a match's mention that a cue may be in.
    __slots__ = ("field", "first", "end", "lead", "furniture", "triggers", "stops", "exempt",
                 "offsets", "words", "cues", "scopes", "_unread")

    def __init__(
        self, reader: ContextReader, field: FieldText, first: int, end: int,
        anchors: list[int], lead: int | None,
    ) -> None:
        """`anchors`: the words a trigger or a date is found by (from the sentence's first);
        without any, the sentence's words are not read. `lead`: the field word of the
        boilerplate lead word (FieldText.lead_at) of the page furniture it is part of."""
        self.field = field
        self.first, self.end = first, end
        self.lead = lead
        self.furniture: _Furniture | None = None
        self.triggers = reader.lexicon.triggers
        self.stops: dict[int, Stop] | None = None  # terminators, by word
        self.exempt: set[tuple[int, ContextLabelName]] = set()  # (word, label it is exempt of)
        self.offsets: tuple[list[int], list[int]] | None = None  # the words' starts, ends
        self.words: list[str] = []
        self.cues: list[Cue] = []
        # Each cue's scope, sentence positions [low, high], found when a mention is near.
        self.scopes: list[tuple[int, int] | None] = []
        self._unread: tuple[ContextReader, list[int]] | None = (reader, anchors)

    def _read(self, reader: ContextReader, anchors: list[int]) -> None:
        """The sentence's furniture, words and cues, when a mention in it is first looked at."""
        field, first, end = self.field, self.first, self.end
        if self.lead is not None:
            self.furniture = _Furniture(
                field.lead_words(self.lead), field.furniture_end(first, end)
            )
        if anchors:
            self.words = reader.lexicon.words(field.types[first:end])
            self.cues = self._find_cues(self.triggers, anchors, reader.published)
            self.scopes = [None] * len(self.cues)

    def _find_stops(self) -> dict[int, Stop]:
        """Terminators by position, with the labels they end (None: every label's; a word
        may end several, "in" a user's `hypothetical` as well as `negated`); a word of a
        trigger found is not one. Notes the words of exempt phrases in `exempt` on the way."""
        phrases, stop_lengths, words = self.triggers.phrases, self.triggers.stop_lengths, self.words
        inside = {i for cue in self.cues for i in range(cue.first, cue.last + 1)}
        stops: dict[int, Stop] = {}
        for i, word in enumerate(words):
            lengths = stop_lengths.get(word)
            if lengths is None or i in inside:
                continue
            for length in lengths:
                if i + length > len(words):
                    continue
                entries = phrases.get(tuple(words[i:i + length]), ())
                labels = [e.label for e in entries if e.direction == "terminate"]
                if labels:
                    stops[i] = None if None in labels else frozenset(labels)
                exempt = [e.label for e in entries if e.direction == "exempt" and e.label]
                self.exempt.update((at, label) for label in exempt for at in range(i, i + length))
                if labels or exempt:
                    break
        return stops

    def _find_cues(
        self, triggers: Triggers, anchors: list[int], published: date | None
    ) -> list[Cue]:
        """Triggers and past dates, left to right, the longest phrase winning at each word
        (a date before a phrase of the same length). `anchors` are the words a phrase or a
        date is found by: a phrase's longest word, a month or a year."""
        words = self.words
        found: list[tuple[int, int, int, tuple[Entry, ...] | bool]] = []
        for anchor in anchors:
            word = words[anchor]
            if word in MONTHS or _year(word) is not None:
                start = anchor - 1 if anchor and _day(words[anchor - 1]) is not None else anchor
                dated = _date_at(words, start, published, triggers.dates)
                if dated is not None:
                    found.append((start, -dated[0], 0, dated[1]))
            for offset, length in triggers.anchors.get(word, ()):
                start = anchor - offset
                if start < 0 or start + length > len(words):
                    continue  # the phrase would run past the sentence
                entries = triggers.phrases.get(tuple(words[start:start + length]))
                if entries and not self._month_named(start):
                    found.append((start, -length, 1, entries))
        cues: list[Cue] = []
        taken = 0  # words before `taken` belong to a phrase found
        for start, negative_length, _, what in sorted(found, key=lambda f: f[:3]):
            if start < taken:
                continue
            taken = start - negative_length
            if what is True:
                fronted = _fronted(words, start)
                cues.append(Cue("historical", "both", MAX_SCOPE if fronted else DATE_SCOPE,
                                start, taken - 1, perfect_ends=not fronted))
            elif isinstance(what, tuple):
                self._note(what, start, taken - start, cues)
        return cues

    def _month_named(self, position: int) -> bool:
        """Whether the word is a month's name written as one inside the sentence: *May*
        there is the month ("agreed at May peace talks"), *may* the modal."""
        field = self.field
        if position == 0 or self.words[position] not in MONTHS:
            return False
        at = self.first + position
        word = field.text[field.starts.item(at):field.ends.item(at)]
        after = field.text[field.starts.item(at + 1)] if position + 1 < len(self.words) else ""
        # In a Title Case or capitals headline ("Warplanes May Strike Aleppo") it is the modal.
        return word[0].isupper() and not word.isupper() and not after.isupper()

    def _note(self, entries: tuple[Entry, ...], i: int, length: int, cues: list[Cue]) -> None:
        alternatives = self.triggers.alternatives
        if tuple(self.words[i:i + length]) in alternatives.leads \
                and _alternative_after(self.words, i + length, alternatives):
            return
        for entry in entries:
            if entry.direction in TRIGGER_DIRECTIONS and entry.label is not None:
                cues.append(Cue(entry.label, entry.direction, entry.scope, i, i + length - 1))

    def carried(self, mentions: Mentions) -> dict[ContextLabelName, list[str]]:
        """The labels the sentence carries for these mentions (see ContextReader._carried)."""
        if self._unread is not None:
            self._read(*self._unread)
            self._unread = None
        carried = self._labels(mentions)
        furniture = self.furniture
        if furniture is not None and all(last < furniture.end for _, _, last in mentions):
            carried["boilerplate"] = [furniture.lead]
        return carried

    def _labels(self, mentions: Mentions) -> dict[ContextLabelName, list[str]]:
        """Labels whose triggers reach a mention (field word positions), with cue words."""
        found: dict[ContextLabelName, list[str]] = {}
        if not self.cues:
            return found
        near = [(first - self.first, last - self.first) for _, first, last in mentions]
        for n, cue in enumerate(self.cues):
            if not any(first <= cue.last + cue.scope and last >= cue.first - cue.scope
                       for first, last in near):
                continue  # out of reach whatever the clause
            if any(first <= cue.last and last >= cue.first for first, last in near):
                continue  # the match's own word ("urged ... to evacuate"): the event, no cue
            scope = self.scopes[n]
            if scope is None:
                scope = self.scopes[n] = self._scope(cue)
            low, high = scope
            if any(first <= high and last >= low and not self._exempt(cue.label, first, last)
                   for first, last in near):
                cues = found.setdefault(cue.label, [])
                words = self._text(cue)
                if words not in cues:
                    cues.append(words)
        return found

    def _scope(self, cue: Cue) -> tuple[int, int]:
        """Sentence word positions [low, high] the cue reaches, within its clause."""
        low, high = cue.last + 1, cue.first - 1  # empty unless a direction widens it
        if cue.direction in ("forward", "both"):
            high = cue.last
            while high + 1 < len(self.words) and high + 1 - cue.last <= cue.scope \
                    and not self._clause_break(high + 1) and self._reaches(cue, high + 1) \
                    and not (cue.perfect_ends and self._present_perfect_at(high + 1)):
                high += 1
        if cue.direction in ("backward", "both"):
            low = cue.first
            while low - 1 >= 0 and cue.first - (low - 1) <= cue.scope \
                    and not self._clause_break(low) and self._reaches(cue, low - 1):
                low -= 1
        return low, high

    def _exempt(self, label: ContextLabelName, first: int, last: int) -> bool:
        """Whether every word of a mention is one the label's exempt phrases name."""
        if self.stops is None:
            self.stops = self._find_stops()
        return all((at, label) in self.exempt for at in range(first, last + 1))

    def _present_perfect_at(self, position: int) -> bool:
        dates, words = self.triggers.dates, self.words
        for length in dates.present_perfect_lengths:  # a loop: asked at each word in scope
            if tuple(words[position:position + length]) in dates.present_perfect:
                return True
        return False

    def _clause_break(self, position: int) -> bool:
        """Whether punctuation between this word and the one before breaks the clause."""
        if self.offsets is None:  # read once, when a cue's scope is first needed
            field, first, end = self.field, self.first, self.end
            self.offsets = field.starts[first:end].tolist(), field.ends[first:end].tolist()
        starts, ends = self.offsets
        between = self.field.text[ends[position - 1]:starts[position]]
        return not self.triggers.clause_breaks.isdisjoint(between)

    def _reaches(self, cue: Cue, position: int) -> bool:
        """Whether the cue's scope reaches this word: it is no terminator of the cue's (a
        negation's own one right after it is none: Triggers.governs_next_word)."""
        if self.stops is None:
            self.stops = self._find_stops()
        stop = self.stops.get(position, False)
        if stop is False or (stop is not None and cue.label not in stop):
            return True
        return stop is not None and position == cue.last + 1 \
            and cue.label in self.triggers.governs_next_word

    def _text(self, cue: Cue) -> str:
        field = self.field
        return _text_of(field, self.first + cue.first, self.first + cue.last)


def _alternative_after(words: Sequence[str], start: int, alternatives: Alternatives) -> bool:
    """Whether an "or" after a few words of no clause (its `clause_words`), not "or not" nor
    one before a future (its `future_words`), follows `start`: an alternative between two
    names, not between an event and none, nor about an event still to come."""
    for at in range(start, min(start + alternatives.reach + 1, len(words) - 1)):
        if words[at] in alternatives.clause_words:
            return False
        if words[at] == "or":
            return at > start and words[at + 1] != "not" \
                and not _future_after(words, at + 1, alternatives)
    return False


def _future_after(words: Sequence[str], start: int, alternatives: Alternatives) -> bool:
    """Whether a future word or modal (`future_words`) is among the few words from `start`."""
    return not alternatives.future_words.isdisjoint(
        words[start:start + alternatives.future_reach]
    )


def _cues_of(
    carried_by: Sequence[Mapping[ContextLabelName, list[str]]]
) -> dict[ContextLabelName, list[str]]:
    """Each label carried by any of the sentences, with their cue words in order, once."""
    found: dict[ContextLabelName, list[str]] = {}
    for carried in carried_by:
        for label, cues in carried.items():
            known = found.setdefault(label, [])
            known.extend(cue for cue in cues if cue not in known)
    return found


def _between(field: FieldText, word: int, after: int) -> str:
    """The text between the field's word `word` and the word `after` it."""
    return field.text[int(field.ends[word]):int(field.starts[after])]


def _text_of(field: FieldText, first: int, last: int) -> str:
    """The text of the field's words first..last."""
    return field.text[field.starts.item(first):field.ends.item(last)]


# -- dates -----------------------------------------------------------------------------


def _date_at(
    words: Sequence[str], i: int, published: date | None, dates: DateRules
) -> tuple[int, bool] | None:
    """A date starting at word i: (its length in words, whether it is clearly before
    `published`), or None when no date starts here. Without `published` no date is past,
    nor after one of the `ongoing` phrases of `dates`."""
    parsed = _parse_date(words, i)
    if parsed is None:
        return None
    length, year, month, day = parsed
    if published is None or _ongoing(words, i, dates):
        return length, False
    if month is None:
        return length, year is not None and year < published.year
    if year is None:
        if month > published.month:  # later this year, or last year: unknown
            return length, False
        year = published.year
    last_day = day or calendar.monthrange(year, month)[1]
    try:
        when = date(year, month, last_day)
    except ValueError:
        return length, False
    return length, (published - when).days >= HISTORICAL_DAYS


def _ongoing(words: Sequence[str], i: int, dates: DateRules) -> bool:
    """Whether an `ongoing` phrase ends within its reach before the date at word i."""
    ongoing = dates.ongoing
    return any(
        ongoing.get(tuple(words[max(0, at + 1 - length):at + 1]), 0) >= i - at
        for at in range(max(0, i - dates.ongoing_reach), i) for length in dates.ongoing_lengths
    )


def _parse_date(
    words: Sequence[str], i: int
) -> tuple[int, int | None, int | None, int | None] | None:
    """(length, year, month, day) of "2014", "March 17", "17 March 2016", "July 2012"."""
    day = _day(words[i])
    at = i + 1 if day is not None and i + 1 < len(words) and words[i + 1] in MONTHS else i
    month = MONTHS.get(words[at])
    if month is None:
        year = _year(words[i])
        return (1, year, None, None) if year is not None else None
    after = at + 1
    if day is None and after < len(words):
        day = _day(words[after])
        after += day is not None
    year = _year(words[after]) if after < len(words) else None
    after += year is not None
    if words[at] in AMBIGUOUS_MONTHS and day is None and year is None \
            and (at == 0 or words[at - 1] not in MONTH_LEADS):
        return None
    return after - i, year, month, day


def _fronted(words: Sequence[str], start: int) -> bool:
    """Whether the date at `start` opens its sentence ("On September 5 troops broke the
    blockade ...", "In 2014 ..."): a fronted time sets the time of the whole clause, not
    only of the words beside it."""
    return start == 0 or (start == 1 and words[0] in MONTH_LEADS)


def _year(word: str) -> int | None:
    return int(word) if len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2100 else None


def _day(word: str) -> int | None:
    digits = word[:-2] if word.endswith(ORDINAL_ENDINGS) else word
    if digits.isdigit() and len(digits) <= 2 and 1 <= int(digits) <= 31:
        return int(digits)
    return None
