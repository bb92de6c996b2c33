"""Why a rule does or does not match one article: its query tree, clause by clause.

Pure (no I/O). It walks the rule's query and its compiled nodes side by side and asks the
engine's own plans (watcher/engine/positional.py, evaluation.py) whether each node holds
and where its hits are, so the verdict is the engine's and cannot disagree with it. What it
adds: the article's words each term matched, for a NEAR the closest pair of its two
sides with their distance in words against the limit, which names a near miss
("siege ... Qamishlo: 25 words apart, NEAR/12 allows 12"), and for a NOT IN each
occurrence it left out with the one that covers it ("fighting, in fighting positions").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import partial
from typing import Any

import numpy as np

from watcher.engine.core import Engine
from watcher.engine.evaluation import FIELDS, Evaluator
from watcher.engine.positional import Covers, NearPlan, NotInPlan, Positional
from watcher.engine.proximity import Extent
from watcher.model import ContextLabel, ContextLabelName
from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Term
from watcher.rules.compile import (
    CAnd,
    CField,
    CNear,
    CNode,
    CNot,
    CNotIn,
    CompiledRule,
    COr,
    CTerm,
)
from watcher.text.analysis import AnalysedText

__all__ = [
    "LEFT_OUT_NAMED", "Closest", "Explanation", "LeftOut", "Step", "explain", "near_label",
    "near_verdict", "not_in_verdict", "step_json", "step_says", "term_label",
]

# Left rows compared with every right hit at once when looking for the closest pair.
_ROWS = 256
# A NOT IN's occurrences left out named in what it says, past which they are counted (as an
# OR's absent terms are): an article may repeat the phrase hundreds of times.
LEFT_OUT_NAMED = 5


@dataclass(frozen=True)
class Closest:
    """The closest left and right hits of a NEAR in one field: `words` lie between them
    (0 when they touch or overlap); `same_unit` whether both lie in one sentence
    (paragraph) for NEAR/s (NEAR/p); `in_order` False when ONEAR found them only the other
    way round."""

    field: str
    left: str
    right: str
    words: int
    same_unit: bool
    in_order: bool = True


@dataclass(frozen=True)
class LeftOut:
    """An occurrence of a NOT IN's left side that it dropped (`word`), and the occurrence of
    its right side that covers it (`by`), as the article writes them."""

    field: str
    word: str
    by: str


@dataclass(frozen=True)
class Step:
    """One node of the query as it fared on the article: whether it holds, the article's
    words a term matched (`forms`), for a NEAR its closest pair, for a NOT IN the
    occurrences it dropped (`left_out`) out of `occurrences` of its left side. `excludes`
    marks a NOT IN's right side, whose presence works against the match: where it occurs,
    it leaves the left side out."""

    kind: str  # term | and | or | not | near | notin | field
    label: str  # how the query writes it: `siege`, `~Qamishli`, `NEAR/12`, `OR`, `title:`
    holds: bool
    forms: tuple[str, ...] = ()
    near: Near | None = None
    closest: Closest | None = None
    children: tuple[Step, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    occurrences: int = 0
    excludes: bool = False


@dataclass(frozen=True)
class Explanation:
    """A rule on one article: the engine's verdict, the query tree, the context labels of a
    match and those that hold it back; `other_source` when the rule's `sources:` leave the
    article out (then it does not match whatever its query says)."""

    rule_id: str
    article_id: str
    matches: bool
    root: Step
    other_source: bool = False
    disabled: bool = False
    context: tuple[ContextLabel, ...] = ()
    held: tuple[ContextLabelName, ...] = ()


def explain(
    engine: Engine, compiled: CompiledRule, text: AnalysedText, *, disabled: bool = False
) -> Explanation:
    """Explain one compiled rule of `engine` on one analysed article; `disabled`: the rule
    is (compiled anyway, to show its query), so it matches nothing."""
    evaluator = Evaluator(engine.find_occurrences(text), text, engine.plans)
    walker = _Walker(engine, evaluator, text)
    root = walker.step(compiled.rule.query, compiled.query, 3)
    rule = compiled.rule
    other_source = bool(rule.sources) and not any(
        fnmatchcase(text.article.source, pattern) for pattern in rule.sources
    )
    matches = root.holds and not other_source and not disabled
    context: tuple[ContextLabel, ...] = ()
    held: tuple[ContextLabelName, ...] = ()
    if matches:
        terms = evaluator.truth(compiled.query, (0, 1)) or set()
        found = engine.match_of(
            compiled, text, terms, evaluator,
            engine.context_reader(text, partial(evaluator.unit_numbers, sentence=True)),
        )
        context, held = found.context, found.held
    return Explanation(rule.id, text.article.id, matches, root, other_source,
                       disabled, context, held)


class _Walker:
    """Walks a query and its compiled node together, asking the engine's plans."""

    def __init__(self, engine: Engine, evaluator: Evaluator, text: AnalysedText) -> None:
        self.plans = engine.plans
        self.evaluator = evaluator
        self.fields = text.fields()

    def step(self, query: Query, node: CNode, mask: int) -> Step:
        """The node under a field mask (1 title, 2 body, 3 both), as the plans see it."""
        holds = self.plans.of(node).holds(self.evaluator, mask)
        match query, node:
            case Term(), CTerm():
                return Step("term", term_label(query), holds, self._forms(node, mask))
            case And(children), CAnd(compiled):
                return Step("and", "AND", holds, children=self._steps(children, compiled, mask))
            case Or(children), COr(compiled):
                return Step("or", "OR", holds, children=self._steps(children, compiled, mask))
            case Not(child), CNot(compiled):
                return Step("not", "NOT", holds, children=(self.step(child, compiled, mask),))
            case InField(name, child), CField(_, compiled):
                inner = mask & (1 << FIELDS.index(name))
                return Step("field", f"{name}:", holds,
                            children=(self.step(child, compiled, inner),))
            case Near(left, right), CNear(left_node, right_node):
                sides = (self.step(left, left_node, mask), self.step(right, right_node, mask))
                return Step("near", near_label(query), holds, near=query,
                            closest=self._closest(node, mask), children=sides)
            case NotIn(include, exclude), CNotIn(include_node, exclude_node):
                sides = (self.step(include, include_node, mask),
                         replace(self.step(exclude, exclude_node, mask), excludes=True))
                occurrences, left_out = self._left_out(node, mask)
                return Step("notin", "NOT IN", holds, children=sides, left_out=left_out,
                            occurrences=occurrences)
        raise TypeError(f"query and compiled node differ: {query!r}, {node!r}")

    def _steps(
        self, queries: tuple[Query, ...], nodes: tuple[CNode, ...], mask: int
    ) -> tuple[Step, ...]:
        return tuple(self.step(q, n, mask) for q, n in zip(queries, nodes, strict=True))

    def _forms(self, node: CTerm, mask: int) -> tuple[str, ...]:
        """The article's words at the term's hits, each distinct form once, in order."""
        plan = self.plans.of(node)
        assert isinstance(plan, Positional)
        forms: dict[str, None] = {}
        for field_no, extents in enumerate(plan.extents(self.evaluator)):
            if mask >> field_no & 1:
                for extent in extents:
                    forms.setdefault(self._words(field_no, extent), None)
        return tuple(forms)

    def _words(self, field_no: int, extent: Extent) -> str:
        field = self.fields[field_no]
        return field.text[int(field.starts[extent[0]]):int(field.ends[extent[1]])]

    def _left_out(self, node: CNotIn, mask: int) -> tuple[int, tuple[LeftOut, ...]]:
        """How many occurrences the left side has in the mask's fields, and each one the NOT
        IN dropped with the first right-side occurrence that covers it."""
        plan = self.plans.of(node)
        assert isinstance(plan, NotInPlan)
        count, found = 0, []
        for field_no in (0, 1):
            if not mask >> field_no & 1:
                continue
            hits = plan.include.extents(self.evaluator)[field_no]
            count += len(hits)
            if len(plan.extents(self.evaluator)[field_no]) == len(hits):
                continue
            covers = Covers(plan.covering(self.evaluator, field_no))
            for start, end in hits:
                by = covers.first_covering(start, end)
                if by is not None:
                    found.append(LeftOut(FIELDS[field_no], self._words(field_no, (start, end)),
                                         self._words(field_no, covers.extents[by])))
        return count, tuple(found)

    def _closest(self, node: CNear, mask: int) -> Closest | None:
        """The closest pair of the NEAR's two sides over the fields in the mask (one that
        satisfies the NEAR first, when there is one); None unless both sides occur in one
        field."""
        plan = self.plans.of(node)
        assert isinstance(plan, NearPlan)
        found = []
        for field_no in (0, 1):
            if mask >> field_no & 1:
                lefts = plan.left.extents(self.evaluator)[field_no]
                rights = plan.right.extents(self.evaluator)[field_no]
                pair = self._pair(plan, field_no, lefts, rights)
                if pair is not None:
                    found.append(pair)
        if not found:
            return None
        return min(found, key=lambda c: (not _satisfies(plan, c), not c.in_order, c.words))

    def _pair(
        self, plan: NearPlan, field_no: int, lefts: list[Extent], rights: list[Extent]
    ) -> Closest | None:
        if not lefts or not rights:
            return None
        units = None
        if plan.scope != "words":
            units = np.array(self.evaluator.unit_numbers(field_no, plan.scope == "sentence"))
        best = _closest_pair(lefts, rights, plan.ordered, units)
        in_order = best is not None
        if best is None:  # ONEAR: the two sides occur only the other way round
            best = _closest_pair(lefts, rights, False, units)
            assert best is not None
        a, b, words, same = best
        return Closest(FIELDS[field_no], self._words(field_no, a), self._words(field_no, b),
                       words, same, in_order)


