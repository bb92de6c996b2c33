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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.corpus import Corpus
from bench.feeds_bench import FeedServerProcess, feed_server
from bench.feeds_corpus import FeedSet, write_feeds
from bench.measure import Machine, machine, progress
from bench.meter import Meter
from bench.paths import ROOT, SHIPPED_RULES
from bench.sections import head
from bench.sizes import Sizes
from bench.store_replay import new_pipeline, replay_batches
from bench.tables import Column, markdown, plain
from tests.support.postgres import PostgresServer, find_binaries
from watcher.engine.matcher import Matcher
from watcher.rules.load import load_rules
from watcher.store import Store
from watcher.text.analysis import Analyzer

WORKERS_HEADING = "## Workers"
CHECK_EVERY = 0.5  # seconds between looks at the database while the workers poll
GIVE_UP_AFTER = 600.0  # a pass that has not polled every source by then has gone wrong
RUN_COLUMNS = (
    Column("database", "label"),
    Column("workers", "workers"),
    Column("articles", "articles", ","),
    Column("ingest s", "ingest_seconds", ".1f"),
    Column("articles/s", "per_second", ".0f"),
    Column("wall s", "wall_seconds", ".1f"),
    Column("failing sources", "failing_sources"),
)


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
    sizes: Sizes


def measure_workers(corpus: Corpus, analyzer: Analyzer, sizes: Sizes, scratch: Path,
                    postgres_url: str | None = None) -> WorkersResults:
    """Every workers measurement: feeds and SQLite under `scratch`, removed afterwards; on
    the PostgreSQL at `postgres_url` (every table dropped and created again), or else a
    server started for the part (see `postgres`)."""
    started = time.perf_counter()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="workers-", dir=scratch) as name, \
            postgres(postgres_url) as url:
        directory = Path(name)
        feeds = write_feeds(directory / "feeds", corpus.articles, datetime.now(UTC),
                            feeds=sizes.worker_feeds, items=sizes.worker_items)
        with feed_server(feeds) as server:
            runs = [_run("SQLite", f"sqlite:///{directory / 'watcher.db'}", 1,
                         directory, server, feeds)] if sizes.worker_on_sqlite else []
            for count in sizes.worker_counts:
                _empty(url)
                runs.append(_run("PostgreSQL", url, count, directory, server, feeds))
        _empty(url)
        share = _store_share(url, corpus, analyzer)
        _empty(url)
    return WorkersResults(info, sizes.worker_feeds, sizes.worker_items, runs, share,
                          feeds.distinct_texts, time.perf_counter() - started, sizes)


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """`url`, or a server from Debian's binaries started on 127.0.0.1 and removed on the
    way out; its cluster in the system's temporary directory (the server runs as the
    postgres user, who may not reach the scratch directory)."""
    if url is not None:
        yield url
        return
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("the workers benchmark needs PostgreSQL (apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="watcher-postgres-"))
    server = PostgresServer(binaries, directory)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _store_share(url: str, corpus: Corpus, analyzer: Analyzer) -> StoreShare:
    """How much of one process's pipeline time is the serialised store transaction."""
    progress("workers: one process replaying FA-KES into PostgreSQL, store time apart")
    matcher = Matcher(load_rules(SHIPPED_RULES), analyzer)
    meter = Meter()
    with Store.open(url) as store:
        start = time.perf_counter()
        replay_batches(new_pipeline(matcher, meter.wrap(store, "store")), corpus.articles)
        total = time.perf_counter() - start
    return StoreShare(len(corpus.articles), total, meter.readings()["store.ingest"].wall)


def _empty(url: str) -> None:
    with Store.open(url) as store:
        store.downgrade("base")
        store.upgrade()


def _run(label: str, db: str, workers: int, directory: Path, server: FeedServerProcess,
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
        stored, last_change = _all_polled(db, feeds.feeds, processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    first, last, failing = _after_the_pass(db)
    run = WorkersRun(label, workers, stored, (last - first).total_seconds(),
                     last_change - start, failing)
    progress(f"  {stored} articles in {run.ingest_seconds:.1f} s of ingest "
             f"({run.per_second:.0f}/s), {run.wall_seconds:.1f} s from start")
    return run


def _config(directory: Path, db: str, server: FeedServerProcess, feeds: FeedSet) -> Path:
    """Every feed every 30 s (first polls spread over 3 s), the shipped rules, no channels
    (alerts are the alerts part's subject)."""
    lines = [f"db: {db}", f"rules: {SHIPPED_RULES}", "sources:"]
    for name in feeds.names:
        lines += [f"  - name: outlet{name.removesuffix('.xml')}", f"    url: {server.url(name)}",
                  "    every: 30s"]
    path = directory / "watcher.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _all_polled(db: str, sources: int,
                processes: list[subprocess.Popen[bytes]]) -> tuple[int, float]:
    """Articles stored once every source has been polled once (a poll records its outcome
    after storing its items), and when that was seen; raises if a worker exits or the
    polls take longer than GIVE_UP_AFTER."""
    engine = sa.create_engine(db)
    deadline = time.perf_counter() + GIVE_UP_AFTER
    try:
        while time.perf_counter() < deadline:
            exited = [p.returncode for p in processes if p.poll() is not None]
            if exited:
                raise RuntimeError(f"a `watcher run` worker exited (status {exited[0]})")
            try:
                polled, stored = _one(engine, "SELECT (SELECT count(*) FROM sources WHERE "
                                      "last_poll IS NOT NULL), (SELECT count(*) FROM articles)")
            except sa.exc.DBAPIError:  # the schema is still being created
                polled = stored = 0
            if polled >= sources:
                return int(stored), time.perf_counter()
            time.sleep(CHECK_EVERY)
        raise RuntimeError(f"the workers did not poll all {sources} sources in "
                           f"{GIVE_UP_AFTER:.0f} s")
    finally:
        engine.dispose()


def _after_the_pass(db: str) -> tuple[datetime, datetime, int]:
    """When the first and the last article were fetched, and how many sources failed."""
    engine = sa.create_engine(db)
    try:
        first, last = _one(engine, "SELECT min(fetched), max(fetched) FROM articles")
        failing = _one(engine, "SELECT count(*) FROM sources WHERE error_count > 0")[0]
    finally:
        engine.dispose()
    return _as_time(first), _as_time(last), int(failing)


def _one(engine: sa.Engine, query: str) -> sa.Row[Any]:
    with engine.connect() as connection:
        return connection.execute(sa.text(query)).one()


def _as_time(value: object) -> datetime:
    """SQLite hands back text, PostgreSQL a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def render_workers_markdown(r: WorkersResults) -> str:
    pg = {run.workers: run for run in r.runs if run.label == "PostgreSQL"}
    fewest, most = min(pg), max(pg)
    scaling = pg[most].per_second / pg[fewest].per_second
    share = r.store_share
    store_ms = share.ingest_seconds / share.articles * 1e3
    lines = [
        *head(WORKERS_HEADING, "workers", "workers", r.machine,
              f"whole part: {r.total_seconds:.0f} s"),
        f"{r.feeds} local feeds of {r.items} FA-KES items (the feeds part's generator, served "
        "by `bench/feeds_server.py` in its own process), polled by `watcher run` worker "
        "processes with the shipped rules and no channels; PostgreSQL is Debian's, started "
        "for the run on 127.0.0.1. Ingest time runs from the first article stored to the "
        "last (articles' `fetched` times), so start-up (spaCy, rules) is left out; wall "
        "time from starting the workers until every source had been polled is shown "
        f"beside it (the database is looked at every {CHECK_EVERY:g} s).", "",
        *markdown(RUN_COLUMNS, r.runs),
        "",
        "`articles` is what was stored once every source had been polled once (a poll "
        "records its outcome after storing its items); the feeds hold at most "
        f"{r.expected_articles:,} distinct articles (wire texts plus outlets' rewritten "
        "headlines). A source whose poll failed under the load (`failing sources`, e.g. the "
        "20 s fetch limit) keeps its items for its retry after backoff, which this "
        "measurement does not wait for.", "",
        f"Scaling from {fewest} to {most} workers on PostgreSQL: **{scaling:.2f}x**. What "
        "limits it:", "",
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
    return "\n".join(plain(RUN_COLUMNS, r.runs))
