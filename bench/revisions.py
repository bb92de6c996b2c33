"""Another revision's code beside the working tree's, for a baseline measured in the same
run: exported with `git archive` (no checkout, the working tree untouched)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.paths import ROOT


def export_revision(revision: str, into: Path) -> Path:
    """The files of `revision` written under `into` (created); `into`."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def describe(revision: str) -> str:
    """`revision` as `git describe --always` names it."""
    done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", revision],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or revision
