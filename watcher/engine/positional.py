"""Positional plans: terms, OR-groups, field scopes, NOT IN and NEAR chains, with hits at
word ranges.

Their per-article answers (fields present, extents, runs, term ranges) are memoised in the
Evaluator by slot; truth needs only where hits are, term ranges are built for matches only.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import Protocol

from watcher.engine.occurrences import Occurrences
from watcher.engine.proximity import (
    Extent,
    Run,
    Units,
    any_pair,
    chain_pairs,
    units_with_pair,
    used_hits,
)

FIELDS = ("title", "body")
TermRange = tuple[int, int, int]  # (field, first word, last word) of one term occurrence
HitTerms = dict[Extent, frozenset[TermRange]]


class ArticleState(Protocol):
    """What plans read and memoise for one article. The Evaluator (evaluation.py) is the
    one implementation; naming it here keeps imports one way (evaluation -> positional)."""

    occurrences: Occurrences
    present: dict[int, int]
    members: dict[int, list[int]]
    extents: dict[int, tuple[list[Extent], list[Extent]]]
    spans: dict[int, set[TermRange]]  # by slot * 2 + field
    hit_terms: dict[int, HitTerms]  # by slot * 2 + field

    def unit_numbers(self, field_no: int, sentence: bool) -> list[int]: ...


class Plan:
    """A query node that can say whether it holds and collect the terms that made it."""

    def holds(self, ev: ArticleState, mask: int) -> bool:
        raise NotImplementedError

    def collect(self, ev: ArticleState, mask: int, found: set[TermRange]) -> None:
        """Add the term ranges behind a node that holds."""
        raise NotImplementedError


class Positional(Plan):
    """A node with hits at word ranges; its per-article answers are memoised by slot.

    `flat` nodes (terms and OR-groups or field scopes of them) have hits that are one
    term occurrence each, so a hit's term range is the hit itself.
    """

    flat = False

    def __init__(self, slot: int) -> None:
        self.slot = slot

    def holds(self, ev: ArticleState, mask: int) -> bool:
        return bool(self.present(ev) & mask)

    def collect(self, ev: ArticleState, mask: int, found: set[TermRange]) -> None:
        for field_no in (0, 1):
            if mask >> field_no & 1:
                found |= self.spans(ev, field_no)

    def present(self, ev: ArticleState) -> int:
        """Mask of the fields where the node has a hit."""
        found = ev.present.get(self.slot)
        if found is None:
            found = ev.present[self.slot] = self._present(ev)
        return found

    def extents(self, ev: ArticleState) -> tuple[list[Extent], list[Extent]]:
        """Sorted distinct (first, last) word ranges of the node's hits, per field."""
        found = ev.extents.get(self.slot)
        if found is None:
            found = ev.extents[self.slot] = self._extents(ev)
        return found

    def spans(self, ev: ArticleState, field_no: int) -> set[TermRange]:
        """Term ranges of every hit of the node in one field."""
        key = self.slot * 2 + field_no
        found = ev.spans.get(key)
        if found is None:
            found = ev.spans[key] = self._spans(ev, field_no)
        return found

    def hit_terms(self, ev: ArticleState, field_no: int) -> HitTerms:
        """The term ranges behind each extent in one field, keys sorted.

        Hits with equal extents are merged: NEAR pairs hits by extent alone, so the
        merged terms reach a match exactly as the separate hits' would.
        """
        key = self.slot * 2 + field_no
        found = ev.hit_terms.get(key)
        if found is None:
            found = ev.hit_terms[key] = self._hit_terms(ev, field_no)
        return found

    def runs(self, ev: ArticleState, field_no: int) -> list[Run]:
        """The node's hits in one field as sorted runs (an OR-group keeps one per child)."""
        title, body = self.extents(ev)
        extents = body if field_no else title
        return [([s for s, _ in extents], [e for _, e in extents])] if extents else []

    def _present(self, ev: ArticleState) -> int:
        raise NotImplementedError

    def _extents(self, ev: ArticleState) -> tuple[list[Extent], list[Extent]]:
        raise NotImplementedError

    def _spans(self, ev: ArticleState, field_no: int) -> set[TermRange]:
        raise NotImplementedError

    def _hit_terms(self, ev: ArticleState, field_no: int) -> HitTerms:
        raise NotImplementedError


