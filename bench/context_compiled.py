"""Context labels compiled (experiment of issue 17): would a compiled core bring evidence and
labelling to 0.3x the warm tokenizer? The shipped rules over FA-KES, the pure-Python tree
against a copy built by mypyc, in one run.

Each tree runs in a process of its own (PYTHONPATH its root) that analyses the corpus,
matches it with the shipped rules and keeps each matched article's evaluator memos, as
bench/context_bench.py does; then per line read from stdin it times one warm tokenizer
pass over every title and body and one pass of evidence and labelling (each article's
evaluator restored from its memos before the pass, untimed), in CPU seconds. The trees'
passes take turns; the best of each counts, and both trees must give the same labels (a
digest of every match's labels).

    python -m bench.context_compiled 9 pure=. mypyc=/tmp/mypyc

The compiled tree is a copy of this one (`git archive HEAD bench watcher rules`) built in a
scratch venv with `pip install "mypy[mypyc]" numpy types-PyYAML`, then `mypyc
--ignore-missing-imports` on the context modules (context.py, context_sentence.py,
context_dates.py, context_lexicon.py and context_triggers.py, the trigger values; not
context_triggers_load.py, which only reads YAML) and the evidence's (evaluation.py,
positional.py, proximity.py), and mypy_extensions.py copied beside them. Four lines
change for the build: three `# type: ignore` where mypy cannot follow a sentinel
(ContextReader._sentence's `False`, the sentence's terminators in `_find_stops` and
`_reaches`), the dict comprehension of `OrPlan.__init__` written as a loop (mypyc 2.4.1
fails on it with an internal error), and `@mypyc_attr(allow_interpreted_subclasses=True)`
on Evaluator (context_bench subclasses it). RECORDED was measured on git 4f9f9f6, when
context.py still held the sentence, date and lexicon code that it has since handed to
modules of their own.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from typing import Any

from bench import turns

STAGES = ("tokenizer", "context")
# Evaluator's memos, copied attribute by attribute: a compiled Evaluator has no __dict__.
EVALUATOR_STATE = ("occurrences", "fields", "plans", "present", "members", "extents", "spans",
                   "hit_terms", "_units")


@dataclass(frozen=True)
class CompiledRun:
    """One tree's best CPU seconds of a warm tokenizer pass and of a context pass."""

    build: str
    tokenizer: float
    context: float

    @property
    def ratio(self) -> float:
        return self.context / self.tokenizer


# Measured by this module's main() on git 4f9f9f6 (2026-12-07 13:00 UTC, 2 CPUs (AMD EPYC)
# shared with three other jobs, load average 5), Python 3.11.7, gcc 12.2, mypy 2.4.1; best
# of 9 passes each; both trees gave the same labels (917 matches, 94 labelled). A second
# run of 15 passes just after: 1.29x (0.0316 s against 0.0245 s).
RECORDED = (
    CompiledRun("pure Python", 0.0589, 0.0289),
    CompiledRun("mypyc: context, evaluation, positional, proximity", 0.0589, 0.0232),
)


def compiled_lines() -> list[str]:
    """The experiment's paragraph and table in RESULTS.md's Context labels section."""
    pure = RECORDED[0]
    rows = [f"| {run.build} | {run.tokenizer:.4f} | {run.context:.4f} | {run.ratio:.3f}x | "
            f"{pure.context / run.context:.2f}x |" for run in RECORDED]
    return [
        "A compiled core (experiment, recorded; method and build: `bench/context_compiled.py`, "
        "not rerun by `bench.run`): the shipped rules' evidence and labelling with the "
        "context and evidence modules built by mypyc, against the pure-Python tree, CPU "
        "seconds, passes in turns, best of 9; the same labels in both.",
        "",
        "| build | warm tokenizer s | evidence + labelling s | / tokenizer | speed-up |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "A second run of 15 passes gave 1.29x. Compiled as they are, the modules do not "
        "bring the cost under 0.3x; code written "
        "for a compiler (typed locals, no numpy calls per sentence) might, at the price of a "
        "C compiler on every install, for a stage whose cost on unseen text, as the daemon "
        "reads articles, the reference line above gives.",
    ]


def serve() -> None:
    """Prepare the matched articles, then one timed pass of each stage per stdin line."""
    from functools import partial

    from bench.corpus import load_corpus
    from bench.paths import SHIPPED_RULES
    from watcher.engine.core import MAX_SPANS, Engine
    from watcher.engine.evaluation import Evaluator
    from watcher.rules.compile import Compiler
    from watcher.rules.load import load_rules
    from watcher.text.analysis import Analyzer

    corpus, analyzer = load_corpus(), Analyzer()
    engine = Engine(Compiler(analyzer).compile(list(load_rules(SHIPPED_RULES).enabled())),
                    analyzer)
    held: list[tuple[Any, dict[str, Any], list[tuple[Any, list[Any]]]]] = []
    for text in analyzer.analyse_many(corpus.articles):
        occurrences = engine.find_occurrences(text)
        evaluator = Evaluator(occurrences, text, engine.plans)
        found = engine.held_rules(evaluator, engine.candidate_rules(occurrences))
        if found:
            matches = [(compiled.query, sorted(terms)[:MAX_SPANS]) for compiled, terms in found]
            held.append((text, _state(evaluator), matches))
    texts = corpus.field_texts()
    tokenizer = analyzer.nlp.tokenizer

    def context() -> list[Any]:
        labelled = []
        for text, state, matches in held:
            for field in text.fields():
                vars(field).pop("_lead_tokens", None)  # asked again per article, as the engine
            evaluator = _restored(Evaluator(state["occurrences"], text, state["plans"]), state)
            reader = engine.context_reader(text, partial(evaluator.unit_numbers, sentence=True))
            labelled.extend(reader.labels(terms, partial(evaluator.evidence, query))
                            for query, terms in matches)
        return labelled

    labels = context()
    print(json.dumps({"matches": len(labels), "labelled": sum(1 for one in labels if one),
                      "digest": hashlib.sha256(repr(labels).encode()).hexdigest()[:16]}),
          flush=True)

    def tokenize() -> None:
        for text in texts:
            tokenizer(text)  # each Doc dropped at once, as analysis drops its own

    works = {"tokenizer": tokenize, "context": context}
    for _ in sys.stdin:
        print(json.dumps(turns.cpu_seconds(works)), flush=True)


def _state(evaluator: Any) -> dict[str, Any]:
    """Copies of an evaluator's memos as matching left them."""
    return {name: _copy(getattr(evaluator, name)) for name in EVALUATOR_STATE}


def _restored(evaluator: Any, state: dict[str, Any]) -> Any:
    for name, value in state.items():
        setattr(evaluator, name, _copy(value))
    return evaluator


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def compare(passes: int, roots: dict[str, str]) -> dict[str, dict[str, float]]:
    """Best CPU seconds per stage of each tree, passes in turns; the same labels or fail."""
    return turns.trees_in_turns("bench.context_compiled", passes, roots)


def main() -> None:
    turns.main(serve, compare, STAGES)


if __name__ == "__main__":
    main()
