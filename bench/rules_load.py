"""Loading 10,000 rules: generated rules in YAML files, read and compiled the way `watcher run`
and `watcher rules check` read them (`Matcher.from_path`: files -> a compiled Matcher ready
to match), this tree against a baseline revision in the same run.

    python -m bench.rules_load [--rules N] [--passes N] [--against REV]

Each pass is a fresh process (imports done before the clock starts), as a daemon starting
or a `rules check` is: the gazetteer, the lexicon and spaCy's tokenizer start cold. The
baseline is the code at REV (`git archive` into a scratch directory; this file runs over
it), its passes alternating with this tree's, so both see the same machine; best and median
of each. Issue 20's target: 10,000 rules load in under 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.measure import Machine, machine, progress
from bench.paths import ROOT
from bench.sections import head
from bench.tables import Column, markdown, plain

RULES_LOAD_HEADING = "## Rule loading"
BASELINE = "d6ceb09"  # loading as issue 20 found it
TARGET_SECONDS = 3.0
RULES_PER_FILE = 500
FULL_RULES, FULL_PASSES = 10_000, 5


def write_rule_files(directory: Path, count: int) -> int:
    """bench/rulegen.py's first `count` rules over FA-KES, RULES_PER_FILE a file, each with
    an id, title, query, severity and tags as a hand-written rule has; returns the files."""
    from bench.corpus import load_corpus  # only the parent writes them
    from bench.rulegen import build_vocabulary, generate_rules

    corpus = load_corpus()
    rules = generate_rules(build_vocabulary(corpus.field_texts(), corpus.locations), count)
    directory.mkdir(parents=True, exist_ok=True)
    files = 0
    for start in range(0, len(rules), RULES_PER_FILE):
        lines = ["rules:"]
        for rule in rules[start : start + RULES_PER_FILE]:
            query = rule.query.replace("'", "''")
            lines += [f"  - id: {rule.id}", f"    title: Generated {rule.template} rule",
                      f"    query: '{query}'", "    severity: medium",
                      "    tags: [bench, generated]", ""]
        (directory / f"bench-{files:03d}.yaml").write_text("\n".join(lines), encoding="utf-8")
        files += 1
    return files


@dataclass(frozen=True)
class LoadPass:
    seconds: float  # wall, from the rules path to a compiled Matcher
    cpu_seconds: float
    rules: int
    reload_seconds: float  # one file of the many changed, loaded again in the same process


def one_pass(directory: Path) -> LoadPass:
    """In a fresh process: the modules imported first, then the load timed; then one rule
    added to one file and the rules loaded again as the daemon's reload does (with the
    files as read, where the code has RuleCache; all of them again where it has not)."""
    from watcher.engine.matcher import Matcher

    try:
        from watcher.rules.load import RuleCache  # type: ignore[attr-defined]
        options = {"rule_cache": RuleCache()}
    except ImportError:  # the code before issue 20 read every file on every reload
        options = {}
    with tempfile.TemporaryDirectory(prefix="rules-") as scratch:
        rules = Path(scratch) / "rules"
        shutil.copytree(directory, rules)
        started, cpu = time.perf_counter(), _cpu()
        matcher = Matcher.from_path(rules, **options)
        seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
        changed = rules / "bench-000.yaml"
        changed.write_text(changed.read_text(encoding="utf-8") + RELOADED, encoding="utf-8")
        started = time.perf_counter()
        Matcher.from_path(rules, **options)
        reload_seconds = time.perf_counter() - started
    return LoadPass(seconds, cpu_seconds, len(matcher.rules.rules), reload_seconds)


RELOADED = "  - id: reloaded\n    title: Added\n    query: 'truce NEAR/5 ~Homs'\n"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class RulesLoad:
    machine: Machine
    revision: str
    rules: int
    files: int
    passes: dict[str, list[LoadPass]]  # "baseline" and "this tree", in the order run
    libyaml: bool  # whether this PyYAML has libyaml's C parser (the PyPI wheels do)

    def best(self, label: str) -> LoadPass:
        return min(self.passes[label], key=lambda p: p.seconds)

    def median(self, label: str) -> float:
        return statistics.median(p.seconds for p in self.passes[label])

    @property
    def ratio(self) -> float:
        return self.best("baseline").seconds / self.best("this tree").seconds


def compare(revision: str, count: int, passes: int) -> RulesLoad:
    """This tree against `revision`, a fresh process per pass, alternating."""
    info = machine()
    with tempfile.TemporaryDirectory(prefix="rulesload-") as scratch:
        rules, baseline = Path(scratch) / "rules", Path(scratch) / "baseline"
        files = write_rule_files(rules, count)
        baseline.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        trees = {"baseline": baseline, "this tree": ROOT}
        done: dict[str, list[LoadPass]] = {label: [] for label in trees}
        for number in range(passes):
            progress(f"rule loading: pass {number + 1} of {passes}, {count} rules, each tree")
            for label, tree in trees.items():
                done[label].append(_run_pass(tree, rules))
    return RulesLoad(info, _version(revision), count, files, done,
                     bool(getattr(yaml, "__with_libyaml__", False)))


def _run_pass(tree: Path, rules: Path) -> LoadPass:
    command = [sys.executable, str(Path(__file__).resolve()), "--pass", str(rules)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return LoadPass(**json.loads(out.strip().splitlines()[-1]))


def measure_rules_load(quick: bool) -> RulesLoad:
    """The part `make bench` runs: 10,000 rules against BASELINE (200 against HEAD with
    --quick, which measures nothing and must run in a shallow clone too)."""
    if quick:
        return compare("HEAD", 200, 1)
    return compare(BASELINE, FULL_RULES, FULL_PASSES)


def _verdict(done: RulesLoad) -> str:
    if done.rules != FULL_RULES:
        return "not judged (not 10,000 rules)"
    best = done.best("this tree").seconds
    return f"{'met' if best < TARGET_SECONDS else 'NOT MET'} ({best:.2f} s, best pass)"


_COLUMNS = [
    Column("code", lambda r: r[0]),
    Column("best s", lambda r: f"{r[1].best(r[0]).seconds:.2f}"),
    Column("median s", lambda r: f"{r[1].median(r[0]):.2f}"),
    Column("CPU s (best pass)", lambda r: f"{r[1].best(r[0]).cpu_seconds:.2f}"),
    Column("rules", lambda r: f"{r[1].best(r[0]).rules:,}"),
    Column("reload of 1 file s (best)",
           lambda r: f"{min(p.reload_seconds for p in r[1].passes[r[0]]):.2f}"),
    Column("passes s", lambda r: ", ".join(f"{p.seconds:.2f}" for p in r[1].passes[r[0]])),
]


def _rows(done: RulesLoad) -> list[tuple[str, RulesLoad]]:
    return [(label, done) for label in done.passes]


def render_rules_load_table(done: RulesLoad) -> str:
    return "\n".join([*plain(_COLUMNS, _rows(done)), f"this tree / baseline: {done.ratio:.2f}x",
                      f"10,000 rules load under {TARGET_SECONDS:.0f} s: {_verdict(done)}"])


def render_rules_load_markdown(done: RulesLoad) -> str:
    lines = head(RULES_LOAD_HEADING, "rule loading", "rulesload", done.machine,
                 f"baseline: git {done.revision}"
                 + (" (loading before issue 20)" if done.revision.startswith(BASELINE) else ""),
                 f"PyYAML {yaml.__version__}, with libyaml: {'yes' if done.libyaml else 'NO'}")
    lines += [
        f"{done.rules:,} rules of bench/rulegen.py (the matching part's rules) in "
        f"{done.files} YAML files of {RULES_PER_FILE}, each rule with an id, title, query, "
        "severity and tags, loaded as `watcher run` and `watcher rules check` load them: "
        "`Matcher.from_path`, from the files to a compiled Matcher ready to match (YAML, "
        "query parsing, checks, `place:`/@list expansion, the analyser and gazetteer, the "
        "term index). Each pass is a fresh process (imports before the clock starts), the "
        "baseline's code (`git archive`) and this tree's taking turns "
        "(`python -m bench.rules_load --against REV`).",
        "",
        *markdown(_COLUMNS, _rows(done)),
        "",
        f"This tree / baseline: **{done.ratio:.2f}x** (best passes: "
        f"{done.best('this tree').seconds:.2f} s against {done.best('baseline').seconds:.2f} s).",
        "",
        f"A reload after one rule is added to one of the {done.files} files (the same "
        "process, as the daemon's reload): this tree reads only that file again "
        "(RuleCache) and rebuilds the term index from every rule; the baseline reads every "
        f"file again. Best reload: {_best_reload(done, 'this tree'):.2f} s against "
        f"{_best_reload(done, 'baseline'):.2f} s.",
        "",
        "| target (issue 20) | verdict |",
        "|---|---|",
        f"| 10,000 rules load under {TARGET_SECONDS:.0f} s | {_verdict(done)} |",
        "",
        "What changed: YAML composed by libyaml (errors still PyYAML's; "
        "watcher/rules/yaml_marks.py), well-formed queries parsed by a recursive-descent "
        "quick path (lark still the reference and the parser of every error), queries "
        "without @list or `place:` not rebuilt by the expansions, and the cycle collector "
        "held off while the rules load and compile.",
        "",
    ]
    return "\n".join(lines)


def _best_reload(done: RulesLoad, label: str) -> float:
    return min(p.reload_seconds for p in done.passes[label])


def _version(revision: str) -> str:
    command = ["git", "-C", str(ROOT), "describe", "--always", revision]
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=FULL_RULES)
    parser.add_argument("--passes", type=int, default=FULL_PASSES)
    parser.add_argument("--against", metavar="REV", default=BASELINE)
    parser.add_argument("--pass", dest="one", metavar="DIR", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.one:
        print(json.dumps(one_pass(Path(options.one)).__dict__), flush=True)
        return
    print(render_rules_load_table(compare(options.against, options.rules, options.passes)))


if __name__ == "__main__":
    main()
