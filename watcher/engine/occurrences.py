"""Term occurrences: which rule sequences occur in an article's fields, and where.

Owns the per-word-type tables of the rule index and the scans that read them. An article
is first scanned for *triggers* only, the sequences the index files rules under: a rule
whose triggers an article does not name never has its other words looked at. The rest is
found on demand, sequence by sequence while the rules a trigger wakes need few, by one
full scan of the article once they need many. So rules that are loaded but cannot fire
cost next to nothing, and the cost follows the rules that can.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

from watcher.engine.proximity import Extent, Run
from watcher.rules.compile import RuleIndex
from watcher.text.analysis import Analyzer, FieldText
from watcher.text.variants import is_article

# Looking one sequence up alone costs about as much as scanning this many words that start
# a sequence: an article looks up at most (such words / this) sequences, then scans in full.
# Measured on the benchmark (rules timed in turns): 4 makes 9,990 loaded rules that do not
# fire cost 1.21x what 10 rules cost, against 1.30x with 8 and 1.51x with 16; the full
# 10,000-rule mix and 10 rules alone cost the same with either.
LOOKUP_COST_IN_WORDS = 4
# A sequence met as at most this many word types is found by comparing each; more (prefixes,
# variant names) through a mask over every type.
FEW_TYPES = 3

# How articles are scanned: "auto" as above; "full" and "lookups" always one way (the
# matches are the same; tests compare both with a reference).
ScanMode = Literal["auto", "full", "lookups"]
FieldScan = tuple[dict[int, list[int]], dict[int, list[int]]]  # starts, phrase ends
_UNKNOWN: Run = ([], [])  # not looked up yet (a Run, so the cache keeps one value type)


class Occurrences:
    """Where sequences occur in one article; triggers found up front, the rest on demand.

    `triggers` are the trigger sequences that occur, when the trigger scan was made (with
    the full scan, `present` tells everything). `run` answers for any sequence, from the
    full scan once it has been made, else by looking the sequence up alone.
    """

    def __init__(
        self, scanner: OccurrenceScanner, fields: tuple[FieldText, FieldText], budget: int
    ) -> None:
        self._scanner = scanner
        self._fields = fields
        self.budget = budget  # lookups one by one before the full scan is made instead
        self._runs: tuple[dict[int, Run | None], dict[int, Run | None]] = ({}, {})
        self._full: tuple[FieldScan, FieldScan] | None = None
        self._present: set[int] | None = None
        self._lookups = 0
        self._extents: dict[int, tuple[list[Extent], list[Extent]]] = {}
        self.triggers: set[int] = set()

    def add_triggers(self, field_no: int, scan: FieldScan) -> None:
        """Record the trigger scan of one field: complete for every trigger sequence."""
        starts, ends = scan
        runs = self._runs[field_no]
        for seq, first in starts.items():
            runs[seq] = (first, ends.get(seq, first))
        self.triggers.update(starts)

    @property
    def scanned(self) -> bool:
        """Whether the full scan has been made (then `present` costs nothing more)."""
        return self._full is not None

    def scan_fully(self) -> None:
        """Make the full scan now (the trigger scan is then not needed)."""
        self._complete()

    def field_scan(self, field_no: int) -> FieldScan | None:
        """The full scan of one field (starts, phrase ends), if made."""
        return None if self._full is None else self._full[field_no]

    @property
    def present(self) -> set[int]:
        """Every sequence that occurs; makes the full scan."""
        if self._present is None:
            title, body = self._complete()
            self._present = title[0].keys() | body[0].keys()
        return self._present

    def has(self, seq: int) -> bool:
        return self.run(seq, 0) is not None or self.run(seq, 1) is not None

    def has_any(self, clause: frozenset[int]) -> bool:
        if self._full is not None:
            return not self.present.isdisjoint(clause)
        return any(self.has(seq) for seq in clause)  # may make the full scan on the way

    def occurring(self, seqs: frozenset[int]) -> set[int]:
        """Those of `seqs` that occur in either field: a set intersection once the full
        scan is made (a word list of hundreds of names costs one), else each looked up."""
        if self._full is not None:
            return self.present & seqs
        return {seq for seq in seqs if self.has(seq)}

    def fields_of(self, seq: int) -> int:
        """Mask of the fields where the sequence occurs (1 title, 2 body)."""
        full = self._full
        if full is not None:
            return (seq in full[0][0]) | (seq in full[1][0]) << 1
        return (self.run(seq, 0) is not None) | (self.run(seq, 1) is not None) << 1

    def run(self, seq: int, field_no: int) -> Run | None:
        """Starts and ends of the sequence in one field (ends *is* starts for one word)."""
        full = self._full
        if full is None:
            runs = self._runs[field_no]
            found = runs.get(seq, _UNKNOWN)
            if found is not _UNKNOWN:
                return found
            self._lookups += 1
            if self._lookups <= self.budget:
                found = runs[seq] = self._scanner.find(seq, self._fields[field_no])
                return found
            full = self._complete()
        starts, ends = full[field_no]
        first = starts.get(seq)
        return None if first is None else (first, ends.get(seq, first))

    def extents(self, seq: int) -> tuple[list[Extent], list[Extent]]:
        """Title and body occurrences of one sequence, sorted; built when a rule asks."""
        found = self._extents.get(seq)
        if found is None:
            found = self._field_extents(seq, 0), self._field_extents(seq, 1)
            self._extents[seq] = found
        return found

    def _field_extents(self, seq: int, field_no: int) -> list[Extent]:
        run = self.run(seq, field_no)
        return [] if run is None else list(zip(*run, strict=True))

    def _complete(self) -> tuple[FieldScan, FieldScan]:
        if self._full is None:
            self._full = (
                self._scanner.scan_all(self._fields[0]),
                self._scanner.scan_all(self._fields[1]),
            )
        return self._full


class OccurrenceScanner:
    """Finds rule sequences in an article by looking up each word's type.

    Per word type it keeps the one-word sequences the type is and, by their second
    atom, the phrases it may start: a phrase is only looked at when the next word
    can continue it. Per sequence it keeps the word types that start it, for lookups.

    A `~Name` naming a known place has its other known names as alias sequences, found
    as the `~Name` itself, and its occurrences pass the name check (`NameCheck.keeps`):
    such *checked* sequences always record where they end.
    """

    def __init__(self, index: RuleIndex, analyzer: Analyzer, *, scan: ScanMode = "auto") -> None:
        self.index = index
        self.analyzer = analyzer
        self.mode = scan
        self.triggers = frozenset(index.rules_by_trigger) | frozenset(index.rules_by_pair)
        self.type_atoms: list[frozenset[int]] = []
        self._is_article: list[bool] = []
        self._words: list[tuple[int, ...]] = []
        self._trigger_words: list[tuple[int, ...]] = []
        # One-word occurrences of checked sequences (aliases as their `~Name`), kept apart
        # so the plain ones cost nothing more.
        self._checked_words: list[tuple[int, ...]] = []
        self._checked_trigger_words: list[tuple[int, ...]] = []
        self._checked = frozenset(index.name_checks) | {
            seq for listed in index.aliases.values() for seq in listed
        }
        self._phrases: list[dict[int, tuple[int, ...]]] = []
        self._seconds: list[frozenset[int]] = []  # the second atoms of those phrases
        self._seq_types: dict[int, list[int]] = defaultdict(list)
        self._masks: dict[int, np.ndarray] = {}  # by sequence with many types
        # The last field's words, with what its name checks found in it (`_words_of`).
        self._last_words: tuple[FieldText, _Words] | None = None
        self._starts_something = np.zeros(0, dtype=bool)
        self._starts_trigger = np.zeros(0, dtype=bool)
        # Per type: how many second clauses its triggers wake (each one lookup if alone).
        self._wakes = np.zeros(0, dtype=np.int64)

    def learn_new_types(self) -> None:
        """Extend the per-type tables to types the analyser met since the last article."""
        types = self.analyzer.types
        known = len(self.type_atoms)
        if known == len(types):
            return
        sequences, triggers = self.index.sequences, self.triggers
        something, trigger, wakes = [], [], []
        by_pair = self.index.rules_by_pair
        for type_no, word in enumerate(types[known:], start=known):
            atoms = self.index.atoms_for(word)
            self.type_atoms.append(frozenset(atoms))
            self._is_article.append(word.is_word and is_article(word.lower))
            starting = [q for a in atoms for q in self.index.seqs_by_first_atom.get(a, ())]
            reported = self._reported(starting)
            for q in reported:
                self._seq_types[q].append(type_no)
            words = self._reported(q for q in starting if len(sequences[q].atoms) == 1)
            plain = tuple(q for q in words if q not in self._checked)
            checked = tuple(q for q in words if q in self._checked)
            self._words.append(plain)
            self._trigger_words.append(tuple(q for q in plain if q in triggers))
            self._checked_words.append(checked)
            self._checked_trigger_words.append(tuple(q for q in checked if q in triggers))
            by_second: dict[int, list[int]] = defaultdict(list)
            for q in starting:
                if len(sequences[q].atoms) > 1:
                    by_second[sequences[q].atoms[1]].append(q)
            self._phrases.append({a: tuple(qs) for a, qs in by_second.items()})
            self._seconds.append(frozenset(by_second))
            something.append(bool(starting))
            trigger.append(any(q in triggers for q in reported))
            wakes.append(sum(len(by_pair[q]) for q in reported if q in by_pair))
        self._starts_something = np.concatenate((self._starts_something, np.array(something)))
        self._starts_trigger = np.concatenate((self._starts_trigger, np.array(trigger)))
        self._wakes = np.concatenate((self._wakes, np.array(wakes, dtype=np.int64)))
        self._masks.clear()  # they cover the types known when they were made

    def _reported(self, seqs: Iterable[int]) -> tuple[int, ...]:
        """The sequences occurrences of these are recorded as: an alias as its `~Name`s."""
        aliases = self.index.aliases
        found: dict[int, None] = {}
        for q in seqs:
            for reported in aliases.get(q, (q,)):
                found[reported] = None
        return tuple(found)

    def scan(self, title: FieldText, body: FieldText) -> Occurrences:
        """The article's trigger occurrences; the rest is looked up when asked for."""
        types = title.types, body.types
        if self.mode == "auto":
            starting = sum(int(np.count_nonzero(self._starts_something[t])) for t in types)
            budget = starting // LOOKUP_COST_IN_WORDS
        else:
            budget = -1 if self.mode == "full" else sys.maxsize
        occurrences = Occurrences(self, (title, body), budget)
        # Lookups the woken rules' second clauses would take (a repeated trigger counts
        # again: an overestimate, which only errs towards the full scan).
        if budget < 0 or sum(int(self._wakes[t].sum()) for t in types) > budget:
            occurrences.scan_fully()
            return occurrences
        for field_no, field in enumerate((title, body)):
            positions = self._starts_trigger[field.types].nonzero()[0]
            if len(positions):
                occurrences.add_triggers(field_no, self._scan(field, positions, True))
        return occurrences

    def scan_all(self, field: FieldText) -> FieldScan:
        """Every occurrence of every sequence in one field."""
        return self._scan(field, self._starts_something[field.types].nonzero()[0], False)

    def find(self, seq: int, field: FieldText) -> Run | None:
        """Where one sequence occurs in one field, found alone; None when nowhere."""
        types = field.types
        starting = self._seq_types.get(seq)
        if not starting or not len(types):
            return None
        if len(starting) <= FEW_TYPES:
            hits = [(types == t).nonzero()[0] for t in starting]
            positions = hits[0] if len(hits) == 1 else np.sort(np.concatenate(hits))
        else:
            positions = self._mask(seq, starting)[types].nonzero()[0]
        if not len(positions):
            return None
        starts = positions.tolist()
        checked = seq in self._checked
        if len(self.index.sequences[seq].atoms) == 1 and not checked:
            return starts, starts
        type_list = types.tolist()
        words = self._words_of(field, type_list)
        found = [(pos, end) for pos in starts
                 for q, end in self._phrases_at(type_list, pos, words) if q == seq]
        if checked:
            found += [(pos, pos) for pos in starts
                      if seq in self._checked_words[type_list[pos]]
                      and self._keeps(seq, words, pos, pos)]
            found.sort()
        if not found:
            return None
        return [pos for pos, _ in found], [end for _, end in found]

    def _words_of(self, field: FieldText, type_list: list[int]) -> _Words:
        """The field's words, the same object for every lookup and scan of one field in a
        row, so that what the name checks find in the whole field (its memo) is found once
        per field, not once per sequence looked up."""
        last = self._last_words
        if last is not None and last[0] is field:
            return last[1]
        words = _Words(self.analyzer, type_list, field)
        self._last_words = (field, words)
        return words

    def _mask(self, seq: int, starting: list[int]) -> np.ndarray:
        mask = self._masks.get(seq)
        if mask is None:
            mask = np.zeros(len(self.type_atoms), dtype=bool)
            mask[starting] = True
            self._masks[seq] = mask
        return mask

    def _scan(self, field: FieldText, positions: np.ndarray, triggers_only: bool) -> FieldScan:
        """Sequences starting at the given positions (all, or only triggers)."""
        starts: dict[int, list[int]] = defaultdict(list)
        phrase_ends: dict[int, list[int]] = defaultdict(list)
        type_list = field.types.tolist()
        field_words = self._words_of(field, type_list)
        words = self._trigger_words if triggers_only else self._words
        checked = self._checked_trigger_words if triggers_only else self._checked_words
        seconds, type_atoms, is_article = self._seconds, self.type_atoms, self._is_article
        last = len(type_list) - 1
        for pos in positions.tolist():
            word_type = type_list[pos]
            for seq in words[word_type]:
                starts[seq].append(pos)
            if checked[word_type]:
                for seq in checked[word_type]:
                    if self._keeps(seq, field_words, pos, pos):
                        starts[seq].append(pos)
                        phrase_ends[seq].append(pos)
            if seconds[word_type] and pos < last:
                following = type_list[pos + 1]
                # Most phrase starts are not followed by their phrase: skip them cheaply.
                if is_article[following] or not seconds[word_type].isdisjoint(
                    type_atoms[following]
                ):
                    for seq, end in self._phrases_at(type_list, pos, field_words):
                        if not triggers_only or seq in self.triggers:
                            starts[seq].append(pos)
                            phrase_ends[seq].append(end)
        return starts, phrase_ends

    def _phrases_at(self, types: list[int], pos: int, words: _Words) -> list[tuple[int, int]]:
        """(phrase, last word position) of every phrase starting at `pos` (`words`: the
        field's, for the name checks)."""
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
            ends = [(q, self._sequence_end(q, types, end, limit)) for q, end in found]
            found = [(q, end) for q, end in ends if end is not None]
        if found and self._checked:
            found = self._checked_phrases(found, words, pos)
        return found

    def _checked_phrases(
        self, found: list[tuple[int, int]], words: _Words, pos: int
    ) -> list[tuple[int, int]]:
        """Aliases as their `~Name`s, and the occurrences the name checks keep, once each."""
        kept: dict[tuple[int, int], None] = {}
        for q, end in found:
            for seq in self.index.aliases.get(q, (q,)):
                if seq not in self.index.name_checks or self._keeps(seq, words, pos, end):
                    kept[seq, end] = None
        return list(kept)

    def _keeps(self, seq: int, words: _Words, start: int, end: int) -> bool:
        """Whether an occurrence passes its `~Name`'s check (other places' names)."""
        check = self.index.name_checks.get(seq)
        return check is None or check.keeps(
            words, start, end, is_english=self.index.lexicon.is_english, sentence=words.sentence,
            memo=words.memo, between=words.between,
        )

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


class _Words(Sequence[str]):
    """A field's lower-case words, read only where a name check looks, the sentence number
    of each and the text between words (a person's name does not run across a full stop
    or a comma), and what the name checks
    found in the whole field (`NameCheck.keeps`'s memo: read once, not per occurrence)."""

    def __init__(self, analyzer: Analyzer, types: list[int], field: FieldText) -> None:
        self._types = analyzer.types
        self._field = types
        self._text = field
        self.sentence = field.sentence
        self.memo: dict[object, Any] = {}

    def between(self, word: int) -> str:
        """The text between the word and the next (*Mosul, al-Abadi*: a comma ends a name)."""
        text = self._text
        return text.text[text.ends.item(word):text.starts.item(word + 1)]

    def __len__(self) -> int:
        return len(self._field)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._types[t].lower for t in self._field[index]]
        return self._types[self._field[index]].lower
