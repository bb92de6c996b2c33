"""Unseen text: the tokenizer alone against analysis + engine (10,000 rules) on news that the
analyser has not met, this tree against a baseline revision in the same run.

FA-KES is split by date: each pass starts a fresh analyser (empty tokenizer cache, empty
word-type table) and a fresh engine, warms both on the older half (analysis + engine over
it; the tokenizer alone over its titles and bodies, on an analyser of its own), then times
the tokenizer alone over the newer half's titles and bodies (each one call, as a spaCy user
tokenizes texts) and analysis + engine over the newer half (`analyse_many`, `match`, as
`watcher run` does). Every pass is a first sight of the newer half, so passes repeat the
whole warm-up; the best pass of each counts.

    python -m bench.unseen_bench [--passes N] [--articles N] [--against REV]

`--against REV` runs the code at git revision REV (`git archive` into a scratch directory)
and the working tree in two processes whose passes alternate, as bench/store_write.py does.
The worker uses only APIs both have (Analyzer, Compiler, Engine, bench's rule generator).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import load_corpus
from bench.measure import Machine, machine, progress
from bench.paths import ROOT
from bench.rulegen import build_vocabulary, generate_rules, parse_rules
from watcher.engine.core import Engine
from watcher.model import Article
from watcher.rules.compile import Compiler
from watcher.text.analysis import Analyzer

UNSEEN_RULES = 10_000
UNSEEN_BASELINE = "d6ceb09"  # analysis and engine as issue 20 found them
UNSEEN_PASSES = 9  # each pass a first sight: single passes vary a lot on a shared machine


@dataclass(frozen=True)
class UnseenPass:
    tokenizer_seconds: float  # the newer half's titles and bodies, one tokenizer call each
    full_seconds: float  # analysis + engine over the newer half
    matches: int
    words: int  # in the newer half (tokens with a letter or digit)

    @property
    def ratio(self) -> float:
        return self.full_seconds / self.tokenizer_seconds


def split_by_date(articles: tuple[Article, ...]) -> tuple[list[Article], list[Article]]:
    """The older half and the newer half (articles without a date count as oldest)."""
    ordered = sorted(articles, key=lambda a: (a.published is not None, a.published or 0))
    half = len(ordered) // 2
    return ordered[:half], ordered[half:]


class Worker:
    """Everything a pass needs that does not depend on the analyser: corpus, rules, lexicon."""

    def __init__(self, articles: int | None, rules: int) -> None:
        corpus = load_corpus(articles)
        self.older, self.newer = split_by_date(corpus.articles)
        vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
        self.rules = parse_rules(generate_rules(vocabulary, rules))
        self.lexicon = Analyzer().lexicon

    def one_pass(self) -> UnseenPass:
        tokenizer = Analyzer(lexicon=self.lexicon).nlp.tokenizer
        for text in _fields(self.older):
            tokenizer(text)
        analyzer = Analyzer(lexicon=self.lexicon)
        engine = Engine(Compiler(analyzer).compile(self.rules), analyzer)
        for analysed in analyzer.analyse_many(self.older):
            engine.match(analysed)
        newer = _fields(self.newer)
        gc.collect()
        started = time.perf_counter()
        for text in newer:
            tokenizer(text)
        tokenizer_seconds = time.perf_counter() - started
        gc.collect()
        started = time.perf_counter()
        matches = sum(len(engine.match(a)) for a in analyzer.analyse_many(self.newer))
        full_seconds = time.perf_counter() - started
        words = sum(1 for text in newer for token in tokenizer(text)
                    if any(c.isalnum() for c in token.text))
        return UnseenPass(tokenizer_seconds, full_seconds, matches, words)


def _fields(articles: list[Article]) -> list[str]:
    return [text for a in articles for text in (a.title, a.body)]


@dataclass(frozen=True)
class UnseenComparison:
    machine: Machine
    revision: str  # the baseline's, as `git describe` names it
    before_issue: bool  # the baseline is UNSEEN_BASELINE
    rules: int
    older: int  # articles warmed on
    newer: int  # articles timed
    passes: dict[str, list[UnseenPass]]  # "baseline" and "this tree", in the order run

    def best_tokenizer(self, label: str) -> float:
        return min(p.tokenizer_seconds for p in self.passes[label])

    def best_full(self, label: str) -> float:
        return min(p.full_seconds for p in self.passes[label])

    def ratio(self, label: str) -> float:
        """Analysis + engine over the tokenizer, best against best (same process)."""
        return self.best_full(label) / self.best_tokenizer(label)

    @property
    def speedup(self) -> float:
        """Baseline's analysis + engine over this tree's."""
        return self.best_full("baseline") / self.best_full("this tree")

    @property
    def same_matches(self) -> bool:
        return len({p.matches for done in self.passes.values() for p in done}) == 1


def compare(revision: str, passes: int, articles: int | None,
            rules: int = UNSEEN_RULES) -> UnseenComparison:
    """This tree against `revision`, passes alternating (module docstring)."""
    # Imported here: the worker runs this file over the baseline's bench/, which may lack it.
    from bench.revisions import describe_revision, export_revision

    info = machine()
    with tempfile.TemporaryDirectory() as scratch:
        baseline = export_revision(revision, Path(scratch))
        workers = {label: _worker(root, articles, rules)
                   for label, root in (("baseline", baseline), ("this tree", ROOT))}
        sizes = workers["this tree"][1]
        results: dict[str, list[UnseenPass]] = {label: [] for label in workers}
        for number in range(passes):
            for label, (worker, _) in workers.items():
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
                done = UnseenPass(**json.loads(worker.stdout.readline()))
                results[label].append(done)
                progress(f"  unseen pass {number + 1}, {label}: tokenizer "
                         f"{done.tokenizer_seconds:.3f} s, analysis + engine "
                         f"{done.full_seconds:.3f} s ({done.ratio:.2f}x)")
        for worker, _ in workers.values():
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait()
    name = describe_revision(revision)
    return UnseenComparison(info, name, name == describe_revision(UNSEEN_BASELINE), rules,
                            sizes[0], sizes[1], results)


def measure_unseen(articles: int | None, rules: int, full: bool) -> UnseenComparison:
    """What the matching part runs: this tree against UNSEEN_BASELINE (against HEAD when not
    `full`: --quick measures nothing and must run in a shallow clone too)."""
    passes, revision = (UNSEEN_PASSES, UNSEEN_BASELINE) if full else (1, "HEAD")
    progress(f"unseen text: {rules:,} rules, {passes} passes each, this tree and {revision}")
    return compare(revision, passes, articles, rules)


def serve(articles: int | None, rules: int) -> None:
    """Prepare, then one pass per line read from stdin, its result a JSON line."""
    worker = Worker(articles, rules)
    print(json.dumps({"older": len(worker.older), "newer": len(worker.newer)}), flush=True)
    for _ in sys.stdin:
        print(json.dumps(worker.one_pass().__dict__), flush=True)


def _worker(root: Path, articles: int | None,
            rules: int) -> tuple[subprocess.Popen[str], tuple[int, int]]:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--rules", str(rules)]
    if articles:
        command += ["--articles", str(articles)]
    worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert worker.stdout is not None
    ready = json.loads(worker.stdout.readline())
    return worker, (int(ready["older"]), int(ready["newer"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=UNSEEN_PASSES)
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--rules", type=int, default=UNSEEN_RULES)
    parser.add_argument("--against", metavar="REV", default=UNSEEN_BASELINE)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.articles, options.rules)
        return
    done = compare(options.against, options.passes, options.articles, options.rules)
    for label in done.passes:
        print(f"{label}: tokenizer {done.best_tokenizer(label):.3f} s, analysis + engine "
              f"{done.best_full(label):.3f} s, {done.ratio(label):.2f}x")
    print(f"analysis + engine, baseline / this tree: {done.speedup:.2f}x; "
          f"same matches: {done.same_matches}")


if __name__ == "__main__":
    main()
