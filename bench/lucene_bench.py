"""The Lucene part: watcher's analysis + engine against a Lucene equivalent, in one run.

Issue 20 set the target "10,000 rules: analysis + engine faster than the Lucene-equivalent
measurement". The equivalent (bench/lucene/, built here from Debian's jars) indexes each
article in a MemoryIndex, picks the rules worth running with a multipass term presearcher
and runs them as span queries over the same inflected forms, without variants
(bench/lucene_queries.py). Both run on the generated rules of the matching part at each
of its rule counts and at none (analysis alone, against indexing alone): the JVM first
runs passes until its best pass stops improving (the JIT has settled), then watcher's
passes and the harness's take turns, and the best of each is compared. Without Java or the
jars (or with --quick) only watcher is measured, against the issue's recorded figures.
"""

from __future__ import annotations

import gc
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import Corpus
from bench.lucene_check import ARTICLES as CHECK_ARTICLES
from bench.lucene_check import EXPECTED as CHECK_EXPECTED
from bench.lucene_check import RULES as CHECK_RULES
from bench.lucene_harness import (
    Harness,
    LucenePass,
    LuceneUnavailable,
    Toolchain,
    compile_harness,
    find_toolchain,
)
from bench.lucene_queries import QueryTranslator, article_lines, rule_lines, write_lines
from bench.measure import Machine, Passes, Repeats, machine, progress, timed
from bench.rulegen import GeneratedRule, build_vocabulary, generate_rules, parse_rules
from bench.sizes import Sizes
from watcher.engine.core import Engine
from watcher.model import Article
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query
from watcher.text.analysis import Analyzer

# Issue 20's one run, seconds over FA-KES (Lucene: the equivalent described above; watcher:
# its analysis + engine then): the baseline when the harness cannot run here.
RECORDED_LUCENE = {10: 0.223, 1_000: 0.263, 10_000: 0.478}
RECORDED_WATCHER = {10: 0.344, 1_000: 0.504, 10_000: 1.00}
STABLE_PASSES = 3  # the JVM is warm when this many passes in a row gain under STABLE_GAIN
STABLE_GAIN = 0.02
LEAST_WARMUP = 5  # harness passes before timing, at least, at each rule count
LEAST_FIRST_WARMUP = 20  # and at the most rules before any is timed: the JIT sees every path
WARMUP_MOST = 60
PAIR_SECONDS = 10.0  # watcher and harness passes taken in turns for about this long
LEAST_PAIRS = 5
MOST_PAIRS = 60

Pair = tuple[str, str]  # (article id, rule id)


@dataclass(frozen=True)
class CountRun:
    """Both sides at one rule count (0: analysis alone, against indexing alone)."""

    rules: int
    watcher: Passes  # analysis + engine (at 0 rules: analysis), wall seconds
    watcher_cpu: Passes  # the same passes' CPU seconds
    watcher_matches: int
    lucene: Passes | None  # None: not run here
    lucene_cpu: Passes | None  # the JVM's CPU seconds, compiler and collector threads too
    lucene_matches: int | None
    lucene_candidates: float | None  # rules run per article
    warmup: int  # harness passes before the timed ones


@dataclass(frozen=True)
class Agreement:
    """The matches of both at the most rules, by template: (both, watcher only, Lucene only)."""

    rules: int
    by_template: dict[str, tuple[int, int, int]]


@dataclass(frozen=True)
class HarnessInfo:
    lucene: str
    java: str
    jars: tuple[str, ...]
    load_seconds: float  # reading and building every rule's query and presearcher entries


@dataclass(frozen=True)
class LuceneResults:
    machine: Machine
    articles: int
    runs: list[CountRun]
    harness: HarnessInfo | None
    unavailable: str | None  # why the harness did not run
    agreement: Agreement | None


def measure_lucene(corpus: Corpus, analyzer: Analyzer, sizes: Sizes, scratch: Path,
                   ) -> LuceneResults:
    """Both sides at every rule count, or watcher alone when the harness cannot run (or
    fails on the way: then watcher is measured again alone, and the section says why)."""
    info = machine()
    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    generated = generate_rules(vocabulary, max(sizes.rule_counts))
    rules = parse_rules(generated)
    counts = (0, *sizes.rule_counts)
    translator = QueryTranslator(analyzer.lexicon)
    with _started(sizes, translator, corpus, rules, counts, scratch) as (harness, unavailable):
        try:
            return _measured(info, analyzer, corpus, generated, rules, counts, sizes, harness,
                             unavailable)
        except LuceneUnavailable as error:
            failed = f"the harness failed while measured: {error}"
            progress(f"lucene: {failed}; measuring watcher alone")
    return _measured(info, analyzer, corpus, generated, rules, counts, sizes, None, failed)


