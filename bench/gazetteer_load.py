"""`python -m bench.gazetteer_load`: what loading the gazetteer adds to start-up.

Issue 18 allows loading at most 1 s and 100 MB. Each run is a fresh interpreter (the
gazetteer is read once per process, so only a new process measures it), in two settings:
alone, and after the spaCy analyser, as in `watcher run`. Reported: the wall time of
`watcher.places.load()`, how much it raised the process's resident memory (RSS, what it
keeps) and its peak (max RSS; after the analyser, spaCy's own loading peak may hide it).
Then what the gazetteer adds to a start-up with the shipped rules (`watcher match --rules
rules/`: load_rules, then the compile in Matcher), step by step, also in fresh processes.
`python -m bench.run --only gazetteer` writes it to bench/RESULTS.md ("Gazetteer").
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass

from bench.measure import Machine, machine
from bench.paths import ROOT
from bench.tables import Column, markdown

GAZETTEER_HEADING = "## Gazetteer"

# Runs in the child: peak RSS before and after, and the load's wall time (or, with a
# second argument, the time of that `time` clock: process_time, the CPU time).
_CHILD = """
import json, os, resource, sys, time
clock = getattr(time, sys.argv[2] if len(sys.argv) > 2 else "perf_counter")
def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
if sys.argv[1] == "analyser":
    from watcher.text.analysis import Analyzer
    Analyzer().analyse_field("body", "Shelling hit Sheikh Maqsoud in Aleppo.")
