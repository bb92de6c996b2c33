"""`python -m bench.gazetteer_against [REVISION]`: the gazetteer's start-up cost, this tree
against another revision, in CPU seconds.

What a change to the gazetteer's data (more places, more names) does to the cost issue 18
limits, measured so that a busy machine does not decide it: the revision is exported beside
the working tree (bench/revisions.py) and each pass runs, in each tree in turn (which goes
first alternates), the two fresh processes of bench/gazetteer_load.py: the load alone, and
a start-up with that tree's shipped rules, whose gazetteer steps are summed. Reported: best
and median of the passes and the ratios of the bests (this tree / baseline).
`python -m bench.run --only gazetteeragainst` writes it to bench/RESULTS.md; the absolute
numbers are the "Gazetteer" section's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.gazetteer_load import _CHILD, _STARTUP_CHILD, STARTUP_STEPS
from bench.measure import Machine, machine, progress
from bench.paths import ROOT
from bench.sections import head
from bench.tables import Column, markdown

AGAINST_HEADING = "## Gazetteer against its baseline"
# CPU time: on the shared 2-core machine, other work stretches wall times by 2x and more
# from one process to the next (a loaded machine gave ratios of 0.6x to 2x between the same
# code); what a process itself computes varies far less.
CLOCK = "process_time"
# The gazetteer before SimpleMaps' Syrian and Iraqi towns were merged in (issue 18).
BASELINE = "29fbb36"
LABELS = ("baseline", "this tree")


@dataclass
class Comparison:
    machine: Machine
    revision: str
    passes: dict[str, list[dict[str, float]]]

    def best(self, label: str, key: str) -> float:
        return min(done[key] for done in self.passes[label])

    def median(self, label: str, key: str) -> float:
        return statistics.median(done[key] for done in self.passes[label])

    def ratio(self, key: str) -> float:
        return self.best("this tree", key) / self.best("baseline", key)


def _run(root: Path, script: str, argument: str) -> dict[str, float]:
    """One fresh interpreter running `script` over the tree at `root`, timing CPU seconds."""
    done = subprocess.run(
        [sys.executable, "-c", script, argument, CLOCK], cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def _pass(root: Path) -> dict[str, float]:
    """The load alone and the gazetteer's share of a start-up, in the tree at `root`."""
    load = _run(root, _CHILD, "alone")
    startup = _run(root, _STARTUP_CHILD, str(root / "rules"))
    share = sum(startup[step] for step, _, ours in STARTUP_STEPS if ours)
    return {"places": load["places"], "load": load["seconds"], "added_mb": load["added_mb"],
            "share": share}


def compare(revision: str, passes: int) -> Comparison:
    """This tree against `revision`, their passes alternating (module docstring)."""
    from bench.revisions import describe_revision, export_revision

    info = machine()
    with tempfile.TemporaryDirectory() as scratch:
        roots = dict(zip(LABELS, (export_revision(revision, Path(scratch)), ROOT), strict=True))
        done: dict[str, list[dict[str, float]]] = {label: [] for label in LABELS}
        progress(f"gazetteer: {passes} passes each, this tree and {revision}, alternating")
        for number in range(passes):
            order = LABELS if number % 2 == 0 else LABELS[::-1]  # neither always goes first
            for label in order:
                done[label].append(_pass(roots[label]))
    return Comparison(info, describe_revision(revision), done)


def measure_against(passes: int, quick: bool) -> Comparison:
    """The part `make bench` runs: against BASELINE (HEAD with --quick, which measures
    nothing and must run in a shallow clone too)."""
    return compare("HEAD" if quick else BASELINE, passes)


_COLUMNS = (
    Column("tree", lambda r: r["tree"]),
    Column("places", lambda r: f"{r['places']:,.0f}"),
    Column("load CPU s (best)", lambda r: f"{r['load']:.3f}"),
    Column("load CPU s (median)", lambda r: f"{r['load_median']:.3f}"),
    Column("RSS added MB (median)", lambda r: f"{r['added_mb']:.1f}"),
    Column("start-up share CPU s (best)", lambda r: f"{r['share']:.3f}"),
    Column("start-up share CPU s (median)", lambda r: f"{r['share_median']:.3f}"),
)


def _rows(done: Comparison) -> list[dict]:
    return [{"tree": label, "places": done.passes[label][0]["places"],
             "load": done.best(label, "load"), "load_median": done.median(label, "load"),
             "added_mb": done.median(label, "added_mb"), "share": done.best(label, "share"),
             "share_median": done.median(label, "share")} for label in LABELS]


def render_against_table(done: Comparison) -> str:
    more_mb = done.median("this tree", "added_mb") - done.median("baseline", "added_mb")
    return "\n".join([
        *markdown(_COLUMNS, _rows(done)),
        f"this tree / baseline (best of {len(done.passes['baseline'])} passes): load "
        f"{done.ratio('load'):.2f}x, the gazetteer's share of start-up "
        f"{done.ratio('share'):.2f}x; RSS added {more_mb:+.1f} MB",
    ])  # fmt: skip


def render_against_markdown(done: Comparison) -> str:
    lines = head(AGAINST_HEADING, "gazetteer against its baseline", "gazetteeragainst",
                 done.machine, f"baseline: git {done.revision}")
    lines += [
        "The CPU time of the gazetteer's load (`watcher.places.load()`, a fresh process) and",
        "of its share of a start-up with the shipped rules (its load, the name index, `place:`",
        "terms, `~Name` known names), this tree against the baseline, the passes alternating",
        "(bench/gazetteer_against.py): CPU time because other work on the shared machine",
        "stretches wall times too much to compare. The wall times and issue 18's limits are",
        "the \"Gazetteer\" section's.",
        "",
        render_against_table(done),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", default=BASELINE)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args(argv)
    print(render_against_table(compare(args.revision, args.passes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