class TermPlan(Positional):
    flat = True

    def __init__(self, slot: int, seq: int) -> None:
        super().__init__(slot)
        self.seq = seq

    def present(self, ev: ArticleState) -> int:
        return ev.occurrences.fields_of(self.seq)  # as cheap as a memo

    def extents(self, ev: ArticleState) -> tuple[list[Extent], list[Extent]]:
        return ev.occurrences.extents(self.seq)  # memoised there

    def runs(self, ev: ArticleState, field_no: int) -> list[Run]:
        run = ev.occurrences.run(self.seq, field_no)
        return [run] if run else []

    def _spans(self, ev: ArticleState, field_no: int) -> set[TermRange]:
        return {(field_no, s, e) for s, e in self.extents(ev)[field_no]}

    def _hit_terms(self, ev: ArticleState, field_no: int) -> HitTerms:
        return {x: frozenset({(field_no, *x)}) for x in self.extents(ev)[field_no]}


class AnyPlan(Positional):
    """An OR of positional nodes: the union of their hits.

    An OR of plain terms (the usual word list, hundreds of place names) reads the
    occurrences of only its members that occur in the article (`members`), found once per
    article; the hits and term ranges of a flat OR are its extents, built once.
    """

    def __init__(self, slot: int, children: tuple[Positional, ...]) -> None:
        super().__init__(slot)
        self.children = children
        terms = all(isinstance(c, TermPlan) for c in children)
        self.seqs = tuple(c.seq for c in children) if terms else None  # type: ignore[attr-defined]
        self._seq_set = frozenset(self.seqs or ())
        self._order = {seq: n for n, seq in reversed(list(enumerate(self.seqs or ())))}
        self.flat = all(c.flat for c in children)

    def members(self, ev: ArticleState) -> list[int]:
        """The sequences of an OR of terms that occur in the article, in the children's
        order (a sequence listed twice, once)."""
        found = ev.members.get(self.slot)
        if found is None:
            hits = ev.occurrences.occurring(self._seq_set)
            found = ev.members[self.slot] = sorted(hits, key=self._order.__getitem__)
        return found

    def _present(self, ev: ArticleState) -> int:
        mask = 0
        if self.seqs is not None:
            fields_of = ev.occurrences.fields_of
            for seq in self.members(ev):
                mask |= fields_of(seq)
            return mask
        for child in self.children:
            mask |= child.present(ev)
        return mask

    def runs(self, ev: ArticleState, field_no: int) -> list[Run]:
        if self.seqs is None:
            return [run for c in self.children for run in c.runs(ev, field_no)]
        run = ev.occurrences.run
        found = []
        for seq in self.members(ev):
            hits = run(seq, field_no)
            if hits is not None:
                found.append(hits)
        return found

    def _extents(self, ev: ArticleState) -> tuple[list[Extent], list[Extent]]:
        if self.seqs is None:
            parts = [c.extents(ev) for c in self.children]
        else:
            extents = ev.occurrences.extents
            parts = [extents(seq) for seq in self.members(ev)]
        return _union([p[0] for p in parts]), _union([p[1] for p in parts])

    def _spans(self, ev: ArticleState, field_no: int) -> set[TermRange]:
        if self.flat:  # each hit is one term occurrence
            return {(field_no, s, e) for s, e in self.extents(ev)[field_no]}
        return set().union(*(c.spans(ev, field_no) for c in self.children))

    def _hit_terms(self, ev: ArticleState, field_no: int) -> HitTerms:
        if self.flat:  # already sorted and distinct: one term range per extent
            return {x: frozenset({(field_no, *x)}) for x in self.extents(ev)[field_no]}
        parts = [c.hit_terms(ev, field_no).items() for c in self.children]
        return _merged(hit for part in parts for hit in part)


