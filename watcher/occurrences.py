"""Term occurrences: which rule sequences occur in an article's fields, and where.

Owns the per-word-type tables of the rule index and the scan of an article that reads them.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from watcher.proximity import Extent, Run
from watcher.rules.compile import RuleIndex
from watcher.text.analysis import Analyzer, FieldText
from watcher.text.variants import is_article

FieldMaps = tuple[dict[int, list[int]], dict[int, list[int]]]  # title's, body's


class Occurrences:
    """Where each sequence occurs in one article: per field, its start word positions
    in order, and for phrases their last word positions."""

    def __init__(self, starts: FieldMaps, phrase_ends: FieldMaps) -> None:
        self.starts = starts
        self.phrase_ends = phrase_ends
        self.present = starts[0].keys() | starts[1].keys()  # every sequence that occurs
        self._extents: dict[int, tuple[list[Extent], list[Extent]]] = {}

    def fields_of(self, seq: int) -> int:
        """Mask of the fields where the sequence occurs (1 title, 2 body)."""
        return (seq in self.starts[0]) | (seq in self.starts[1]) << 1

    def run(self, seq: int, field_no: int) -> Run | None:
        """Starts and ends of the sequence in one field (ends *is* starts for one word)."""
        starts = self.starts[field_no].get(seq)
        if starts is None:
            return None
        return starts, self.phrase_ends[field_no].get(seq, starts)

    def extents(self, seq: int) -> tuple[list[Extent], list[Extent]]:
        """Title and body occurrences of one sequence, sorted; built when a rule asks."""
        found = self._extents.get(seq)
        if found is None:
            found = self._field_extents(seq, 0), self._field_extents(seq, 1)
            self._extents[seq] = found
        return found

    def _field_extents(self, seq: int, field_no: int) -> list[Extent]:
        starts = self.starts[field_no].get(seq)
        if starts is None:
            return []
        ends = self.phrase_ends[field_no].get(seq, starts)
        return list(zip(starts, ends, strict=True))


class OccurrenceScanner:
    """Finds every rule sequence in an article by looking up each word's type.

    Per word type it keeps the one-word sequences the type is and, by their second
    atom, the phrases it may start: a phrase is only looked at when the next word
    can continue it.
    """

    def __init__(self, index: RuleIndex, analyzer: Analyzer) -> None:
        self.index = index
        self.analyzer = analyzer
        self.type_atoms: list[frozenset[int]] = []
        self._is_article: list[bool] = []
        self._words: list[tuple[int, ...]] = []
        self._phrases: list[dict[int, tuple[int, ...]]] = []
        self._seconds: list[frozenset[int]] = []  # the second atoms of those phrases
        self._starts_something = np.zeros(0, dtype=bool)

    def learn_new_types(self) -> None:
        """Extend the per-type tables to types the analyser met since the last article."""
        types = self.analyzer.types
        known = len(self.type_atoms)
        if known == len(types):
            return
        sequences = self.index.sequences
        for word in types[known:]:
            atoms = self.index.atoms_for(word)
            self.type_atoms.append(frozenset(atoms))
            self._is_article.append(word.is_word and is_article(word.lower))
            starting = [q for a in atoms for q in self.index.seqs_by_first_atom.get(a, ())]
            self._words.append(tuple(q for q in starting if len(sequences[q].atoms) == 1))
            by_second: dict[int, list[int]] = defaultdict(list)
            for q in starting:
                if len(sequences[q].atoms) > 1:
                    by_second[sequences[q].atoms[1]].append(q)
            self._phrases.append({a: tuple(qs) for a, qs in by_second.items()})
            self._seconds.append(frozenset(by_second))
        new = [
            bool(w or p) for w, p in zip(self._words[known:], self._phrases[known:], strict=True)
        ]
        self._starts_something = np.concatenate((self._starts_something, np.array(new, bool)))

    def scan(self, title: FieldText, body: FieldText) -> Occurrences:
        """Every occurrence of every sequence in the article's title and body."""
        starts: FieldMaps = (defaultdict(list), defaultdict(list))
        phrase_ends: FieldMaps = (defaultdict(list), defaultdict(list))
        for field_no, field_text in enumerate((title, body)):
            if len(field_text):
                self._scan_field(field_text.types, starts[field_no], phrase_ends[field_no])
        return Occurrences(starts, phrase_ends)

    def _scan_field(
        self, types: np.ndarray, starts: dict[int, list[int]], phrase_ends: dict[int, list[int]]
    ) -> None:
        positions = self._starts_something[types].nonzero()[0].tolist()
        type_list = types.tolist()
        words, seconds = self._words, self._seconds
        type_atoms, is_article = self.type_atoms, self._is_article
        last = len(type_list) - 1
        for pos in positions:
            word_type = type_list[pos]
            for seq in words[word_type]:
                starts[seq].append(pos)
            if seconds[word_type] and pos < last:
                following = type_list[pos + 1]
                # Most phrase starts are not followed by their phrase: skip them cheaply.
                if is_article[following] or not seconds[word_type].isdisjoint(
                    type_atoms[following]
                ):
                    for seq, end in self._phrases_at(type_list, pos):
                        starts[seq].append(pos)
                        phrase_ends[seq].append(end)

    def _phrases_at(self, types: list[int], pos: int) -> list[tuple[int, int]]:
        """(phrase, last word position) of every phrase starting at `pos`."""
        limit = len(types)
        if pos + 1 >= limit:
            return []
        by_second = self._phrases[types[pos]]
        next_atoms = self.type_atoms[types[pos + 1]]
        found = [(q, pos + 1) for a in next_atoms for q in by_second.get(a, ())]
        if self._is_article[types[pos + 1]] and pos + 2 < limit:
            # Variant names may have an article word (al-, ez-) before their next word.
            found += [
                (q, pos + 2)
                for a in self.type_atoms[types[pos + 2]]
                if a not in next_atoms
                for q in by_second.get(a, ())
                if self.index.sequences[q].skip_articles
            ]
        sequences = self.index.sequences
        if any(len(sequences[q].atoms) > 2 for q, _ in found):
            found = [(q, self._sequence_end(q, types, end, limit)) for q, end in found]
            found = [(q, end) for q, end in found if end is not None]  # type: ignore[misc]
        return found  # type: ignore[return-value]

    def _sequence_end(self, seq_id: int, types: list[int], pos: int, limit: int) -> int | None:
        """Last word position of a sequence whose second word is at `pos`, or None."""
        seq = self.index.sequences[seq_id]
        for atom in seq.atoms[2:]:
            pos += 1
            if pos >= limit:
                return None
            if (
                seq.skip_articles
                and atom not in self.type_atoms[types[pos]]
                and self._is_article[types[pos]]
            ):
                pos += 1
                if pos >= limit:
                    return None
            if atom not in self.type_atoms[types[pos]]:
                return None
        return pos
