"""`python -m bench.run --only retention`: what an article costs the store on disk, and how
fast `Store.prune` (`retention:`, `watcher db prune`) removes them, per batch size.

A SQLite store is filled with `articles` rows as a feed reader's (bench/store_fill.py: real
FA-KES text and signatures, three keys and 32 bands each, one minute apart), copied once per
batch size, and the older half of each copy pruned; the batch sizes take turns, best of
`passes`. Measured: articles removed per second, the longest batch (how long the write lock
is held at once: what a poll storing meanwhile may wait), and the file afterwards (SQLite
keeps freed pages for new rows rather than shrinking the file).
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench.corpus import Corpus
from bench.measure import Machine, machine, progress
from bench.sections import head
from bench.store_fill import FIRST_FETCH, fill_store
from bench.tables import Column, markdown
from watcher.ingest.stories import story_signature
from watcher.store import Store
from watcher.store.retention import PRUNE_BATCH

RETENTION_HEADING = "## Retention"
BATCHES = (100, PRUNE_BATCH, 2000)
FILL_BATCH = 5000


@dataclass
class PruneRun:
    batch: int
    removed: int = 0
    seconds: list[float] = field(default_factory=list)
    longest_batch: list[float] = field(default_factory=list)
    median_batch: list[float] = field(default_factory=list)
    file_bytes: int = 0
    free_bytes: int = 0

    @property
    def rate(self) -> float:
        return self.removed / min(self.seconds)


@dataclass
class RetentionReport:
    machine: Machine
    articles: int
    file_bytes: int
    passes: int
    runs: list[PruneRun]

    @property
    def bytes_per_article(self) -> float:
        return self.file_bytes / self.articles


def measure_retention(corpus: Corpus, articles: int, passes: int, scratch: Path) -> RetentionReport:
    """Fill once, then prune the older half of a fresh copy per batch size and pass."""
    progress("retention: signatures and the filled store")
    signatures = [story_signature(a.title, a.body).values for a in corpus.articles]
    filled = scratch / "retention-filled.db"
    fill = fill_store(filled, corpus.articles, signatures, articles, min(FILL_BATCH, articles))
    before = FIRST_FETCH + timedelta(minutes=articles // 2, seconds=30)  # the older half
    runs = [PruneRun(batch) for batch in BATCHES]
    for number in range(passes):
        for run in runs:
            progress(f"retention: pass {number + 1}, batches of {run.batch}")
            _prune_copy(filled, scratch / f"retention-{run.batch}.db", before, run)
    return RetentionReport(machine(), fill.articles, fill.file_bytes, passes, runs)


def _prune_copy(filled: Path, path: Path, before: object, run: PruneRun) -> None:
    shutil.copy(filled, path)
    ends: list[float] = []
    with Store.open(f"sqlite:///{path}") as store:
        start = time.perf_counter()
        report = store.prune(before, batch=run.batch,  # type: ignore[arg-type]
                             after_batch=lambda _: ends.append(time.perf_counter()))
        run.seconds.append(time.perf_counter() - start)
    batches = [end - begin for begin, end in zip([start, *ends], ends, strict=False)]
    run.longest_batch.append(max(batches))
    run.median_batch.append(statistics.median(batches))
    run.removed = report.removed["articles"]
    run.file_bytes = path.stat().st_size
    with sqlite3.connect(path) as connection:
        pages, size = (connection.execute(f"PRAGMA {name}").fetchone()[0]
                       for name in ("freelist_count", "page_size"))
    run.free_bytes = pages * size
    path.unlink()


COLUMNS = (
    Column("batch (articles per transaction)", lambda r: f"{r.batch:,}"),
    Column("articles removed", lambda r: f"{r.removed:,}"),
    Column("best s", lambda r: f"{min(r.seconds):.2f}"),
    Column("articles/s", lambda r: f"{r.rate:,.0f}"),
    Column("median batch s (best pass)", lambda r: f"{min(r.median_batch):.3f}"),
    Column("longest batch s (best pass)", lambda r: f"{min(r.longest_batch):.3f}"),
    Column("passes s", lambda r: ", ".join(f"{s:.2f}" for s in r.seconds)),
    Column("file after MB", lambda r: f"{r.file_bytes / 1e6:.1f}"),
    Column("free pages MB", lambda r: f"{r.free_bytes / 1e6:.1f}"),
)


def render_retention_table(report: RetentionReport) -> str:
    return "\n".join(markdown(COLUMNS, report.runs))


def _chosen(runs: Sequence[PruneRun]) -> PruneRun:
    return next(run for run in runs if run.batch == PRUNE_BATCH)


def _ratios(runs: Sequence[PruneRun]) -> str:
    chosen = _chosen(runs)
    return "; ".join(f"batches of {run.batch:,}: {run.rate / chosen.rate:.2f}x the articles/s, "
                     f"{min(run.median_batch) / min(chosen.median_batch):.2f}x the median "
                     "batch" for run in runs if run is not chosen)


def render_retention_markdown(report: RetentionReport) -> str:
    return "\n".join([
        *head(RETENTION_HEADING, "retention", "retention", report.machine,
              f"{report.articles:,} articles filled (bench/store_fill.py), the older half "
              f"pruned from a fresh copy per batch size; sizes taking turns, best of "
              f"{report.passes}"),
        f"Growth: the filled file holds {report.file_bytes / 1e6:.1f} MB, "
        f"{report.bytes_per_article / 1024:.1f} KiB per article (three identity keys, 32 band "
        "rows, title, body, signature and the full-text index; matches, deliveries and "
        "places add to it). `retention:` bounds it: what is past the window is removed once a "
        "day, and SQLite reuses the freed pages for new articles instead of growing the "
        "file (it never shrinks it: `VACUUM` does, offline).",
        "",
        render_retention_table(report),
        "",
        f"Against the shipped batch of {PRUNE_BATCH} articles: {_ratios(report.runs)}. The "
        "batch times are how long one prune transaction holds SQLite's write lock, which an "
        "ingest waits for (PostgreSQL: the ingest lock); the longest includes WAL "
        "checkpoints and the machine's other load. At the shipped batch, the daily prune of "
        f"a day of 5,000 articles takes about {5000 / _chosen(report.runs).rate:.0f} s, and "
        "the first prune of a year of them (1.8 million, a store that ran without "
        f"`retention:`) about {1_825_000 / _chosen(report.runs).rate / 60:.0f} minutes, "
        "polls storing between its batches.",
        "",
    ])  # fmt: skip
