"""Another revision of this repository beside the working tree: exported with `git archive`
so a benchmark can run it in a process of its own and alternate passes with this tree."""

from __future__ import annotations

import subprocess
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


def describe_revision(revision: str | None) -> str:
    """`revision` as `git describe` names it; None: the working tree (`-dirty` if changed)."""
    command = ["git", "-C", str(ROOT), "describe", "--always"]
    command += ["--dirty"] if revision is None else [revision]
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
