"""The matching engine: analysed text and a compiled rule index in, matches out.

Pure: no I/O, no clock. Per article it finds term occurrences through the index, picks
the rules whose required clauses all occur, and evaluates only those.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from fnmatch import fnmatchcase
from typing import NamedTuple

import numpy as np

from watcher.model import Match, Span
from watcher.rules.compile import (
    CAnd,
    CField,
    CNear,
    CNode,
    CNot,
    CompiledRule,
    COr,
    CTerm,
    RuleIndex,
)
from watcher.snippets import make_snippet
from watcher.text.analysis import AnalysedText, Analyzer, FieldText
from watcher.text.variants import is_article

FIELDS = ("title", "body")
# A match reports at most this many spans (the earliest): an article that repeats a
# phrase thousands of times needs no thousand highlights, and output stays bounded.
MAX_SPANS = 100


class Hit(NamedTuple):
    """A positional match in one field: word range [start, end] and the term ranges in it.

    A tuple so that sorting and hashing millions of hits in a huge article stay in C.
    """

    field: int
    start: int
    end: int
    terms: tuple[tuple[int, int, int], ...]  # (field, start word, end word) per term occurrence


class Occurrences:
    """Where each sequence occurs in one article, per field, in word positions."""

    def __init__(self) -> None:
        self.by_seq: dict[int, list[list[tuple[int, int]]]] = {}
        self._hits: dict[tuple[int, tuple[int, ...]], list[Hit]] = {}
        # Hits of compiled nodes, by (id(node), fields): filled by the Evaluator.
        self.memo: dict[tuple[int, tuple[int, ...]], list[Hit]] = {}

    def add(self, seq: int, field: int, start: int, end: int) -> None:
        per_field = self.by_seq.setdefault(seq, [[], []])
        per_field[field].append((start, end))

    def hits(self, seq: int, fields: tuple[int, ...]) -> list[Hit]:
        """Sorted hits of one sequence, built once per article (rules share terms)."""
        key = (seq, fields)
        cached = self._hits.get(key)
        if cached is None:
            per_field = self.by_seq.get(seq)
            cached = (
                [Hit(f, s, e, ((f, s, e),)) for f in fields for s, e in per_field[f]]
                if per_field
                else []
            )
            self._hits[key] = cached
        return cached


class Engine:
    """Matches analysed articles against one compiled rule index."""

    def __init__(self, index: RuleIndex, analyzer: Analyzer) -> None:
        self.index = index
        self.analyzer = analyzer
        self._type_atoms: list[tuple[int, ...]] = []
        self._has_atoms = np.zeros(0, dtype=bool)
        self._is_article: list[bool] = []
        self._excluded: dict[str, frozenset[int]] = {}
        # Per word type: the one-word sequences it is, and the phrases it may start.
        self._type_words: list[tuple[int, ...]] = []
        self._type_phrases: list[tuple[int, ...]] = []

    def match(self, text: AnalysedText, *, check_sources: bool = True) -> list[Match]:
        """Matches of every rule on the article; `check_sources=False` ignores the rules'
        `sources:` (a rule's own examples come from no feed)."""
        self._learn_new_types()
        occurrences = self.find_occurrences(text)
        excluded = self._rules_excluded_for(text.article.source) if check_sources else frozenset()
        evaluator = Evaluator(occurrences, text)
        matches = []
        for rule_no in self.candidate_rules(occurrences):
            if rule_no in excluded:
                continue
            compiled = self.index.rules[rule_no]
            spans = evaluator.truth(compiled.query, (0, 1))
            if spans is not None:
                matches.append(build_match(compiled, text, spans))
        return matches

    def _rules_excluded_for(self, source: str) -> frozenset[int]:
        """Rules whose `sources:` (names or globs) do not cover this source; cached per name."""
        excluded = self._excluded.get(source)
        if excluded is None:
            excluded = frozenset(
                n
                for n, compiled in enumerate(self.index.rules)
                if compiled.rule.sources
                and not any(fnmatchcase(source, p) for p in compiled.rule.sources)
            )
            self._excluded[source] = excluded
        return excluded

    # -- term occurrences ------------------------------------------------------------

    def _learn_new_types(self) -> None:
        """Extend the per-type caches to types the analyser met since the last article."""
        types = self.analyzer.types
        if len(self._type_atoms) == len(types):
            return
        known = len(self._type_atoms)
        for word in types[known:]:
            atoms = self.index.atoms_for(word)
            self._type_atoms.append(atoms)
            self._is_article.append(word.is_word and is_article(word.lower))
            starting = [q for a in atoms for q in self.index.seqs_by_first_atom.get(a, ())]
            sequences = self.index.sequences
            self._type_words.append(tuple(q for q in starting if len(sequences[q].atoms) == 1))
            self._type_phrases.append(tuple(q for q in starting if len(sequences[q].atoms) > 1))
        new = np.fromiter((bool(a) for a in self._type_atoms[known:]), dtype=bool)
        self._has_atoms = np.concatenate((self._has_atoms, new))

    def find_occurrences(self, text: AnalysedText) -> Occurrences:
        occurrences = Occurrences()
        for field_no, field_text in enumerate(text.fields()):
            self._scan_field(field_no, field_text, occurrences)
        return occurrences

    def _scan_field(self, field_no: int, field_text: FieldText, out: Occurrences) -> None:
        types = field_text.types
        if len(types) == 0:
            return
        positions = np.nonzero(self._has_atoms[types])[0].tolist()
        type_list = types.tolist()
        viable = self._viable_phrases({type_list[p] for p in positions})
        for pos in positions:
            word_type = type_list[pos]
            for seq_id in self._type_words[word_type]:  # one-word terms: no look-ahead
                out.add(seq_id, field_no, pos, pos)
            for seq_id in self._type_phrases[word_type]:
                if seq_id not in viable:
                    continue
                end = self._sequence_end(seq_id, type_list, pos)
                if end is not None:
                    out.add(seq_id, field_no, pos, end)

    def _viable_phrases(self, word_types: set[int]) -> set[int]:
        """Phrases all of whose words occur in the field: only those need a look-ahead."""
        present = {a for t in word_types for a in self._type_atoms[t]}
        sequences = self.index.sequences
        return {
            q
            for t in word_types
            for q in self._type_phrases[t]
            if present.issuperset(sequences[q].atoms)
        }

    def _sequence_end(self, seq_id: int, types: list[int], start: int) -> int | None:
        """Last word position of the sequence starting at `start`, or None."""
        seq = self.index.sequences[seq_id]
        pos = start
        for atom in seq.atoms[1:]:
            pos += 1
            if pos >= len(types):
                return None
            if (
                seq.skip_articles
                and atom not in self._type_atoms[types[pos]]
                and self._is_article[types[pos]]
            ):
                pos += 1
                if pos >= len(types):
                    return None
            if atom not in self._type_atoms[types[pos]]:
                return None
        return pos

    def candidate_rules(self, occurrences: Occurrences) -> list[int]:
        """Rules every required clause of which has an occurring sequence.

        The index finds rules whose two cheapest clauses occur with dictionary and set
        operations only; the few rules with more clauses are checked one by one after.
        """
        present = occurrences.by_seq.keys()
        index = self.index
        found = set(index.always_rules)
        for seq_id in present & index.rules_by_trigger.keys():
            found.update(index.rules_by_trigger[seq_id])
        for seq_id in present & index.rules_by_pair.keys():
            by_second = index.rules_by_pair[seq_id]
            for second in present & by_second.keys():
                found.update(by_second[second])
        rules = index.rules
        return sorted(
            n for n in found if all(not present.isdisjoint(c) for c in rules[n].requires[2:])
        )


class Evaluator:
    """Evaluates compiled queries over one article's occurrences."""

    def __init__(self, occurrences: Occurrences, text: AnalysedText) -> None:
        self.occurrences = occurrences
        self.fields = text.fields()

    def truth(self, node: CNode, fields: tuple[int, ...]) -> list[Hit] | None:
        """None when false; else the hits whose terms made it true (empty for NOT)."""
        match node:
            case CAnd(children):
                found: list[Hit] = []
                for child in children:
                    hits = self.truth(child, fields)
                    if hits is None:
                        return None
                    found += hits
                return found
            case COr(children):
                results = [self.truth(c, fields) for c in children]
                true = [r for r in results if r is not None]
                return [h for r in true for h in r] if true else None
            case CNot(child):
                return None if self.truth(child, fields) is not None else []
            case CField(name, child):
                return self.truth(child, tuple(f for f in fields if FIELDS[f] == name))
        hits = self.hits(node, fields)
        return hits or None

    def hits(self, node: CNode, fields: tuple[int, ...]) -> list[Hit]:
        """Positional hits of a term, OR-group, field scope or NEAR chain, once per article.

        Compiled nodes are shared between rules (Compiler.node), so the memo is keyed by
        the node's identity.
        """
        key = (id(node), fields)
        found = self.occurrences.memo.get(key)
        if found is None:
            found = self._compute_hits(node, fields)
            self.occurrences.memo[key] = found
        return found

    def _compute_hits(self, node: CNode, fields: tuple[int, ...]) -> list[Hit]:
        match node:
            case CTerm(seq):
                return self.occurrences.hits(seq, fields)
            case COr(children):
                return sorted({h for c in children for h in self.hits(c, fields)})
            case CField(name, child):
                return self.hits(child, tuple(f for f in fields if FIELDS[f] == name))
            case CNear():
                return self.near(node, fields)
        raise TypeError(f"not positional: {node!r}")  # the loader rejects AND/NOT in NEAR

    def near(self, node: CNear, fields: tuple[int, ...]) -> list[Hit]:
        left = self.hits(node.left, fields)
        if not left:
            return []
        right = sorted(self.hits(node.right, fields))
        if not right:
            return []
        found: set[Hit] = set()
        for field_no in fields:
            rights = [h for h in right if h.field == field_no]
            starts = [h.start for h in rights]
            longest = max((h.end - h.start for h in rights), default=0)
            for a in (h for h in left if h.field == field_no):
                found.update(self._pairs(node, a, rights, starts, longest))
        return sorted(found)

    def _pairs(self, node: CNear, a: Hit, rights: list[Hit], starts: list[int], longest: int):
        """Combined hits of `a` with every right hit close enough to it."""
        field_text = self.fields[a.field]
        if node.scope == "words":
            lo = bisect_left(starts, a.start - node.distance - 1 - longest)
            hi = bisect_right(starts, a.end + node.distance + 1)
        else:  # only hits starting inside a's sentence or paragraph can share it
            units = field_text.sentence if node.scope == "sentence" else field_text.paragraph
            first, last = unit_span(units, a)
            lo = bisect_left(starts, first - longest)
            hi = bisect_right(starts, last)
        for b in rights[lo:hi]:
            if near_ok(node, a, b, field_text):
                yield Hit(a.field, min(a.start, b.start), max(a.end, b.end), a.terms + b.terms)


def near_ok(node: CNear, a: Hit, b: Hit, field_text: FieldText) -> bool:
    """Whether hits a (left) and b (right) satisfy the NEAR operator's constraint."""
    if node.ordered and not a.end < b.start:
        return False
    if node.scope == "sentence":
        units = field_text.sentence
    elif node.scope == "paragraph":
        units = field_text.paragraph
    else:
        return words_between(a, b) <= node.distance
    first, last = min(a.start, b.start), max(a.end, b.end)
    return bool(units[first] == units[last])


def unit_span(units: np.ndarray, hit: Hit) -> tuple[int, int]:
    """First and last word position of the sentence (or paragraph) holding the hit's start."""
    unit = units[hit.start]
    first = int(np.searchsorted(units, unit, side="left"))
    last = int(np.searchsorted(units, unit, side="right")) - 1
    return first, last


def words_between(a: Hit, b: Hit) -> int:
    """Words strictly between two hits; overlapping hits have none."""
    if a.end < b.start:
        return b.start - a.end - 1
    if b.end < a.start:
        return a.start - b.end - 1
    return 0


def build_match(compiled: CompiledRule, text: AnalysedText, hits: list[Hit]) -> Match:
    fields = text.fields()
    terms = sorted({term for hit in hits for term in hit.terms})[:MAX_SPANS]
    spans = [
        Span(int(fields[f].starts[s]), int(fields[f].ends[e]), FIELDS[f])  # type: ignore[arg-type]
        for f, s, e in terms
    ]
    rule = compiled.rule
    return Match(
        rule_id=rule.id,
        article_id=text.article.id,
        title=text.article.title,
        severity=rule.severity,
        spans=tuple(spans),
        snippet=make_snippet(text, spans),
        tags=rule.tags,
    )
