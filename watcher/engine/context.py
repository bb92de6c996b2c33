"""Context of a match's mentions: is the event historical, ended, negated or hypothetical,
or are they page furniture (boilerplate)?

A ConText-style reader written for news. Trigger phrases label the mentions within a
bounded scope after them (forward), before them (backward) or on either side (both),
never past their sentence, a clause break (`;`, `:`, a dash, a bracket) or a terminator
("but", "however"); pseudo-triggers look like triggers but are none ("not only"), and at
each word the longest phrase wins. Dates clearly before the article's publication ("in
2014" in an article of 2017, "on March 17" in one of April 8) are historical triggers.

The trigger lists are data (watcher/engine/data/context.yaml, extended by the file that
watcher.yaml's `context.triggers` names; read by context_triggers_load.py into
context_triggers.py's Triggers), and so are the words around a date that make it a start
(DateRules, read by the date reader, context_dates.py, whose English is code) and those of
the "whether" alternative (Alternatives, read by context_sentence.py).
Pure: it reads the analysed words the engine already has, only the sentences holding a
match's mentions (or the earlier sentence one repeats word for word), each once per article.

This module is the reader of one article (ContextReader): which sentences of a match are
read (the evidence, a copy's first place, a page furniture run) and the labels they all
carry. What one sentence carries is context_sentence.py's (ContextSentence: its cues,
scopes and terminators), dates are context_dates.py's, and which words may start a cue,
learnt once per word type across articles, is context_lexicon.py's (ContextLexicon).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import NamedTuple

import numpy as np

from watcher.engine.context_lexicon import ContextLexicon
from watcher.engine.context_sentence import ContextSentence, Mentions, text_of
from watcher.engine.evaluation import Sentence
from watcher.engine.positional import TermRange
from watcher.model import CONTEXT_LABELS, ContextLabel, ContextLabelName
from watcher.text.analysis import LIST_SEPARATORS, AnalysedText, FieldText

__all__ = ["ContextReader", "Evidence", "no_evidence"]

LABELS = CONTEXT_LABELS
# A sentence this long or longer that repeats the end of an earlier one is read there; a
# shorter one ("He said.", "Fighting continued.") may repeat by chance.
MIN_REPEAT = 6  # words

Carried = dict[ContextLabelName, list[str]]  # a sentence's labels with their cue words
# Finds the sentences stating a match's event (Evaluator.evidence): asked only when a
# match's words are in more than one sentence, where it decides which of them are read.
Evidence = Callable[[], Set[Sentence]]


def no_evidence() -> Set[Sentence]:
    """No sentence known to state the event: every sentence holding a match's word is read."""
    return frozenset()


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
        self._sentences: dict[Sentence, ContextSentence | None] = {}
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
        return all(self.names_place(text_of(field, first, last)) for _, first, last in mentions)

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

    def _sentence(self, key: Sentence) -> ContextSentence | None:
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
            sentence = ContextSentence(
                self.lexicon, self.published, field, first, end,
                [i - first for i in in_sentence], lead,
            )
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
