"""Same matches as another revision: every Match the engine finds on FA-KES and the seeds,
with the shipped rules (and generated ones), compared field by field with the code at REV.

    python -m bench.match_check [--against REV] [--generated N]

A change meant to make matching faster must not change any result: this check runs the code
at REV (exported with `git archive`; this file runs over it in a process of its own) and the
working tree over the same articles, and compares the `repr` of every Match (rule, spans,
snippet, tags, context labels, held labels, places) article by article. Each article set is
matched in `watcher replay`'s batches of 32 (`Matcher.match_many`), once per scan mode (the
engine's "auto", "full" and "lookups": watcher/engine/occurrences.py), so both ways of
finding occurrences are compared too. Each article's story signature (MinHash values and
band hashes, as stored) is compared as well: stored stories must keep grouping the same.
Exits 1 and names the first difference, if any.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import DATA_FILE, load_corpus
from bench.paths import ROOT, SHIPPED_RULES
from watcher.engine.core import Engine
from watcher.engine.matcher import Matcher
from watcher.ingest.stories import story_signature
from watcher.model import Article
from watcher.rules.ast import RuleSet
from watcher.rules.load import load_rules
from watcher.sources.seeds import read_seed_file

BATCH = 32  # as `watcher replay` reads articles (bench/store_replay.py)
SCAN_MODES = ("auto", "full", "lookups")
GENERATED = 1_000  # generated rules besides the shipped ones, by default


def articles(root: Path) -> list[tuple[str, Sequence[Article]]]:
    """The article sets compared: FA-KES and every seed file."""
    seeds = [a for path in sorted((root / "seeds").glob("*.txt")) for a in read_seed_file(path)]
    return [("fakes", load_corpus(path=root / DATA_FILE.relative_to(ROOT)).articles),
            ("seeds", seeds)]


def rule_sets(root: Path, generated: int) -> list[tuple[str, RuleSet]]:
    """The shipped rules, and `generated` rules of the benchmark's templates after them."""
    shipped = load_rules(root / SHIPPED_RULES.relative_to(ROOT))
    found = [("shipped", shipped)]
    if generated:
        from bench.rulegen import build_vocabulary, generate_rules, parse_rules

        corpus = load_corpus(path=root / DATA_FILE.relative_to(ROOT))
        vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
        rules = parse_rules(generate_rules(vocabulary, generated))
        found.append((f"shipped + {generated:,} generated",
                      RuleSet(rules=shipped.rules + tuple(rules), lists=shipped.lists)))
    return found


def match_lines(root: Path, generated: int) -> Iterator[str]:
    """One line per article and scan mode: its matches' reprs, in the engine's order. The
    rules and articles are read under `root`, the same for both revisions: the working
    tree's, or the baseline's when its code cannot read this tree's rules
    (bench/revisions.py, `rules_both_read`)."""
    sets = articles(root)
    for rules_name, rules in rule_sets(root, generated):
        matcher = Matcher.from_rules(rules)
        for mode in SCAN_MODES:
            matcher.engine = Engine(matcher.engine.index, matcher.analyzer, scan=mode)
            for corpus_name, corpus in sets:
                for start in range(0, len(corpus), BATCH):
                    batch = corpus[start:start + BATCH]
                    for article, found in zip(batch, matcher.match_many(batch), strict=True):
                        where = f"{rules_name} | {mode} | {corpus_name} | {article.id}"
                        yield json.dumps([where, [repr(m) for m in found]])
    for corpus_name, corpus in sets:
        for article in corpus:
            signature = story_signature(article.title, article.body)
            yield json.dumps([f"story signature | {corpus_name} | {article.id}",
                              [signature.values.hex(), *map(str, signature.bands)]])


def dump(root: Path, generated: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in match_lines(root, generated):
            out.write(line + "\n")


@dataclass(frozen=True)
class Check:
    """What the comparison found: `lines` compared (an article's matches per rule set and
    scan mode, or its story signature), matches in them, and the lines that differ."""

    baseline: str
    tree: str
    generated: int  # generated rules matched after the shipped ones (0: none)
    lines: int
    matches: int
    differing: tuple[tuple[str, str], ...]
    same_length: bool

    @property
    def same(self) -> bool:
        return self.same_length and not self.differing

    def describe(self) -> str:
        if self.same:
            return (f"same: {self.lines:,} lines (each article's matches per rule set and "
                    f"scan mode, and its story signature), {self.matches:,} matches, identical")
        return f"DIFFERENT: {len(self.differing)} of {self.lines:,} lines differ"


def check(revision: str, generated: int) -> Check:
    """The dumps of `revision` and of the working tree, each made in a process of its own."""
    from bench.revisions import describe_revision, export_revision, rules_both_read

    with tempfile.TemporaryDirectory() as scratch:
        baseline = export_revision(revision, Path(scratch))
        rules_root = rules_both_read(baseline).parent  # rules and articles read under it
        dumps = {}
        for label, root in (("baseline", baseline), ("this tree", ROOT)):
            dumps[label] = Path(scratch) / f"{label.replace(' ', '-')}.jsonl"
            command = [sys.executable, str(Path(__file__).resolve()), "--dump",
                       str(dumps[label]), "--generated", str(generated), "--root", str(rules_root)]
            subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(root)})
        old = dumps["baseline"].read_text(encoding="utf-8").splitlines()
        new = dumps["this tree"].read_text(encoding="utf-8").splitlines()
    matches = sum(len(found) for where, found in map(json.loads, new)
                  if not where.startswith("story signature"))
    differing = tuple((a, b) for a, b in zip(old, new, strict=False) if a != b)
    return Check(describe_revision(revision), describe_revision(None), generated, len(old),
                 matches,
                 differing, len(old) == len(new))


def compare(revision: str, generated: int) -> int:
    """0 when every line is the same at REV and in the working tree, else 1 (with the first
    difference printed)."""
    done = check(revision, generated)
    print(f"baseline: git {done.baseline}; this tree: git {done.tree}")
    print(done.describe())
    for a, b in done.differing[:1]:
        print("\n".join(difflib.unified_diff(_pretty(a), _pretty(b), "baseline", "this tree",
                                             lineterm="")))
    return 0 if done.same else 1


def _pretty(line: str) -> list[str]:
    where, found = json.loads(line)
    return [where, *found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", default="HEAD",
                        help="the revision to compare with (default HEAD)")
    parser.add_argument("--generated", type=int, default=GENERATED, metavar="N",
                        help=f"generated rules besides the shipped ones (default {GENERATED})")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # a worker's output
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.dump:
        dump(options.root, options.generated, options.dump)
        return
    sys.exit(compare(options.against, options.generated))


if __name__ == "__main__":
    main()
