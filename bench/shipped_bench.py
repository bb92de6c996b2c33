"""The shipped rules' matching and the story signature: this tree against a baseline revision
in one run, and proof that both give the same results.

    python -m bench.shipped_bench [--passes N] [--against REV] [--generated N]

The shipped rules (rules/: 14, with word lists of hundreds of place names) cost far more
per rule than generated ones; this part times, over FA-KES, the engine alone on pre-analysed
texts, analysis + engine in `watcher replay`'s batches of 32 (`Matcher.match_many`), and the
story signature of every article (MinHash), in two processes: the code at REV (`git
archive`; this file runs over it) and the working tree, their passes alternating one by one
so both see the same machine; best and median of each. Then bench/match_check.py compares
every match and signature of the two revisions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import Machine, machine, progress
from bench.paths import ROOT
from bench.sections import head
from bench.sizes import Sizes
from bench.tables import Column, markdown, plain

SHIPPED_HEADING = "## Shipped rules' matching"
# main just before the shipped rules' matching was made cheaper, with issues 17 and 18's
# changes of the same day. RESULTS.md's section compares the change alone (75522f5) with
# d8cc534: identical matches. Against this baseline later context fixes (ae1c94f and
# after) differ, by design: the check lists them. Its code cannot read the shipped rules
# since they use NOT IN, so both now match with its own rules (rules_both_read).
BASELINE = "40e0469"
FULL_PASSES = 7
BATCH = 32  # as `watcher replay` reads articles
STAGES = {
    "engine": "engine alone (pre-analysed), shipped rules",
    "analysis": "analysis + engine, shipped rules, batches of 32",
    "signature": "story signatures (MinHash, 256 permutations)",
}
LABELS = ("baseline", "this tree")


# -- in each revision's process ----------------------------------------------------------


class _Work:
    """The timed work of one revision: the shipped rules compiled, FA-KES analysed once."""

    def __init__(self, rules: Path) -> None:
        from bench.corpus import load_corpus
        from watcher.engine.matcher import Matcher

        self.articles = load_corpus().articles
        self.matcher = Matcher.from_path(rules)
        self.batches = [self.articles[start:start + BATCH]
                        for start in range(0, len(self.articles), BATCH)]
        self.texts = [text for batch in self.batches
                      for text in self.matcher.analyzer.analyse_many(batch)]
        for stage in STAGES:  # warm: word types learnt, permutations drawn
            self.run(stage)

    def run(self, stage: str) -> int:
        """One pass of a stage; returns what it found (matches, or signatures)."""
        if stage == "engine":
            return sum(len(self.matcher.engine.match(text)) for text in self.texts)
        if stage == "analysis":
            return sum(len(found) for batch in self.batches
                       for found in self.matcher.match_many(batch))
        from watcher.ingest.stories import story_signature

        return len({story_signature(a.title, a.body).values for a in self.articles})


def serve(rules: Path) -> None:
    """Answer `{"stage": ...}` lines with one timed pass each, until stdin closes."""
    work = _Work(rules)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        stage = json.loads(line)["stage"]
        started = time.perf_counter()
        found = work.run(stage)
        print(json.dumps({"seconds": time.perf_counter() - started, "found": found}),
              flush=True)


# -- the parent ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StagePasses:
    seconds: tuple[float, ...]
    found: int  # matches, or distinct signatures (the same in every pass)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class ShippedRun:
    machine: Machine
    revision: str
    passes: dict[str, dict[str, StagePasses]]  # stage -> label -> passes
    articles: int
    check: Any  # bench.match_check.Check
    own_rules: bool = False  # both matched with the baseline's rules: it cannot read ours

    def ratio(self, stage: str) -> float:
        """Baseline seconds / this tree's (best passes): how many times faster."""
        return self.passes[stage]["baseline"].best / self.passes[stage]["this tree"].best

    def median_ratio(self, stage: str) -> float:
        return self.passes[stage]["baseline"].median / self.passes[stage]["this tree"].median


def compare(revision: str, passes: int, generated: int) -> ShippedRun:
    from bench.corpus import load_corpus
    from bench.match_check import check
    from bench.revisions import describe_revision, export_revision, rules_both_read

    info = machine()
    with tempfile.TemporaryDirectory(prefix="shipped-") as scratch:
        trees = (export_revision(revision, Path(scratch)), ROOT)
        rules = rules_both_read(trees[0])
        workers = {label: _worker(tree, rules)
                   for label, tree in zip(LABELS, trees, strict=True)}
        done = {stage: _alternate(workers, stage, passes) for stage in STAGES}
        for worker in workers.values():
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait()
    progress(f"shipped rules: every match and signature against {revision} (match_check)")
    return ShippedRun(info, describe_revision(revision), done, len(load_corpus().articles),
                      check(revision, generated), own_rules=rules != ROOT / "rules")


def _worker(tree: Path, rules: Path) -> subprocess.Popen[str]:
    # Both revisions match with the same rules, this tree's unless the baseline cannot read
    # them (then its own): only the code differs.
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", str(rules)]
    worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(tree)})
    assert worker.stdout is not None
    json.loads(worker.stdout.readline())  # loaded and warm
    return worker


