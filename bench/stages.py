"""The engine's four stages timed apart, unprofiled: what a 2x target leaves for each.

`Engine.match` is find_occurrences -> candidate_rules -> evaluate -> build_match; each
stage is run over the whole corpus on the previous stage's output, best of several passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.measure import Repeats, best_of_many
from watcher.engine.core import Engine, build_match
from watcher.text.analysis import AnalysedText


@dataclass(frozen=True)
class Stages:
    """Best seconds per corpus pass of each stage, and the matches built."""

    scan: float
    candidates: float
    evaluation: float
    building: float
    matches: int

    @property
    def total(self) -> float:
        return self.scan + self.candidates + self.evaluation + self.building


def measure_stages(engine: Engine, analysed: list[AnalysedText], repeats: Repeats) -> Stages:
    for text in analysed:  # learn word types and build plans outside the timed passes
        engine.match(text)
    occurrences = [engine.find_occurrences(text) for text in analysed]
    scan = best_of_many(lambda: _find_each(engine, analysed), repeats)
    # Generated rules name no `sources:`, so no candidate is dropped for its source here.
    candidates = [engine.candidate_rules(o) for o in occurrences]
    choosing = best_of_many(lambda: [engine.candidate_rules(o) for o in occurrences], repeats)

    def evaluate() -> list:
        return [
            (text, held)
            for text, o, rules in zip(analysed, occurrences, candidates, strict=True)
            for held in engine.evaluate(text, o, rules)
        ]

    held = evaluate()
    evaluation = best_of_many(evaluate, repeats)
    building = best_of_many(
        lambda: [build_match(c, text, terms) for text, (c, terms) in held], repeats
    )
    return Stages(scan.best, choosing.best, evaluation.best, building.best, len(held))


def _find_each(engine: Engine, analysed: list[AnalysedText]) -> None:
    """Each article's occurrences, dropped at once as `match` drops them: a pass that kept
    all 804 alive grew the heap enough to start a full collection of the collector's (0.2 s
    with 10,000 rules loaded), which more than doubled the stage's best (issue 20)."""
    for text in analysed:
        engine.find_occurrences(text)