def _satisfies(plan: NearPlan, closest: Closest) -> bool:
    if not closest.in_order:
        return False
    return closest.words <= plan.distance if plan.scope == "words" else closest.same_unit


def _closest_pair(
    lefts: list[Extent], rights: list[Extent], ordered: bool, units: np.ndarray | None
) -> tuple[Extent, Extent, int, bool] | None:
    """The (left, right) pair with the fewest words between them; with `units`, a pair
    inside one unit first. None when no pair qualifies (ONEAR: none in order)."""
    right = np.array(rights, dtype=np.int64).reshape(-1, 2)
    best: tuple[int, int, int, int] | None = None  # (not same unit, words, left, right)
    for start in range(0, len(lefts), _ROWS):
        left = np.array(lefts[start:start + _ROWS], dtype=np.int64).reshape(-1, 2)
        after = right[None, :, 0] - left[:, None, 1] - 1  # words from left's end to right
        before = left[:, None, 0] - right[None, :, 1] - 1
        words = np.maximum(np.maximum(after, before), 0)
        apart = np.zeros_like(words)
        if units is not None:
            whole_left = units[left[:, 0]] == units[left[:, 1]]
            whole_right = units[right[:, 0]] == units[right[:, 1]]
            same = ((units[left[:, None, 0]] == units[right[None, :, 0]])
                    & whole_left[:, None] & whole_right[None, :])
            apart = (~same).astype(np.int64)
        cost = apart * (1 << 40) + words
        if ordered:
            cost = np.where(after >= 0, cost, np.iinfo(np.int64).max)
        i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
        if int(cost[i, j]) == np.iinfo(np.int64).max:
            continue
        candidate = (int(apart[i, j]), int(words[i, j]), start + int(i), int(j))
        if best is None or candidate < best:
            best = candidate
    if best is None:
        return None
    apart, words, i, j = best
    return lefts[i], rights[j], words, units is not None and not apart