class FieldPlan(Positional):
    """`title:( … )` around a positional node: its hits in that field only."""

    def __init__(self, slot: int, bit: int, child: Positional) -> None:
        super().__init__(slot)
        self.bit = bit
        self.child = child
        self.flat = child.flat

    def _present(self, ev: ArticleState) -> int:
        return self.child.present(ev) & self.bit

    def _extents(self, ev: ArticleState) -> tuple[list[Extent], list[Extent]]:
        title, body = self.child.extents(ev)
        return (title, []) if self.bit == 1 else ([], body)

    def runs(self, ev: ArticleState, field_no: int) -> list[Run]:
        return self.child.runs(ev, field_no) if self.bit >> field_no & 1 else []

    def _spans(self, ev: ArticleState, field_no: int) -> set[TermRange]:
        return self.child.spans(ev, field_no) if self.bit >> field_no & 1 else set()

    def _hit_terms(self, ev: ArticleState, field_no: int) -> HitTerms:
        return self.child.hit_terms(ev, field_no) if self.bit >> field_no & 1 else {}


class NotInPlan(Positional):
    """`include NOT IN exclude`: the hits of `include` that overlap no hit of `exclude` in
    one sentence of their field (a word left out where it is part of a phrase of another
    sense). Both sides are terms or OR-groups of them (the grammar allows no more)."""

    flat = True

    def __init__(self, slot: int, include: Positional, exclude: Positional) -> None:
        super().__init__(slot)
        self.include, self.exclude = include, exclude

    def _present(self, ev: ArticleState) -> int:
        if not self.include.present(ev):
            return 0
        title, body = self.extents(ev)
        return (1 if title else 0) | (2 if body else 0)

    def _extents(self, ev: ArticleState) -> tuple[list[Extent], list[Extent]]:
        kept = self.include.extents(ev)
        if not self.exclude.present(ev):
            return kept
        return outside(kept[0], self.covering(ev, 0)), outside(kept[1], self.covering(ev, 1))

    def covering(self, ev: ArticleState, field_no: int) -> list[Extent]:
        """The hits of `exclude` in one field that may leave a hit out: those within one
        sentence. A phrase is read across a sentence break ("fighting. Positions"), but
        there it is no phrase of another sense, only two sentences' words."""
        hits = self.exclude.extents(ev)[field_no]
        if all(start == end for start, end in hits):  # single words: nothing to cross
            return hits
        sentences = ev.unit_numbers(field_no, True)
        return [(start, end) for start, end in hits if sentences[start] == sentences[end]]

    def _spans(self, ev: ArticleState, field_no: int) -> set[TermRange]:
        return {(field_no, s, e) for s, e in self.extents(ev)[field_no]}

    def _hit_terms(self, ev: ArticleState, field_no: int) -> HitTerms:
        return {x: frozenset({(field_no, *x)}) for x in self.extents(ev)[field_no]}


def outside(hits: list[Extent], others: list[Extent]) -> list[Extent]:
    """The hits (sorted) that overlap none of `others` (sorted by start)."""
    if not others or not hits:
        return hits
    covers = Covers(others)
    return [(start, end) for start, end in hits if covers.first_covering(start, end) is None]


class Covers:
    """Extents sorted by start, asked which of them first overlaps a hit: for each hit, the
    extents starting before its end are a prefix, and one of them reaches it when the
    furthest end among them does; the first to reach it is where that running end first
    gets there. NOT IN keeps the hits none covers, its explanation names the first cover."""

    def __init__(self, extents: list[Extent]) -> None:
        self.extents = extents
        self._starts = [start for start, _ in extents]
        self._reach = list(accumulate((end for _, end in extents), max))

    def first_covering(self, start: int, end: int) -> int | None:
        """The index of the first extent overlapping the hit (start, end), or None."""
        before = bisect_right(self._starts, end)
        if not before or self._reach[before - 1] < start:
            return None
        return bisect_left(self._reach, start, 0, before)