from watcher.places import load
rss, peak = rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = clock()
gazetteer = load()
seconds = clock() - start
print(json.dumps({"seconds": seconds, "added_mb": rss_mb() - rss, "rss_mb": rss_mb(),
                  "peak_added_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                  - peak, "places": len(gazetteer)}))
"""
# Runs in the child: start-up with the shipped rules, the gazetteer's steps timed apart
# (place: terms inside load_rules, `~Name` known names inside the compile); the clock as in
# _CHILD.
_STARTUP_CHILD = """
import json, os, sys, time
clock = getattr(time, sys.argv[2] if len(sys.argv) > 2 else "perf_counter")
import watcher.rules.compile as compile_module
import watcher.rules.place_terms as place_terms
from watcher.engine.matcher import Matcher
from watcher.places import load
from watcher.rules.load import load_rules
from watcher.text.analysis import Analyzer
from watcher.text.known_names import place_names
def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
spent = {"place terms": 0.0, "known names": 0.0}
def timed(step, function):
    def run(*args, **kwargs):
        start = clock()
        try:
            return function(*args, **kwargs)
        finally:
            spent[step] += clock() - start
    return run
place_terms.expand_place = timed("place terms", place_terms.expand_place)
compile_module.known_names = timed("known names", compile_module.known_names)
analyzer = Analyzer()
analyzer.analyse_field("body", "Shelling hit Sheikh Maqsoud in Aleppo.")
rss, steps = rss_mb(), {}
for step, run in (("gazetteer", load), ("name index", place_names),
                  ("load_rules", lambda: load_rules(sys.argv[1]))):
    start = clock()
    result = run()
    steps[step] = clock() - start
start = clock()
Matcher(result, analyzer)
steps["compile"] = clock() - start
print(json.dumps({**steps, **spent, "added_mb": rss_mb() - rss}))
"""
SETTINGS = ("alone", "analyser")
# The start-up steps reported, and which of them (or which part) the gazetteer adds.
STARTUP_STEPS = (
    ("gazetteer", "watcher.places.load()", True),
    ("name index", "the region's name index (~Name)", True),
    ("load_rules", "load_rules(rules/)", False),
    ("place terms", "of load_rules: place: terms", True),
    ("compile", "compile (Matcher)", False),
    ("known names", "of compile: ~Name known names", True),
)
LIMIT_SECONDS = 1.0
LIMIT_MB = 100.0


def measure(setting: str, runs: int) -> dict[str, float]:
    """Median seconds and added MB over `runs` fresh processes (the worst run too)."""
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, setting],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(done.stdout))
    return {
        "setting": setting,
        "places": results[0]["places"],
        "seconds": statistics.median(r["seconds"] for r in results),
        "worst_seconds": max(r["seconds"] for r in results),
        "added_mb": statistics.median(r["added_mb"] for r in results),
        "peak_added_mb": statistics.median(r["peak_added_mb"] for r in results),
        "rss_mb": statistics.median(r["rss_mb"] for r in results),
    }


COLUMNS = (
    Column("setting", lambda r: r["setting"]),
    Column("places", lambda r: f"{r['places']:,}"),
    Column("load s (median)", lambda r: f"{r['seconds']:.2f}"),
    Column("worst s", lambda r: f"{r['worst_seconds']:.2f}"),
    Column("RSS added MB", lambda r: f"{r['added_mb']:.0f}"),
    Column("peak RSS added MB", lambda r: f"{r['peak_added_mb']:.0f}"),
    Column("RSS after MB", lambda r: f"{r['rss_mb']:.0f}"),
)


def measure_startup(runs: int) -> dict:
    """Each start-up step's median and worst seconds over `runs` fresh processes, and the
    gazetteer's share (the median of each run's sum of its steps)."""
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _STARTUP_CHILD, str(ROOT / "rules")],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(done.stdout))
    rows = [
        {"step": label, "seconds": statistics.median(r[step] for r in results),
         "worst_seconds": max(r[step] for r in results), "gazetteer": ours}
        for step, label, ours in STARTUP_STEPS
    ]  # fmt: skip
    shares = [sum(r[step] for step, _, ours in STARTUP_STEPS if ours) for r in results]
    totals = [r["gazetteer"] + r["name index"] + r["load_rules"] + r["compile"] for r in results]
    return {
        "rows": rows,
        "share": statistics.median(shares),
        "worst_share": max(shares),
        "total": statistics.median(totals),
        "added_mb": statistics.median(r["added_mb"] for r in results),
    }


STARTUP_COLUMNS = (
    Column("start-up step", lambda r: r["step"]),
    Column("s (median)", lambda r: f"{r['seconds']:.2f}"),
    Column("worst s", lambda r: f"{r['worst_seconds']:.2f}"),
    Column("gazetteer's", lambda r: "yes" if r["gazetteer"] else ""),
)


@dataclass
class GazetteerReport:
    machine: Machine
    runs: int
    rows: list[dict]
    startup: dict

    @property
    def within(self) -> bool:
        """Issue 18's limits, judged on the worst run and the larger of kept and peak MB,
        for the load alone and for the gazetteer's share of a start-up with the rules."""
        return (
            all(
                r["worst_seconds"] <= LIMIT_SECONDS
                and max(r["added_mb"], r["peak_added_mb"]) <= LIMIT_MB
                for r in self.rows
            )
            and self.startup["worst_share"] <= LIMIT_SECONDS
        )


def measure_gazetteer(runs: int = 5) -> GazetteerReport:
    return GazetteerReport(
        machine(), runs, [measure(setting, runs) for setting in SETTINGS], measure_startup(runs)
    )


def render_gazetteer_table(report: GazetteerReport) -> str:
    verdict = "met" if report.within else "EXCEEDED"
    startup = report.startup
    return "\n".join([
        *markdown(COLUMNS, report.rows),
        "",
        *markdown(STARTUP_COLUMNS, startup["rows"]),
        f"start-up with the shipped rules: {startup['total']:.2f} s (median; the analyser "
        f"not counted), of it the gazetteer's {startup['share']:.2f} s (worst "
        f"{startup['worst_share']:.2f} s); RSS added by all of it {startup['added_mb']:.0f} MB",
        f"limits {LIMIT_SECONDS:.0f} s, {LIMIT_MB:.0f} MB: {verdict}",
    ])  # fmt: skip


def render_gazetteer_markdown(report: GazetteerReport) -> str:
    machine_lines = "\n".join(f"- {line}" for line in report.machine.describe())
    return f"""{GAZETTEER_HEADING}

What loading the gazetteer (watcher/places, docs/gazetteer.md) adds to a process's start:
`watcher.places.load()` in a fresh interpreter, median of {report.runs} processes, alone and
after the spaCy analyser (as `watcher run` loads them). Issue 18 allows at most
{LIMIT_SECONDS:.0f} s and {LIMIT_MB:.0f} MB. The second table is a start-up with the shipped
rules after the analyser, as `watcher match --rules rules/` does it, step by step in fresh
processes: the gazetteer's share is its load, the region's name index that `~Name` reads
(watcher/text/data/place_word_keys.json.gz), the expansion of `place:` terms inside
load_rules and the known names of each `~Name` inside the compile.
`python -m bench.run --only gazetteer` rewrites this section (alone:
`python -m bench.gazetteer_load`).

{machine_lines}

{render_gazetteer_table(report)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    report = measure_gazetteer(args.runs)
    print(render_gazetteer_table(report))
    return 0 if report.within else 1


if __name__ == "__main__":
    sys.exit(main())
