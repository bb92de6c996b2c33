"""Query evaluation over one article's occurrences: is a rule true, and which terms made it.

Compiled queries become plans (one object per distinct compiled node, shared like the nodes)
whose methods do the work, so evaluation dispatches by method and memoises by a slot number.
"""

from __future__ import annotations

from watcher.engine.occurrences import Occurrences
from watcher.engine.positional import (
    FIELDS,
    AnyPlan,
    ArticleState,
    FieldPlan,
    HitTerms,
    NearPlan,
    NotInPlan,
    Plan,
    Positional,
    TermPlan,
    TermRange,
)
from watcher.engine.proximity import Extent
from watcher.rules.compile import CAnd, CField, CNear, CNode, CNot, CNotIn, COr, CTerm
from watcher.text.analysis import AnalysedText

__all__ = ["FIELDS", "Evaluator", "Plans", "Sentence", "TermRange"]

Sentence = tuple[int, int]  # (field, sentence number in the field)


class Evaluator:
    """Evaluates compiled queries over one article's occurrences.

    Truth comes first and needs only extents (where a term or NEAR chain occurs); the
    term ranges behind a match are collected for true rules only. Field sets are bit
    masks (1 title, 2 body). The memos live here, per article, keyed by plan slot.
    """

    def __init__(
        self, occurrences: Occurrences, text: AnalysedText, plans: Plans | None = None
    ) -> None:
        self.occurrences = occurrences
        self.fields = text.fields()
        self.plans = plans if plans is not None else Plans()
        self.present: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}  # by slot: an OR's terms that occur
        self.extents: dict[int, tuple[list[Extent], list[Extent]]] = {}
        self.spans: dict[int, set[TermRange]] = {}  # by slot * 2 + field
        self.hit_terms: dict[int, HitTerms] = {}  # by slot * 2 + field
        self._units: dict[tuple[int, bool], list[int]] = {}

    def truth(self, node: CNode, fields: tuple[int, ...]) -> set[TermRange] | None:
        """None when false; else the term ranges that made it true (none for a NOT)."""
        plan = self.plans.of(node)
        mask = 3 if fields == (0, 1) else sum(1 << f for f in fields)
        if not plan.holds(self, mask):
            return None
        found: set[TermRange] = set()
        plan.collect(self, mask, found)
        return found

    def evidence(self, node: CNode, fields: tuple[int, ...] = (0, 1)) -> frozenset[Sentence]:
        """The sentences (field, sentence number) in which one of the query's outermost
        NEARs holds on its own, both sides in the sentence: where the article states the
        event the rule looks for, not where it only names one side again (a place)."""
        plan = self.plans.of(node)
        mask = 3 if fields == (0, 1) else sum(1 << f for f in fields)
        found: set[Sentence] = set()
        self._sentences_of_nears(plan, mask, found)
        return frozenset(found)

    def _sentences_of_nears(self, plan: Plan, mask: int, found: set[Sentence]) -> None:
        match plan:
            case NearPlan():
                # Where the NEAR holds is known from matching: elsewhere no pair is close.
                present = plan.present(self) & mask
                for field_no in (0, 1):
                    if present >> field_no & 1:
                        found.update((field_no, sentence)
                                     for sentence in plan.stating_sentences(self, field_no))
            case AllPlan() | AnyPlan():
                for child in plan.children:
                    self._sentences_of_nears(child, mask, found)
            case EitherPlan():
                for child in plan.children:
                    if child.holds(self, mask):
                        self._sentences_of_nears(child, mask, found)
            case ScopePlan() | FieldPlan():
                self._sentences_of_nears(plan.child, mask & plan.bit, found)

    def unit_numbers(self, field_no: int, sentence: bool) -> list[int]:
        """Each word's sentence (or paragraph) number as a list: read per hit, not per word."""
        key = (field_no, sentence)
        found = self._units.get(key)
        if found is None:
            field_text = self.fields[field_no]
            found = (field_text.sentence if sentence else field_text.paragraph).tolist()
            self._units[key] = found
        return found


