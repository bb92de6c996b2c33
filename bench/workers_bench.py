"""The workers benchmark: articles/s ingested end to end (poll, parse, dedupe, analyse,
match, store) by 1, 2 and 4 `watcher run` workers sharing one PostgreSQL, and by one worker
on SQLite, from the same local feeds.

Called by bench/run.py after the other parts (or alone: `--only workers`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.corpus import Corpus
from bench.feeds_bench import FeedServer, feed_server
from bench.feeds_corpus import FeedSet, write_feeds
from bench.measure import Machine, machine, progress
from bench.store_replay import new_pipeline, replay_batches
from tests.support.postgres import PostgresServer, find_binaries
from watcher.engine.matcher import Matcher
from watcher.rules.load import load_rules
from watcher.store import Store
from watcher.text.analysis import Analyzer

WORKERS_HEADING = "## Workers"
FEEDS, ITEMS = 100, 50
WORKER_COUNTS = (1, 2, 4)
SETTLE_SECONDS = 10.0  # no new article for this long: the pass is over
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class WorkersRun:
    label: str
    workers: int
    articles: int
    ingest_seconds: float  # first article stored to last article stored
    wall_seconds: float  # workers started to last article stored (start-up included)
    failing_sources: int  # sources whose last poll failed (retried later, after backoff)

    @property
    def per_second(self) -> float:
        return self.articles / self.ingest_seconds


@dataclass(frozen=True)
class StoreShare:
    """One process replaying the corpus into PostgreSQL: the whole pipeline's time and the
    part spent in `Store.ingest` (the transaction workers take turns for)."""

    articles: int
    total_seconds: float
    ingest_seconds: float


@dataclass(frozen=True)
class WorkersResults:
    machine: Machine
    feeds: int
    items: int
    runs: list[WorkersRun]
    store_share: StoreShare
    expected_articles: int
    total_seconds: float


def measure_workers(corpus: Corpus) -> WorkersResults:
    started = time.perf_counter()
    info = machine()
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("the workers benchmark needs PostgreSQL (apt-get install postgresql)")
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as name:
        directory = Path(name)
        feeds = write_feeds(directory / "feeds", corpus.articles, datetime.now(UTC),
                            feeds=FEEDS, items=ITEMS)
        postgres_dir = Path(tempfile.mkdtemp(prefix="watcher-postgres-"))
        postgres = PostgresServer(binaries, postgres_dir)
        postgres.start()
        try:
            with feed_server(feeds) as server:
                runs = [_run("SQLite", f"sqlite:///{directory / 'watcher.db'}", 1,
                             directory, server, feeds)]
                for count in WORKER_COUNTS:
                    _empty(postgres.url)
                    runs.append(_run("PostgreSQL", postgres.url, count, directory, server,
                                     feeds))
            _empty(postgres.url)
            share = _store_share(postgres.url, corpus)
        finally:
            postgres.stop()
            shutil.rmtree(postgres_dir, ignore_errors=True)
    return WorkersResults(info, FEEDS, ITEMS, runs, share, feeds.distinct_texts,
                          time.perf_counter() - started)


def _store_share(url: str, corpus: Corpus) -> StoreShare:
    """How much of one process's pipeline time is the serialised store transaction."""
    progress("workers: one process replaying FA-KES into PostgreSQL, store time apart")
    matcher = Matcher(load_rules(ROOT / "rules"), Analyzer())
    with Store.open(url) as store:
        meter = _IngestTimer(store)
        start = time.perf_counter()
        replay_batches(new_pipeline(matcher, meter), corpus.articles)  # type: ignore[arg-type]
        total = time.perf_counter() - start
    return StoreShare(len(corpus.articles), total, meter.seconds)


