"""The rest of `Engine.match` split apart, 10,000 generated rules over FA-KES, against another
tree: what locating the matches and their `~Name` spans cost before and after issue 20's work.

Each tree runs in a process of its own (PYTHONPATH its root) that analyses the corpus,
compiles the rules and makes one untimed `Engine.match` pass (word types, plans, the
gazetteer), then per line read from stdin makes one pass of each: the warm tokenizer, the
engine alone (`match` on pre-analysed texts), analysis + engine, and `match` taken apart,
its pieces timed per article and summed: finding, choosing and evaluating the rules; the
context reader; each match's evidence; `build_match` with its context labels; the `~Name`
spans; `locate`; and, apart, `build_match` without a reader (spans and snippet alone: the
labels are the difference). CPU seconds (`time.process_time`: a busy machine disturbs it
less than wall time). The trees' passes take turns; the best of each counts, and both trees
must find the same matches, places included (a digest of every match's repr).

    python -m bench.locate_bench 7 base=/tmp/base this=.

`base` is a tree exported with `git archive` (the code before); its `_variant_spans` took
the evaluator and the fields, this tree's takes the article's `ArticleVariants`.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType

LOCATE_RULES = 10_000
# What one pass times, in this order: whole passes, then `match`'s pieces summed per article.
PASSES = ("tokenizer", "engine", "full")
PIECES = ("front", "reader", "evidence", "build", "variants", "locate", "unlabelled")


@dataclass(frozen=True)
class TreeRun:
    """One tree's best CPU seconds of each pass and piece (PASSES then PIECES)."""

    tree: str
    best: dict[str, float]


# Measured by this module's main(), 9 passes each: git 29fbb36 (before) against this change
# on it, 2026-12-07 08:19-08:21 UTC, 2 CPUs (AMD EPYC) shared with two other jobs (load
# average 3.4-3.7), Python 3.11.7; both found the same 3,721 matches.
RECORDED = (
    TreeRun("before (git 29fbb36)", {
        "tokenizer": 0.0583, "engine": 0.832, "full": 1.168, "front": 0.449, "reader": 0.013,
        "evidence": 0.030, "build": 0.158, "variants": 0.047, "locate": 0.159,
        "unlabelled": 0.075}),
    TreeRun("after", {
        "tokenizer": 0.0583, "engine": 0.745, "full": 1.092, "front": 0.436, "reader": 0.013,
        "evidence": 0.030, "build": 0.157, "variants": 0.038, "locate": 0.086,
        "unlabelled": 0.074}),
)
RECORDED_WHEN = ("git 29fbb36 against this change on it, 2026-12-07 08:19 UTC, load 3.4-3.7 "
                 "on 2 CPUs")


def locate_lines() -> list[str]:
    """The subsection of RESULTS.md (under the engine's time) with the recorded figures."""
    if len(RECORDED) != 2:
        return []
    before, after = (run.best for run in RECORDED)
    rows = [
        ("finding, choosing and evaluating the rules", "front"),
        ("context reader (per article)", "reader"),
        ("each match's evidence sentences", "evidence"),
        ("`build_match` with context labels (spans, snippet, labels)", "build"),
        ("of which `build_match` without a reader (spans, snippet)", "unlabelled"),
        ("`~Name` spans (`_variant_spans`)", "variants"),
        ("places (`Locator.locate`)", "locate"),
        ("engine alone (`Engine.match`)", "engine"),
        ("analysis + engine", "full"),
        ("warm tokenizer", "tokenizer"),
    ]
    table = [
        "| piece | before s | after s | before / after |",
        "|---|---|---|---|",
        *(f"| {label} | {before[key]:.3f} | {after[key]:.3f} | {before[key] / after[key]:.2f}x |"
          for label, key in rows),
    ]
    ratio = [before["full"] / before["tokenizer"], after["full"] / after["tokenizer"]]
    rest = [_rest_of_match(before), _rest_of_match(after)]
    return [
        "### Locating matches and their `~Name` spans",
        "",
        f"The rest of `match` taken apart, {LOCATE_RULES:,} rules, CPU seconds, pieces timed "
        f"per article and summed, the two trees' passes in turns, best of each "
        f"({RECORDED_WHEN}; method: `bench/locate_bench.py`, not rerun by `bench.run`). "
        "Both trees found the same matches, places included. Locating now keeps for the "
        "process each name's candidate places (by the name as written) and each place's "
        "description, and for the article each span text's names, each set of names' "
        "places and each `~Name` term's spans (rules share their terms' compiled nodes); "
        "a span of lower-case ASCII words is no place's name and is not read.",
        "",
        *table,
        "",
        f"The rest of `match` (reader, evidence, context labels, `~Name` spans, places): "
        f"{rest[0]:.3f} s before ({rest[0] / before['engine']:.0%} of the engine alone, places "
        f"and `~Name` spans {before['locate'] + before['variants']:.3f} s of it), {rest[1]:.3f} s "
        f"after ({rest[1] / after['engine']:.0%}). Analysis + engine / warm tokenizer, as the "
        f"targets read it: {ratio[0]:.2f}x before, {ratio[1]:.2f}x after.",
    ]