def _alternate(
    workers: dict[str, subprocess.Popen[str]], stage: str, passes: int
) -> dict[str, StagePasses]:
    progress(f"shipped rules: {passes} passes of {stage} each, alternating")
    seconds: dict[str, list[float]] = {label: [] for label in workers}
    found: dict[str, set[int]] = {label: set() for label in workers}
    for _ in range(passes):
        for label, worker in workers.items():
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(json.dumps({"stage": stage}) + "\n")
            worker.stdin.flush()
            answer = json.loads(worker.stdout.readline())
            seconds[label].append(answer["seconds"])
            found[label].add(answer["found"])
    return {label: StagePasses(tuple(seconds[label]), _one(found[label])) for label in workers}


def _one(values: set[int]) -> int:
    if len(values) != 1:
        raise RuntimeError(f"passes found different counts: {sorted(values)}")
    return values.pop()


def measure_shipped(sizes: Sizes) -> ShippedRun:
    """The part `make bench` runs: against BASELINE (against HEAD with --quick, which
    measures nothing and must run in a shallow clone too)."""
    if sizes.corpus_articles is not None:
        return compare("HEAD", 1, 0)
    return compare(BASELINE, FULL_PASSES, 1_000)


# -- report -------------------------------------------------------------------------------


Row = tuple[str, str, ShippedRun]  # stage, label, run

_COLUMNS = [
    Column("stage", lambda r: STAGES[r[0]]),
    Column("code", lambda r: r[1]),
    Column("best s", lambda r: f"{r[2].passes[r[0]][r[1]].best:.3f}"),
    Column("ms / article", lambda r: f"{1000 * r[2].passes[r[0]][r[1]].best / r[2].articles:.2f}"),
    Column("median s", lambda r: f"{r[2].passes[r[0]][r[1]].median:.3f}"),
    Column("baseline / this tree (best)",
           lambda r: f"{r[2].ratio(r[0]):.2f}x" if r[1] == "this tree" else ""),
    Column("(medians)",
           lambda r: f"{r[2].median_ratio(r[0]):.2f}x" if r[1] == "this tree" else ""),
    Column("found", lambda r: f"{r[2].passes[r[0]][r[1]].found:,}"),
    Column("passes s", lambda r: ", ".join(f"{s:.2f}" for s in r[2].passes[r[0]][r[1]].seconds)),
]


def _rows(done: ShippedRun) -> list[Row]:
    return [(stage, label, done) for stage in STAGES for label in LABELS]


def render_shipped_table(done: ShippedRun) -> str:
    return "\n".join([*plain(_COLUMNS, _rows(done)), done.check.describe()])


def render_shipped_markdown(done: ShippedRun) -> str:
    lines = head(SHIPPED_HEADING, "shipped rules", "shipped", done.machine,
                 f"baseline: git {done.revision}"
                 + (" (issue 20's code before this part's changes)"
                    if done.revision.startswith(BASELINE) else ""))
    lines += [
        f"FA-KES ({done.articles} articles) with the shipped rules ("
        + ("the baseline's rules/, for both: this tree's use a form its code cannot read, "
           "such as NOT IN" if done.own_rules else "this tree's rules/, for both")
        + "), in two "
        "processes, the baseline's code (`git archive`) and this tree's, their passes "
        "alternating one by one, after a warm pass each (`python -m bench.shipped_bench "
        "--against REV`): the engine alone on texts analysed before (`Engine.match`), "
        "analysis + engine as the pipeline calls it (`Matcher.match_many` in batches of 32), "
        "and every article's story signature (`story_signature`). `found`: matches, or "
        "distinct signatures, the same in every pass.",
        "",
        *markdown(_COLUMNS, _rows(done)),
        "",
        "Baseline / this tree, best passes: engine alone "
        f"**{done.ratio('engine'):.2f}x**, analysis + engine **{done.ratio('analysis'):.2f}x**, "
        f"story signatures **{done.ratio('signature'):.2f}x**.",
        "",
        f"Same results: {'yes' if done.check.same else '**NO**'}. `python -m "
        f"bench.match_check --against {done.revision}` ({done.check.describe()}): every "
        "Match's repr (rule, spans, snippet, tags, context, held, places) per article on "
        "FA-KES and the seeds, in the engine's three scan modes, with the shipped rules"
        + (f" and with {done.check.generated:,} generated rules after them"
           if done.check.generated else "")
        + ", and every article's story signature (values and band hashes, as stored)."
        + ("" if done.check.same else " Lines differ where this tree's matching has changed "
           "since the baseline (context labels, located places: the changes bench/data/"
           "quality/SOURCE.txt and docs/gazetteer.md list), so speed, not sameness, is "
           "this comparison's point; `--against` a revision that matches alike compares "
           "the code alone."),
        "",
        "What made the shipped rules expensive: their word lists (`@aleppo_area` is 399 "
        "names, mostly from one `place:`; the Syria lists 700) were read name by name, at "
        "every article, by every NEAR using them, and each match walked its rule's whole "
        "query again to find its `~Name` terms. Now an OR of terms reads only its members "
        "that occur (found once per article, shared by the rules using the list), a match's "
        "`~Name` terms are found once per rule, and a rule's version is computed once per "
        "rule set. The signature is datasketch's arithmetic in NumPy over all an article's "
        "shingles at once, the SHA-1 hashing batched.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=FULL_PASSES)
    parser.add_argument("--against", metavar="REV", default=BASELINE)
    parser.add_argument("--generated", type=int, default=1_000, metavar="N",
                        help="generated rules in the results check (default 1,000)")
    parser.add_argument("--serve", type=Path, metavar="RULES", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.serve:
        serve(options.serve)
        return
    print(render_shipped_table(compare(options.against, options.passes, options.generated)))


if __name__ == "__main__":
    main()
