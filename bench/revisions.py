"""Another revision of this repository beside the working tree: exported with `git archive`
so a benchmark can run it in a process of its own and alternate passes with this tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.paths import ROOT


def export_revision(revision: str, directory: Path) -> Path:
    """The files of `revision` under `directory/baseline` (created), for PYTHONPATH."""
    baseline = directory / "baseline"
    baseline.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
    return baseline


def rules_both_read(baseline: Path) -> Path:
    """The shipped rules directory both revisions can load: this tree's, unless the
    baseline's code refuses them (a form newer than it, such as `NOT IN`), then the
    baseline's own, which this tree still reads (the rule language only grows). So a
    comparison of two revisions' code keeps matching both with the same rules."""
    probe = ("import sys; from watcher.rules.load import load_rules; "
             "load_rules(sys.argv[1])")
    tree_rules = ROOT / "rules"
    loaded = subprocess.run([sys.executable, "-c", probe, str(tree_rules)], cwd=baseline,
                            env={**os.environ, "PYTHONPATH": str(baseline)},
                            capture_output=True, check=False)
    return tree_rules if loaded.returncode == 0 else baseline / "rules"


def describe_revision(revision: str | None) -> str:
    """`revision` as `git describe` names it; None: the working tree (`-dirty` if changed)."""
    command = ["git", "-C", str(ROOT), "describe", "--always"]
    command += ["--dirty"] if revision is None else [revision]
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
