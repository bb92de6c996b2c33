"""One sentence of an article as context labels read it (ContextSentence): its cues, their
scopes within its clauses and terminators, its page furniture; apart from the reader of the
article (context.py), which chooses the sentences a match reads and knows no sentence's inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from watcher.engine.context_dates import DATE_SCOPE, MONTHS, date_at, day_of, is_fronted, year_of
from watcher.engine.context_lexicon import ContextLexicon
from watcher.engine.context_triggers import (
    MAX_SCOPE,
    TRIGGER_DIRECTIONS,
    Alternatives,
    Entry,
    Triggers,
)
from watcher.engine.positional import TermRange
from watcher.model import ContextLabelName
from watcher.text.analysis import FieldText

__all__ = ["ContextSentence", "Mentions", "text_of"]

Stop = frozenset[ContextLabelName] | None  # the labels a terminator ends (None: every one)
Mentions = list[TermRange]  # the terms (field, first word, last word) in one sentence


class Cue(NamedTuple):
    """A trigger found in a sentence, at words [first, last] of the sentence (a named tuple:
    one is made for every trigger and date found, and a tuple is the cheapest to make)."""

    label: ContextLabelName
    direction: str
    scope: int
    first: int
    last: int
    perfect_ends: bool = False  # a present perfect ends its forward scope (DateRules)


class _Furniture(NamedTuple):
    """Page furniture that opens a sentence: its lead words as written (`Related`), and the
    field word where the story's own words start again (FieldText.furniture_end)."""

    lead: str
    end: int


class ContextSentence:
    """One sentence's words, clauses, triggers and page furniture, found once per article
    and shared by every match with a mention in it; its words and triggers are read when a
    mention in it is first looked at."""

    # Slots: one is made for every sentence of a match's mention that a cue may be in.
    __slots__ = ("field", "first", "end", "lead", "furniture", "triggers", "stops", "exempt",
                 "offsets", "words", "cues", "scopes", "_unread")

    def __init__(
        self, lexicon: ContextLexicon, published: date | None, field: FieldText, first: int,
        end: int, anchors: list[int], lead: int | None,
    ) -> None:
        """`lexicon`, `published`: the article's reader's, which its words and cues are found
        with and past dates measured from. `anchors`: the words a trigger or a date is found
        by (from the sentence's first); without any, the sentence's words are not read.
        `lead`: the field word of the boilerplate lead word (FieldText.lead_at) of the page
        furniture it is part of."""
        self.field = field
        self.first, self.end = first, end
        self.lead = lead
        self.furniture: _Furniture | None = None
        self.triggers = lexicon.triggers
        self.stops: dict[int, Stop] | None = None  # terminators, by word
        self.exempt: set[tuple[int, ContextLabelName]] = set()  # (word, label it is exempt of)
        self.offsets: tuple[list[int], list[int]] | None = None  # the words' starts, ends
        self.words: list[str] = []
        self.cues: list[Cue] = []
        # Each cue's scope, sentence positions [low, high], found when a mention is near.
        self.scopes: list[tuple[int, int] | None] = []
        self._unread: tuple[ContextLexicon, date | None, list[int]] | None = (
            lexicon, published, anchors
        )

    def _read(self, lexicon: ContextLexicon, published: date | None, anchors: list[int]) -> None:
        """The sentence's furniture, words and cues, when a mention in it is first looked at."""
        field, first, end = self.field, self.first, self.end
        if self.lead is not None:
            self.furniture = _Furniture(
                field.lead_words(self.lead), field.furniture_end(first, end)
            )
        if anchors:
            self.words = lexicon.words(field.types[first:end])
            self.cues = self._find_cues(self.triggers, anchors, published)
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
            if word in MONTHS or year_of(word) is not None:
                start = anchor - 1 if anchor and day_of(words[anchor - 1]) is not None else anchor
                dated = date_at(words, start, published, triggers.dates)
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
                fronted = is_fronted(words, start)
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
        return text_of(field, self.first + cue.first, self.first + cue.last)


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


def text_of(field: FieldText, first: int, last: int) -> str:
    """The text of the field's words first..last."""
    return field.text[field.starts.item(first):field.ends.item(last)]