class _IngestTimer:
    """The store, with the time spent in `ingest` added up."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seconds = 0.0

    def ingest(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.store.ingest(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _empty(url: str) -> None:
    with Store.open(url) as store:
        store.downgrade("base")
        store.upgrade()


def _run(label: str, db: str, workers: int, directory: Path, server: FeedServer,
         feeds: FeedSet) -> WorkersRun:
    """Start the workers on fresh data, wait until no new article arrives, stop them."""
    progress(f"workers: {label}, {workers} worker(s)")
    config = _config(directory, db, server, feeds)
    start = time.perf_counter()
    processes = [
        subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), "run"],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env={k: v for k, v in os.environ.items()
                              if not k.startswith("WATCHER_")})
        for _ in range(workers)
    ]
    try:
        stored, last_change = _settle(db)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    first, last = _fetched_span(db)
    failing = _scalar(db, "SELECT count(*) FROM sources WHERE error_count > 0")
    run = WorkersRun(label, workers, stored, (last - first).total_seconds(),
                     last_change - start, int(failing))
    progress(f"  {stored} articles in {run.ingest_seconds:.1f} s of ingest "
             f"({run.per_second:.0f}/s), {run.wall_seconds:.1f} s from start")
    return run


def _config(directory: Path, db: str, server: FeedServer, feeds: FeedSet) -> Path:
    """Every feed every 30 s (first polls spread over 3 s), the shipped rules, no channels
    (alerts are the alerts part's subject)."""
    lines = [f"db: {db}", f"rules: {ROOT / 'rules'}", "sources:"]
    for name in feeds.names:
        lines += [f"  - name: outlet{name.removesuffix('.xml')}", f"    url: {server.url(name)}",
                  "    every: 30s"]
    path = directory / "watcher.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _settle(db: str) -> tuple[int, float]:
    """Articles stored once none has arrived for SETTLE_SECONDS, and when the last did."""
    engine = sa.create_engine(db)
    seen, changed = -1, time.perf_counter()
    try:
        while True:
            time.sleep(0.5)
            try:
                with engine.connect() as connection:
                    count = int(connection.execute(sa.text("SELECT count(*) FROM articles"))
                                .scalar() or 0)
            except sa.exc.DBAPIError:  # the schema is still being created
                continue
            if count != seen:
                seen, changed = count, time.perf_counter()
            elif count and time.perf_counter() - changed > SETTLE_SECONDS:
                return count, changed
    finally:
        engine.dispose()


def _fetched_span(db: str) -> tuple[datetime, datetime]:
    first, last = _one(db, "SELECT min(fetched), max(fetched) FROM articles")
    return _as_time(first), _as_time(last)


def _scalar(db: str, query: str) -> object:
    return _one(db, query)[0]


def _one(db: str, query: str) -> sa.Row[Any]:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(query)).one()
    finally:
        engine.dispose()


def _as_time(value: object) -> datetime:
    """SQLite hands back text, PostgreSQL a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def render_workers_markdown(r: WorkersResults) -> str:
    pg = {run.workers: run for run in r.runs if run.label == "PostgreSQL"}
    scaling = pg[4].per_second / pg[1].per_second
    share = r.store_share
    store_ms = share.ingest_seconds / share.articles * 1e3
    lines = [
        WORKERS_HEADING, "",
        "Written by the workers part of `make bench` (alone: `python -m bench.run --only "
        "workers`, which rewrites only this section).", "",
        *[f"- {line}" for line in r.machine.describe()],
        f"- whole part: {r.total_seconds:.0f} s", "",
        f"{r.feeds} local feeds of {r.items} FA-KES items (the feeds part's generator, served "
        "by `bench/feeds_server.py` in its own process), polled by `watcher run` worker "
        "processes with the shipped rules and no channels; PostgreSQL is Debian's, started "
        "for the run on 127.0.0.1. Ingest time runs from the first article stored to the "
        "last (articles' `fetched` times), so start-up (spaCy, rules) is left out; wall "
        "time from starting the workers to the last article is shown beside it.", "",
        "| database | workers | articles | ingest s | articles/s | wall s | failing sources |",
        "|---|---|---|---|---|---|---|",
        *[f"| {x.label} | {x.workers} | {x.articles:,} | {x.ingest_seconds:.1f} | "
          f"{x.per_second:.0f} | {x.wall_seconds:.1f} | {x.failing_sources} |" for x in r.runs],
        "",
        "`articles` is what was stored once no new article had arrived for "
        f"{SETTLE_SECONDS:.0f} s; the feeds hold at most "
        f"{r.expected_articles:,} distinct articles (wire texts plus outlets' rewritten "
        "headlines). A source whose poll failed under the load (`failing sources`, e.g. the "
        "20 s fetch limit) keeps its items for its retry after backoff, which this "
        "measurement does not wait for.", "",
        f"Scaling from 1 to 4 workers on PostgreSQL: **{scaling:.2f}x**. What limits it:", "",
        f"- The store transaction is serial. Ingests take turns under one advisory lock (the "
        f"story search and \"first match of a rule in its story\" must see the previous "
        f"article, or two copies stored at once would both alert). One process replaying "
        f"FA-KES ({share.articles} articles) into this PostgreSQL spends "
        f"{share.ingest_seconds:.1f} s of {share.total_seconds:.1f} s "
        f"(**{share.ingest_seconds / share.total_seconds:.0%}**) in `Store.ingest`, "
        f"{store_ms:.1f} ms per article: at most about {1e3 / store_ms:.0f} articles/s "
        "however many workers there are, before anything else.",
        "- 2 cores are shared by the workers, PostgreSQL (which does the store's work) and "
        "the feed server: fetching, parsing, analysis and matching do run in parallel, but "
        "not on more than two cores.",
        "- So more workers buy availability (a dead worker's feeds and alerts are taken "
        "over) rather than throughput here. Throughput would need a finer lock (per story "
        "band instead of one for all ingests) and fewer statements per article.", "",
    ]
    return "\n".join(lines)


def render_workers_table(r: WorkersResults) -> str:
    return "\n".join(f"{x.label:10} {x.workers} worker(s): {x.per_second:6.0f} articles/s"
                     for x in r.runs)
