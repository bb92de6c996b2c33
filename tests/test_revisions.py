"""Comparing two revisions' code with rules both can read (bench/revisions.py)."""

from __future__ import annotations

from pathlib import Path

from bench.paths import ROOT
from bench.revisions import export_revision, rules_both_read

BEFORE_NOT_IN = "dc89f3f"  # the last revision whose parser did not know `A NOT IN B`


def test_a_baseline_that_cannot_read_this_trees_rules_is_matched_with_its_own(
    tmp_path: Path,
) -> None:
    """The shipped rules use NOT IN, which the code before it refuses: a benchmark of the
    two revisions' code then matches both with the baseline's rules, not a crashed run."""
    baseline = export_revision(BEFORE_NOT_IN, tmp_path)
    assert rules_both_read(baseline) == baseline / "rules"


def test_a_baseline_that_reads_this_trees_rules_is_matched_with_them(tmp_path: Path) -> None:
    baseline = export_revision("HEAD", tmp_path)
    assert rules_both_read(baseline) == ROOT / "rules"