def _rest_of_match(best: dict[str, float]) -> float:
    """What `match` spends past evaluating and building (labels: build less unlabelled)."""
    return (best["reader"] + best["evidence"] + best["build"] - best["unlabelled"]
            + best["variants"] + best["locate"])


def serve() -> None:
    """Prepare one engine, then one timed pass of each per line read from stdin."""
    turns = _turns()
    corpus, analyzer, engine, analysed = turns.prepared_engine(LOCATE_RULES)
    texts = corpus.field_texts()
    tokenizer = analyzer.nlp.tokenizer

    def tokenize_all() -> None:
        for t in texts:
            tokenizer(t)

    works: dict[str, Callable[[], object]] = {
        "tokenizer": tokenize_all,
        "engine": lambda: [engine.match(text) for text in analysed],
        "full": lambda: [engine.match(t) for t in analyzer.analyse_many(corpus.articles)],
    }
    for _ in sys.stdin:
        seconds = turns.cpu_seconds(works)
        gc.collect()
        seconds.update(_pieces(engine, analysed))
        print(json.dumps(seconds), flush=True)


def _pieces(engine, analysed) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """`Engine.match` taken apart as it runs, each piece's CPU time summed over the corpus."""
    from watcher.engine import locate
    from watcher.engine.core import _span, build_match
    from watcher.engine.evaluation import FIELDS, Evaluator

    clock = time.process_time
    spent = dict.fromkeys(PIECES, 0.0)
    for text in analysed:
        started = clock()
        occurrences = engine.find_occurrences(text)
        excluded = engine._rules_excluded_for(text.article.source)
        candidates = [n for n in engine.candidate_rules(occurrences) if n not in excluded]
        evaluator = Evaluator(occurrences, text, engine.plans)
        held = engine.held_rules(evaluator, candidates)
        spent["front"] += clock() - started
        if not held:
            continue
        started = clock()
        reader = engine.context_reader(text, partial(evaluator.unit_numbers, sentence=True))
        fields = text.fields()
        if hasattr(locate, "ArticleVariants"):  # this tree
            per_article = locate.ArticleVariants(
                occurrences.occurring, lambda node, e=evaluator: e.truth(node, (0, 1)),
                partial(_span, fields))
            variant_spans = partial(engine._variant_spans, variants=per_article)
        else:  # the tree before
            variant_spans = partial(engine._variant_spans, evaluator=evaluator, fields=fields)
        spent["reader"] += clock() - started
        found = []
        for compiled, terms in held:
            started = clock()
            evidence = evaluator.evidence(compiled.query)
            built = clock()
            match = build_match(compiled, text, terms, reader, engine.exclude,
                                evidence=lambda found=evidence: found)
            labelled = clock()
            found.append((match, variant_spans(compiled)))
            spent["evidence"] += built - started
            spent["build"] += labelled - built
            spent["variants"] += clock() - labelled
            started = clock()  # not part of match: the same without context, to tell it apart
            build_match(compiled, text, terms)
            spent["unlabelled"] += clock() - started
        started = clock()
        engine.locator.locate({FIELDS[f]: fields[f].text for f in (0, 1)}, found)
        spent["locate"] += clock() - started
    return spent


def compare(passes: int, roots: dict[str, str]) -> dict[str, dict[str, float]]:
    """Best CPU seconds of each tree, passes in turns; the same matches or fail. The worker
    runs this file by its path, so a tree exported from before it was written serves too."""
    serve_this = f"import runpy; runpy.run_path({str(Path(__file__).resolve())!r}, " \
        "run_name='__main__')"
    workers = {
        label: subprocess.Popen(
            [sys.executable, "-c", serve_this, "--serve"], cwd=root, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(root).resolve())},
        )
        for label, root in roots.items()
    }
    found, best = _turns().best_in_turns(workers, passes)
    print(f"same matches in every tree: {found}", flush=True)
    return best


def _turns() -> ModuleType:
    """bench/turns.py, read from beside this file: a worker's tree may predate it."""
    spec = importlib.util.spec_from_file_location("turns", Path(__file__).with_name("turns.py"))
    turns = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(turns)  # type: ignore[union-attr]
    return turns


def main() -> None:
    _turns().main(serve, compare, (*PASSES, *PIECES))


if __name__ == "__main__":
    main()