class Plans:
    """One plan per distinct compiled node, built on first use and kept for every article."""

    def __init__(self) -> None:
        self._plans: dict[int, tuple[CNode, Plan]] = {}  # by id(node); the node keeps its id
        self._slots = 0

    def of(self, node: CNode) -> Plan:
        known = self._plans.get(id(node))
        if known is not None:
            return known[1]
        plan = self._build(node)
        self._plans[id(node)] = (node, plan)
        return plan

    def _build(self, node: CNode) -> Plan:
        slot = self._slots = self._slots + 1  # children take slots too: count, not len()
        match node:
            case CTerm(seq):
                return TermPlan(slot, seq)
            case CNear(left, right, scope, distance, ordered):
                sides = self.of(left), self.of(right)
                if not all(isinstance(p, Positional) for p in sides):
                    # The loader rejects AND/NOT inside NEAR: reaching here is our bug.
                    raise TypeError(f"not positional: {node!r}")
                return NearPlan(slot, *sides, scope, distance, ordered)  # type: ignore[arg-type]
            case CNotIn(include, exclude):
                sides = self.of(include), self.of(exclude)
                if not all(isinstance(p, Positional) and p.flat for p in sides):
                    # The grammar takes only terms and OR-groups of them: our bug.
                    raise TypeError(f"not terms or OR-groups of them: {node!r}")
                return NotInPlan(slot, *sides)  # type: ignore[arg-type]
            case COr(children):
                plans = tuple(self.of(c) for c in children)
                positional = tuple(p for p in plans if isinstance(p, Positional))
                if len(positional) == len(plans):
                    return AnyPlan(slot, positional)
                return EitherPlan(plans)
            case CField(name, child):
                plan = self.of(child)
                bit = 1 << FIELDS.index(name)
                return (
                    FieldPlan(slot, bit, plan)
                    if isinstance(plan, Positional)
                    else ScopePlan(bit, plan)
                )
            case CAnd(children):
                return AllPlan(tuple(self.of(c) for c in children))
            case CNot(child):
                return NotPlan(self.of(child))
        raise TypeError(f"not a query node: {node!r}")


# -- boolean nodes ------------------------------------------------------------------------


class AllPlan(Plan):
    def __init__(self, children: tuple[Plan, ...]) -> None:
        self.children = children

    def holds(self, ev: ArticleState, mask: int) -> bool:
        return all(c.holds(ev, mask) for c in self.children)

    def collect(self, ev: ArticleState, mask: int, found: set[TermRange]) -> None:
        for child in self.children:
            child.collect(ev, mask, found)


class EitherPlan(Plan):
    """An OR with a boolean child: only its true children's terms count."""

    def __init__(self, children: tuple[Plan, ...]) -> None:
        self.children = children

    def holds(self, ev: ArticleState, mask: int) -> bool:
        return any(c.holds(ev, mask) for c in self.children)

    def collect(self, ev: ArticleState, mask: int, found: set[TermRange]) -> None:
        for child in self.children:
            if child.holds(ev, mask):
                child.collect(ev, mask, found)


class NotPlan(Plan):
    def __init__(self, child: Plan) -> None:
        self.child = child

    def holds(self, ev: ArticleState, mask: int) -> bool:
        return not self.child.holds(ev, mask)

    def collect(self, ev: ArticleState, mask: int, found: set[TermRange]) -> None:
        pass


class ScopePlan(Plan):
    """`title:( … )` around a boolean query: the fields narrow for everything inside."""

    def __init__(self, bit: int, child: Plan) -> None:
        self.bit = bit
        self.child = child

    def holds(self, ev: ArticleState, mask: int) -> bool:
        return self.child.holds(ev, mask & self.bit)

    def collect(self, ev: ArticleState, mask: int, found: set[TermRange]) -> None:
        self.child.collect(ev, mask & self.bit, found)
