"""`python -m bench.gazetteer_load`: what loading the gazetteer adds to start-up.

Issue 18 allows loading at most 1 s and 100 MB. Each run is a fresh interpreter (the
gazetteer is read once per process, so only a new process measures it), in two settings:
alone, and after the spaCy analyser, as in `watcher run`. Reported: the wall time of
`watcher.places.load()`, how much it raised the process's resident memory (RSS, what it
keeps) and its peak (max RSS; after the analyser, spaCy's own loading peak may hide it).
Not part of `python -m bench.run` yet: it prints its table, the numbers go to
docs/gazetteer.md by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from bench.paths import ROOT
from bench.tables import Column, markdown

# Runs in the child: peak RSS before and after, and the load's wall time.
_CHILD = """
import json, os, resource, sys, time
def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
if sys.argv[1] == "analyser":
    from watcher.text.analysis import Analyzer
    Analyzer().analyse_field("body", "Shelling hit Sheikh Maqsoud in Aleppo.")
from watcher.places import load
rss, peak = rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
gazetteer = load()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "added_mb": rss_mb() - rss, "rss_mb": rss_mb(),
                  "peak_added_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                  - peak, "places": len(gazetteer)}))
"""
SETTINGS = ("alone", "analyser")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    rows = [measure(setting, args.runs) for setting in SETTINGS]
    columns = [
        Column("setting", lambda r: r["setting"]),
        Column("places", lambda r: f"{r['places']:,}"),
        Column("load s (median)", lambda r: f"{r['seconds']:.2f}"),
        Column("worst s", lambda r: f"{r['worst_seconds']:.2f}"),
        Column("RSS added MB", lambda r: f"{r['added_mb']:.0f}"),
        Column("peak RSS added MB", lambda r: f"{r['peak_added_mb']:.0f}"),
        Column("RSS after MB", lambda r: f"{r['rss_mb']:.0f}"),
    ]
    print("\n".join(markdown(columns, rows)))
    within = all(
        r["worst_seconds"] <= LIMIT_SECONDS and max(r["added_mb"], r["peak_added_mb"]) <= LIMIT_MB
        for r in rows
    )
    print(f"limits {LIMIT_SECONDS:.0f} s, {LIMIT_MB:.0f} MB: {'met' if within else 'EXCEEDED'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