def term_label(term: Term) -> str:
    """A term as the query writes it."""
    text = f'"{term.text}"' if " " in term.text else term.text
    return {"exact": "=", "variant": "~"}.get(term.kind, "") + text + (
        "*" if term.kind == "prefix" else ""
    )


def near_label(near: Near) -> str:
    """`NEAR/12`, `ONEAR/3`, `NEAR/s`, `NEAR/p`."""
    arg = {"sentence": "s", "paragraph": "p"}.get(near.scope, str(near.distance))
    return f"{'ONEAR' if near.ordered else 'NEAR'}/{arg}"


def near_verdict(step: Step) -> str:
    """What the closest pair of a NEAR says: `siege ... Qamishlo: 25 words apart, NEAR/12
    allows 12`; empty when the two sides never meet in one field."""
    closest, near = step.closest, step.near
    if closest is None or near is None:
        return ""
    label = near_label(near)
    pair = f"{closest.left} ... {closest.right}: {_words(closest.words)} apart"
    if not closest.in_order:
        return (f"{closest.right} ... {closest.left}: only in the other order, "
                f"{label} wants the left side first")
    if near.scope == "words":
        return f"{pair}, {label} allows {near.distance}"
    unit = "sentence" if near.scope == "sentence" else "paragraph"
    return f"{pair}, {'in one' if closest.same_unit else 'not in one'} {unit} ({label})"


def not_in_verdict(step: Step) -> str:
    """What a NOT IN did: `kept 1 of 3; left out: fighting (in "fighting positions"), …`,
    the first LEFT_OUT_NAMED named and the rest counted; empty when its left side does not
    occur."""
    if step.kind != "notin" or not step.occurrences:
        return ""
    kept = f"kept {step.occurrences - len(step.left_out)} of {step.occurrences}"
    if not step.left_out:
        return kept
    named = ", ".join(f'{gone.word} (in "{gone.by}")' for gone in step.left_out[:LEFT_OUT_NAMED])
    more = len(step.left_out) - LEFT_OUT_NAMED
    return f"{kept}; left out: {named}" + (f" and {more} more" if more > 0 else "")


def step_says(step: Step) -> str:
    """What a NEAR's closest pair or a NOT IN's dropped occurrences say; empty otherwise."""
    return near_verdict(step) or not_in_verdict(step)


def _words(count: int) -> str:
    return f"{count} word{'s' if count != 1 else ''}"


def step_json(step: Step) -> dict[str, Any]:
    """One node of the tree as JSON (`watcher explain --format json`, the workbench's API):
    kind, label, whether it holds, a term's matched forms, a NEAR's closest pair and what it
    says, a NOT IN's occurrences left out and what it says, `excludes` on a NOT IN's right
    side, and the children."""
    node: dict[str, Any] = {"kind": step.kind, "label": step.label, "holds": step.holds}
    if step.excludes:
        node["excludes"] = True
    if step.kind == "term":
        node["forms"] = list(step.forms)
    if step.kind == "near":
        closest = step.closest
        node["closest"] = None if closest is None else {
            "field": closest.field, "left": closest.left, "right": closest.right,
            "words": closest.words, "same_unit": closest.same_unit,
            "in_order": closest.in_order,
        }
        node["says"] = near_verdict(step)
    if step.kind == "notin":
        node["occurrences"] = step.occurrences
        node["left_out"] = [{"field": gone.field, "word": gone.word, "by": gone.by}
                            for gone in step.left_out]
        node["says"] = not_in_verdict(step)
    if step.children:
        node["children"] = [step_json(child) for child in step.children]
    return node
