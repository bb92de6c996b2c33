"""`make bench` in small: `python -m bench.run --quick` runs every part end to end, so the
benchmark cannot rot unnoticed (its numbers mean nothing at these sizes: none is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.run import HEADINGS
from bench.sections import replace_section

ROOT = Path(__file__).resolve().parent.parent
# Each part's section, and a table header that must be in it.
TABLES = {
    "# Matching benchmark": ("| stage | rules | best s | words/s | ns/word | matches |",
                             "| target | measured | goal | verdict |",
                             "| code | tokenizer best s | analysis + engine best s |",
                             "| build | engine alone s | finding terms s | evaluating s |",
                             "| piece | before s | after s | before / after |"),
    "## Lucene equivalent": ("| rules | watcher best s | Lucene best s | watcher / Lucene |",
                             "| target | measured | goal | verdict |"),
    "## Store": ("| rules | engine alone s | art./s | replay s |",
                 "| stage | shipped rules/ (14): s | ms/art. | share |",
                 "| store | is_known µs/art. |"),
    "## Store write path": ("| code | best s | articles/s | statements / article |",),
    "## PostgreSQL write path": ("| code | best s | articles/s | statements / article | "
                                 "round trips / article |",),
    "## Shipped rules' matching": ("| stage | code | best s | ms / article | median s |",),
    "## Feeds": ("| pass | wall s | feeds/s |", "| part | first: thread s |",
                 "| function | first: calls | thread s | CPU s | CPU ms/call |",
                 "| function | first: calls | CPU s | share of the process's |"),
    "## Polling at scale": ("| pass | at once | server delay ms | parsing in | wall s |",),
    "## Alerts": ("| target | sends at once | deliveries | seconds | deliveries/s |",),
    "## Workers": ("| database | workers | articles | in window | ingest s | articles/s |",),
    "## Quality": ("| rule | alerts | wanted | unwanted | unjudged | precision |",
                   "| reason | alerts | share of unwanted |",
                   "| place | alerts | wanted |"),
    "## Places": ("| place | judged | mentions | matched | right | wrong | missed |",),
    "## Gazetteer": ("| setting | places | load s (median) | worst s | RSS added MB |",
                     "| start-up step | s (median) | worst s | gazetteer's |"),
    "## Gazetteer against its baseline": ("| tree | places | load CPU s (best) |",),
    "## Context labels": ("| rules | articles with a match | matches | evidence + labelling s |",
                          "| target | measured | goal | verdict |",
                          "| build | warm tokenizer s | evidence + labelling s |"),
    "## Text units": ("- shipped rules, alerts lost:",),
    "## Workspace": ("| request | path | stories | median ms | p95 ms | baseline ms |",
                     "| target | measured | goal | verdict |"),
    "## Rule loading": ("| code | best s | median s | CPU s (best pass) | rules | reload of 1 "
                        "file s (best) |",
                        "| target (issue 20) | verdict |"),
    "## Start-up": ("| command | wall s (median) | worst s | CPU s (median) | x baseline |",),
    "## Retention": ("| batch (articles per transaction) | articles removed | best s | "
                     "articles/s |",),
}


def test_the_quick_bench_writes_every_section_with_its_tables(
    tmp_path: Path, pg_url: str
) -> None:
    results, out = tmp_path / "RESULTS.md", tmp_path / "out"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--results", str(results),
         "--out", str(out), "--postgres", pg_url],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=1800,  # hang guard
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = results.read_text(encoding="utf-8")
    sections = split_sections(report)
    assert list(sections) == list(TABLES)
    for heading, tables in TABLES.items():
        for table in tables:
            assert table in sections[heading], f"{heading}: no table {table!r}"
        assert "PROBLEM" not in sections[heading]
    assert "`store.known_keys`" in sections["## Store"]  # the metered store call, by name
    assert list(out.iterdir()) == []  # scratch files removed


def test_one_part_alone_rewrites_only_its_section() -> None:
    document = "# Matching benchmark\n\nold matching\n\n## Targets\n\nt\n\n## Store\n\nold store\n"
    rewritten = replace_section(document, "## Store", "## Store\n\nnew store\n", HEADINGS)
    assert rewritten == "# Matching benchmark\n\nold matching\n\n## Targets\n\nt\n\n" \
        "## Store\n\nnew store\n"
    first = replace_section(rewritten, "# Matching benchmark", "# Matching benchmark\n\nnew\n",
                            HEADINGS)
    assert first == "# Matching benchmark\n\nnew\n\n## Store\n\nnew store\n"
    added = replace_section(first, "## Feeds", "## Feeds\n\nfeeds\n", HEADINGS)
    assert added == first + "\n## Feeds\n\nfeeds\n"


def split_sections(report: str) -> dict[str, str]:
    """The report's parts by heading, in order."""
    sections: dict[str, str] = {}
    current = None
    for line in report.splitlines():
        if line in HEADINGS:
            current = line
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections
