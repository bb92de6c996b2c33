"""Where the benchmark reads and writes, from the repository root (wherever it is checked out).

Data it reads lives under bench/data, the shipped rules under rules/; scratch files (SQLite
stores, rendered feeds) go under bench/out, which git ignores; the committed report is
bench/RESULTS.md.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
OUT = BENCH / "out"
RESULTS_FILE = BENCH / "RESULTS.md"
QUICK_RESULTS_FILE = OUT / "RESULTS.quick.md"
SHIPPED_RULES = ROOT / "rules"


def shown(path: str) -> str:
    """A source path as a report shows it: relative to the repository, or to the
    site-packages (or other sys.path entry) it was imported from."""
    resolved = Path(path)
    if resolved.is_relative_to(ROOT):
        return resolved.relative_to(ROOT).as_posix()
    parts = resolved.parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1:])
    return resolved.name