class NearPlan(Positional):
    """`left NEAR right`: pairs of hits close enough, joined into one hit."""

    def __init__(
        self,
        slot: int,
        left: Positional,
        right: Positional,
        scope: str,
        distance: int,
        ordered: bool,
    ) -> None:
        super().__init__(slot)
        self.left, self.right = left, right
        self.scope, self.distance, self.ordered = scope, distance, ordered

    def _present(self, ev: ArticleState) -> int:
        mask = 0
        for field_no in (0, 1):
            lefts = self.left.runs(ev, field_no)
            if lefts and self._any_pair(ev, field_no, lefts):
                mask |= 1 << field_no
        return mask

    def _any_pair(self, ev: ArticleState, field_no: int, lefts: list[Run]) -> bool:
        rights = self.right.runs(ev, field_no)
        if not rights:
            return False
        distance, ordered, units = self._rule(ev, field_no)
        for left in lefts:
            for right in rights:
                if any_pair(left, right, distance, ordered, units):
                    return True
        return False

    def _extents(self, ev: ArticleState) -> tuple[list[Extent], list[Extent]]:
        lefts, rights = self.left.extents(ev), self.right.extents(ev)
        title, body = (
            sorted({_joined(a, b) for a, b in chain_pairs(lefts[f], rights[f], *self._rule(ev, f))})
            for f in (0, 1)
        )
        return title, body

    def stating_sentences(self, ev: ArticleState, field_no: int) -> set[int]:
        """The sentences of one field that wholly hold a close pair, as the sentences of
        the node's extents wholly inside one would be, without joining every pair."""
        lefts, rights = self.left.extents(ev)[field_no], self.right.extents(ev)[field_no]
        if not lefts or not rights:
            return set()
        sentences = ev.unit_numbers(field_no, True)
        return units_with_pair(lefts, rights, *self._rule(ev, field_no), sentences)

    def _spans(self, ev: ArticleState, field_no: int) -> set[TermRange]:
        rule = self._rule(ev, field_no)
        if self.left.flat and self.right.flat:  # a hit's terms are the hit itself
            lefts, rights = self.left.extents(ev)[field_no], self.right.extents(ev)[field_no]
            used_left, used_right = used_hits(lefts, rights, *rule)
            return {(field_no, s, e) for s, e in used_left | used_right}
        left_terms = self.left.hit_terms(ev, field_no)
        right_terms = self.right.hit_terms(ev, field_no)
        used_left, used_right = used_hits(list(left_terms), list(right_terms), *rule)
        found: set[TermRange] = set()
        for a in used_left:
            found |= left_terms[a]
        for b in used_right:
            found |= right_terms[b]
        return found

    def _hit_terms(self, ev: ArticleState, field_no: int) -> HitTerms:
        lefts = self.left.hit_terms(ev, field_no)
        rights = self.right.hit_terms(ev, field_no)
        found = chain_pairs(list(lefts), list(rights), *self._rule(ev, field_no))
        return _merged((_joined(a, b), lefts[a] | rights[b]) for a, b in found)

    def _rule(self, ev: ArticleState, field_no: int) -> tuple[int, bool, Units]:
        """(distance, ordered, unit numbers or None for a word distance) in one field."""
        if self.scope == "words":
            return self.distance, self.ordered, None
        return 0, self.ordered, ev.unit_numbers(field_no, self.scope == "sentence")


def _joined(a: Extent, b: Extent) -> Extent:
    return (min(a[0], b[0]), max(a[1], b[1]))


def _union(lists: list[list[Extent]]) -> list[Extent]:
    """Sorted distinct extents of several sorted lists (one list is returned as it is)."""
    full = [x for x in lists if x]
    if len(full) <= 1:
        return full[0] if full else []
    return sorted(set().union(*full))


def _merged(hits: Iterable[tuple[Extent, frozenset[TermRange]]]) -> HitTerms:
    """Hits with equal extents merged into one, sorted by extent."""
    merged: HitTerms = {}
    for extent, terms in hits:
        merged[extent] = merged.get(extent, frozenset()) | terms
    return dict(sorted(merged.items()))
