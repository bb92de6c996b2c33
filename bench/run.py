"""`python -m bench.run`: every part of the benchmark in one process, then RESULTS.md.

The parts run in PARTS' order (the matching part's cold tokenizer pass comes before
anything fills the tokenizer's cache), each printing its table; the report is their
sections in that order. `--only PART` runs one part and rewrites only its section.
`--quick` runs every part at small sizes (bench/sizes.py) into bench/out/RESULTS.quick.md:
a check that the benchmark still works end to end, not a measurement.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.context_bench import (
    CONTEXT_HEADING,
    measure_context,
    render_context_markdown,
    render_context_table,
)
from bench.corpus import Corpus, load_corpus
from bench.feeds_bench import measure_feeds
from bench.feeds_report import FEEDS_HEADING, render_feeds_markdown, render_feeds_table
from bench.gazetteer_against import (
    AGAINST_HEADING,
    measure_against,
    render_against_markdown,
    render_against_table,
)
from bench.gazetteer_load import (
    GAZETTEER_HEADING,
    measure_gazetteer,
    render_gazetteer_markdown,
    render_gazetteer_table,
)
from bench.lucene_bench import measure_lucene
from bench.lucene_report import LUCENE_HEADING, render_lucene_markdown, render_lucene_table
from bench.matching_bench import measure_matching
from bench.matching_report import MATCHING_HEADING, render_markdown, render_table
from bench.measure import progress
from bench.notify_bench import (
    NOTIFY_HEADING,
    measure_notify,
    render_notify_markdown,
    render_notify_table,
)
from bench.paths import OUT, QUICK_RESULTS_FILE, RESULTS_FILE
from bench.pg_write import (
    PG_WRITE_HEADING,
    measure_pg_write,
    render_pg_write_markdown,
    render_pg_write_table,
)
from bench.places import (
    PLACES_HEADING,
    measure_places_part,
    render_places_part_markdown,
    render_places_part_table,
)
from bench.polling_bench import (
    POLLING_HEADING,
    measure_polling,
    render_polling_markdown,
    render_polling_table,
)
from bench.quality import (
    QUALITY_HEADING,
    measure_quality_part,
    render_quality_part_markdown,
    render_quality_part_table,
)
from bench.retention_bench import (
    RETENTION_HEADING,
    measure_retention,
    render_retention_markdown,
    render_retention_table,
)
from bench.rules_load import (
    RULES_LOAD_HEADING,
    measure_rules_load,
    render_rules_load_markdown,
    render_rules_load_table,
)
from bench.sections import replace_section
from bench.shipped_bench import (
    SHIPPED_HEADING,
    measure_shipped,
    render_shipped_markdown,
    render_shipped_table,
)
from bench.sizes import FULL, QUICK, Sizes
from bench.startup_bench import (
    STARTUP_HEADING,
    measure_startup_part,
    render_startup_markdown,
    render_startup_table,
)
from bench.store_bench import measure_store
from bench.store_report import STORE_HEADING, render_store_markdown, render_store_table
from bench.store_write import (
    WRITE_HEADING,
    measure_write,
    render_write_markdown,
    render_write_table,
)
from bench.units import UNITS_HEADING, measure_units, render_units_markdown
from bench.web_bench import WEB_HEADING, measure_web, render_web_markdown, render_web_table
from bench.workers_bench import (
    WORKERS_HEADING,
    measure_workers,
    render_workers_markdown,
    render_workers_table,
)
from watcher.text.analysis import Analyzer


@dataclass(frozen=True)
class Context:
    """What every part is given: the corpus, one analyser, the sizes, a scratch directory."""

    corpus: Corpus
    analyzer: Analyzer
    sizes: Sizes
    scratch: Path
    postgres_url: str | None  # for the workers and store write parts; None: they start one


@dataclass(frozen=True)
class Part:
    """A part of the benchmark: `--only` name, its RESULTS.md heading, how it measures, how
    its results are shown on the terminal and as its section."""

    name: str
    heading: str
    measure: Callable[[Context], Any]
    table: Callable[[Any], str]
    section: Callable[[Any], str]


PARTS = (
    Part("matching", MATCHING_HEADING,
         lambda c: measure_matching(c.corpus, c.analyzer, c.sizes),
         render_table, render_markdown),
    Part("lucene", LUCENE_HEADING,
         lambda c: measure_lucene(c.corpus, c.analyzer, c.sizes, c.scratch),
         render_lucene_table, render_lucene_markdown),
    Part("store", STORE_HEADING,
         lambda c: measure_store(c.corpus, c.analyzer, c.sizes, c.scratch),
         render_store_table, render_store_markdown),
    Part("storewrite", WRITE_HEADING,
         lambda c: measure_write(c.sizes, c.postgres_url),
         render_write_table, render_write_markdown),
    Part("pgwrite", PG_WRITE_HEADING,
         lambda c: measure_pg_write(c.sizes, c.postgres_url),
         render_pg_write_table, render_pg_write_markdown),
    Part("shipped", SHIPPED_HEADING,
         lambda c: measure_shipped(c.sizes),
         render_shipped_table, render_shipped_markdown),
    Part("feeds", FEEDS_HEADING,
         lambda c: measure_feeds(c.corpus, c.sizes, c.scratch),
         render_feeds_table, render_feeds_markdown),
    Part("polling", POLLING_HEADING,
         lambda c: measure_polling(c.corpus, c.sizes, c.scratch),
         render_polling_table, render_polling_markdown),
    Part("notify", NOTIFY_HEADING,
         lambda c: measure_notify(c.corpus, c.analyzer, c.sizes, c.scratch),
         render_notify_table, render_notify_markdown),
    Part("workers", WORKERS_HEADING,
         lambda c: measure_workers(c.corpus, c.analyzer, c.sizes, c.scratch, c.postgres_url),
         render_workers_table, render_workers_markdown),
    Part("quality", QUALITY_HEADING,
         lambda c: measure_quality_part(c.analyzer),
         render_quality_part_table, render_quality_part_markdown),
    Part("places", PLACES_HEADING,
         lambda c: measure_places_part(analyzer=c.analyzer),
         render_places_part_table, render_places_part_markdown),
    Part("gazetteer", GAZETTEER_HEADING,
         lambda c: measure_gazetteer(c.sizes.gazetteer_runs),
         render_gazetteer_table, render_gazetteer_markdown),
    Part("gazetteeragainst", AGAINST_HEADING,
         lambda c: measure_against(c.sizes.gazetteer_against_passes,
                                   c.sizes.corpus_articles is not None),
         render_against_table, render_against_markdown),
    Part("context", CONTEXT_HEADING,
         lambda c: measure_context(c.corpus, c.analyzer, c.sizes),
         render_context_table, render_context_markdown),
    Part("units", UNITS_HEADING,
         lambda c: measure_units(c.corpus),
         render_units_markdown, render_units_markdown),  # a list, no table
    Part("web", WEB_HEADING,
         lambda c: measure_web(c.corpus.articles, c.sizes.web_articles, c.sizes.web_requests,
                               c.scratch),
         render_web_table, render_web_markdown),
    Part("rulesload", RULES_LOAD_HEADING,
         lambda c: measure_rules_load(quick=c.sizes.corpus_articles is not None),
         render_rules_load_table, render_rules_load_markdown),
    Part("startup", STARTUP_HEADING,
         lambda c: measure_startup_part(c.sizes.startup_runs),
         render_startup_table, render_startup_markdown),
    Part("retention", RETENTION_HEADING,
         lambda c: measure_retention(c.corpus, c.sizes.retention_articles,
                                     c.sizes.retention_passes, c.scratch),
         render_retention_table, render_retention_markdown),
)
HEADINGS = tuple(part.heading for part in PARTS)


def main(argv: list[str] | None = None) -> None:
    arguments = _parser().parse_args(argv)
    sizes = QUICK if arguments.quick else FULL
    results = arguments.results or (QUICK_RESULTS_FILE if arguments.quick else RESULTS_FILE)
    parts = [part for part in PARTS if arguments.only in (None, part.name)]
    arguments.out.mkdir(parents=True, exist_ok=True)
    progress("loading FA-KES and the spaCy pipeline")
    corpus = load_corpus(sizes.corpus_articles)
    with tempfile.TemporaryDirectory(prefix="run-", dir=arguments.out) as scratch:
        context = Context(corpus, Analyzer(), sizes, Path(scratch), arguments.postgres)
        if sizes.freeze:
            gc.freeze()
        sections = [_run_part(part, context) for part in parts]
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(_report(results, parts, sections), encoding="utf-8")
    progress(f"wrote {results}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=[part.name for part in PARTS],
                        help="run only this part; rewrite only its section of the report")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: checks that every part runs, measures nothing")
    parser.add_argument("--results", type=Path, default=None,
                        help="the report to write (default: bench/RESULTS.md, or "
                             "bench/out/RESULTS.quick.md with --quick)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="where scratch files go, removed afterwards (default: bench/out)")
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help="the PostgreSQL the workers, storewrite and pgwrite parts use, "
                             "every table dropped and created again (default: one started "
                             "from Debian's binaries)")
    return parser


def _run_part(part: Part, context: Context) -> str:
    """Measure one part, print its table, return its section."""
    measured = part.measure(context)
    print(part.table(measured), flush=True)
    return part.section(measured)


def _report(results: Path, parts: list[Part], sections: list[str]) -> str:
    """Every part's section; or, for one part, the existing report with its section
    replaced (added if missing)."""
    if len(parts) == len(PARTS):
        return "\n".join(sections)
    document = results.read_text(encoding="utf-8") if results.exists() else ""
    for part, section in zip(parts, sections, strict=True):
        document = replace_section(document, part.heading, section, HEADINGS)
    return document


if __name__ == "__main__":
    main()