def _measured(info: Machine, analyzer: Analyzer, corpus: Corpus,
              generated: list[GeneratedRule], rules: list[Rule], counts: tuple[int, ...],
              sizes: Sizes, harness: Harness | None, unavailable: str | None,
              ) -> LuceneResults:
    if harness is not None:
        progress(f"lucene: warming the JVM up at {counts[-1]:,} rules")
        warm_up(harness, counts[-1], LEAST_FIRST_WARMUP)
    runs, watcher_pairs = [], set()
    for count in counts:
        run, watcher_pairs = measure_count(analyzer, rules[:count], corpus.articles, harness,
                                           sizes)
        runs.append(run)
    if harness is None:
        return LuceneResults(info, len(corpus.articles), runs, None, unavailable, None)
    lucene_pairs = _named(harness.pairs(counts[-1]), corpus.articles, rules)
    facts = HarnessInfo(harness.lucene_version, harness.java_version,
                        tuple(p.name for p in harness.toolchain.jars), harness.load_seconds)
    return LuceneResults(info, len(corpus.articles), runs, facts, None,
                         _agreement(counts[-1], watcher_pairs, lucene_pairs, generated))


@contextmanager
def _started(sizes: Sizes, translator: QueryTranslator, corpus: Corpus, rules: list[Rule],
             counts: tuple[int, ...], scratch: Path,
             ) -> Iterator[tuple[Harness | None, str | None]]:
    """The harness over the corpus and rules, checked first; or None and why not."""
    if not sizes.lucene:
        yield None, "not run with --quick (it needs a JDK; `make test` must not)"
        return
    try:
        toolchain = find_toolchain()
        progress("lucene: compiling bench/lucene against "
                 + ", ".join(p.name for p in toolchain.jars))
        classes = compile_harness(toolchain, scratch)
        check_harness(toolchain, classes, translator, scratch)
        articles = write_lines(scratch / "lucene-articles.jsonl", article_lines(corpus.articles))
        queries = write_lines(scratch / "lucene-rules.jsonl",
                              rule_lines(translator, ((r.id, r.query) for r in rules)))
        harness = Harness(toolchain, classes, articles, queries, counts)
    except LuceneUnavailable as error:
        progress(f"lucene: {error}; comparing with issue 20's recorded figures")
        yield None, str(error)
        return
    with harness:
        yield harness, None


def check_harness(toolchain: Toolchain, classes: Path, translator: QueryTranslator,
                  scratch: Path) -> None:
    """The harness on three articles and five rules must find exactly the check's matches
    (bench/lucene_check.py); LuceneUnavailable says what it found instead."""
    articles = write_lines(scratch / "check-articles.jsonl", article_lines(CHECK_ARTICLES))
    queries = write_lines(scratch / "check-rules.jsonl", rule_lines(
        translator, ((rule_id, parse_query(text, strict=True)) for rule_id, text in CHECK_RULES)
    ))
    with Harness(toolchain, classes, articles, queries, (len(CHECK_RULES),)) as harness:
        numbered = harness.pairs(len(CHECK_RULES))
    found = {(CHECK_ARTICLES[a].id, CHECK_RULES[r][0]) for a, r in numbered}
    if found != CHECK_EXPECTED:
        raise LuceneUnavailable(
            f"the harness's check failed: missing {sorted(CHECK_EXPECTED - found)}, "
            f"extra {sorted(found - CHECK_EXPECTED)}"
        )
    progress(f"lucene: check passed ({len(found)} matches on {len(CHECK_ARTICLES)} articles)")


def measure_count(analyzer: Analyzer, rules: list[Rule], articles: tuple[Article, ...],
                  harness: Harness | None, sizes: Sizes) -> tuple[CountRun, set[Pair]]:
    """Watcher's passes (and the harness's, in turns) with these rules; watcher's matches."""
    count = len(rules)
    progress(f"lucene: {count:,} rules")
    engine = Engine(Compiler(analyzer).compile(rules), analyzer) if rules else None

    def watcher_pass() -> list[Pair]:
        analysed = analyzer.analyse_many(articles)
        if engine is None:
            return []
        return [(m.article_id, m.rule_id) for text in analysed for m in engine.match(text)]

    pairs = set(timed(watcher_pass)[1])  # the first pass learns word types: not timed
    if harness is None:
        wall, cpu = zip(*watcher_alone(lambda: wall_and_cpu(watcher_pass), sizes.repeats),
                        strict=True)
        return CountRun(count, Passes(wall), Passes(cpu), len(pairs), None, None, None, None,
                        0), pairs
    warmup = warm_up(harness, count, LEAST_WARMUP)
    watcher, lucene = taken_in_turns(lambda: wall_and_cpu(watcher_pass), harness, count)
    best = min(lucene, key=lambda p: p.seconds)
    progress(f"  watcher {min(w for w, _ in watcher):.3f} s, Lucene {best.seconds:.3f} s "
             f"({len(pairs):,} and {best.matches:,} matches)")
    return CountRun(count, Passes(tuple(w for w, _ in watcher)),
                    Passes(tuple(c for _, c in watcher)), len(pairs),
                    Passes(tuple(p.seconds for p in lucene)),
                    Passes(tuple(p.cpu_seconds for p in lucene)), best.matches,
                    best.candidates / len(articles), warmup), pairs


def wall_and_cpu(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call, after a full collection (as bench.measure.timed)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def watcher_alone(watcher_pass: Callable[[], tuple[float, float]], repeats: Repeats,
                  ) -> list[tuple[float, float]]:
    """Passes as bench.measure.best_of_many takes them: at least `repeats.least`, more
    for short ones."""
    passes = [watcher_pass()]
    wanted = max(repeats.least, min(repeats.most, int(repeats.seconds / max(passes[0][0], 1e-6))))
    passes += [watcher_pass() for _ in range(wanted - 1)]
    return passes


def warm_up(harness: Harness, count: int, least: int) -> int:
    """At least `least` harness passes, then more until STABLE_PASSES in a row gain less
    than STABLE_GAIN on the best (the JIT has compiled what it will); how many it took."""
    best, stale, passes = math.inf, 0, 0
    while (passes < least or stale < STABLE_PASSES) and passes < WARMUP_MOST:
        seconds = harness.run_pass(count).seconds
        passes += 1
        if seconds < best * (1 - STABLE_GAIN):
            best, stale = seconds, 0
        else:
            stale += 1
    return passes


def taken_in_turns(watcher_pass: Callable[[], tuple[float, float]], harness: Harness,
                   count: int) -> tuple[list[tuple[float, float]], list[LucenePass]]:
    """Watcher's passes and the harness's, A B A B …, for about PAIR_SECONDS (LEAST_PAIRS
    to MOST_PAIRS pairs): the machine's drift weighs on both alike."""
    watcher, lucene = [watcher_pass()], [harness.run_pass(count)]
    pairs = max(LEAST_PAIRS,
                min(MOST_PAIRS, int(PAIR_SECONDS / (watcher[0][0] + lucene[0].seconds))))
    for _ in range(pairs - 1):
        watcher.append(watcher_pass())
        lucene.append(harness.run_pass(count))
    return watcher, lucene


def _named(pairs: set[tuple[int, int]], articles: tuple[Article, ...], rules: list[Rule],
           ) -> set[Pair]:
    return {(articles[a].id, rules[r].id) for a, r in pairs}


def _agreement(count: int, watcher: set[Pair], lucene: set[Pair],
               generated: list[GeneratedRule]) -> Agreement:
    template = {g.id: g.template for g in generated}
    tally: Counter[tuple[str, str]] = Counter()
    for pair in watcher | lucene:
        side = "both" if pair in watcher and pair in lucene else (
            "watcher" if pair in watcher else "lucene")
        tally[(template[pair[1]], side)] += 1
    names = sorted({t for t, _ in tally})
    return Agreement(count, {
        name: (tally[(name, "both")], tally[(name, "watcher")], tally[(name, "lucene")])
        for name in names
    })
