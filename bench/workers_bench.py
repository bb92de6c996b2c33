"""The workers benchmark: articles/s ingested end to end (poll, parse, dedupe, analyse,
match, store) by 1, 2 and 4 `watcher run` workers sharing one PostgreSQL, by one worker of
a baseline revision's code (`Sizes.worker_baseline`: one lock for every ingest), and by
one worker on SQLite, from the same local feeds; the runs alternate over several passes,
so each sees the same machine. Each run's stories and first-in-story matches are compared
with this tree's one worker's.

Called by bench/run.py after the other parts (or alone: `--only workers`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
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
from bench.proc_cpu import cpu_seconds, parent_of, server_cpu_seconds
from bench.revisions import describe_revision, export_revision
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
THIS_TREE = "this tree"
CHECK_EVERY = 0.5  # seconds between looks at the database while the workers poll
GIVE_UP_AFTER = 600.0  # a pass that has not polled every source by then has gone wrong
TARGET_SCALING = 1.6  # issue 20: 4 workers at least 1.6x one worker on PostgreSQL


Story = frozenset[str]  # its articles, as their content hashes


@dataclass(frozen=True)
class Stored:
    """What a run stored, whatever order the articles came in: its stories (as the sets
    of their articles) and its first-in-story matches (rule and story), and a digest."""

    story_sets: frozenset[Story]
    first_pairs: frozenset[tuple[str, Story]]
    digest: str

    @property
    def stories(self) -> int:
        return len(self.story_sets)

    @property
    def firsts(self) -> int:
        return len(self.first_pairs)

    def differing(self, other: Stored) -> tuple[int, int]:
        """How many of this run's stories and first matches `other` does not have."""
        return (len(self.story_sets - other.story_sets),
                len(self.first_pairs - other.first_pairs))


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used between the first article seen stored and every source polled."""

    seconds: float  # wall time of that window
    workers: float
    postgres: float | None  # None: a server this part did not start (not on this machine)
    feeds: float  # the feed server

    def busy(self, cores: int) -> float:
        """The share of the machine's cores these processes used in the window."""
        return (self.workers + (self.postgres or 0.0) + self.feeds) / (self.seconds * cores)


@dataclass(frozen=True)
class WorkersRun:
    label: str
    code: str  # THIS_TREE or the baseline's revision
    workers: int
    articles: int
    ingest_seconds: float  # first article stored to last article stored
    wall_seconds: float  # workers started to last article stored (start-up included)
    failing_sources: int  # sources whose last poll failed (retried later, after backoff)
    stored: Stored
    cpu: CpuUse

    @property
    def per_second(self) -> float:
        return self.articles / self.ingest_seconds

    @property
    def key(self) -> tuple[str, str, int]:
        return self.label, self.code, self.workers


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
    runs: list[WorkersRun]  # every pass's, in the order run
    store_share: StoreShare
    expected_articles: int
    total_seconds: float
    sizes: Sizes
    baseline: str | None  # the baseline's revision as `git describe` names it

    def best(self) -> list[WorkersRun]:
        """Each configuration's best pass (the most articles/s), in the order first run."""
        best: dict[tuple[str, str, int], WorkersRun] = {}
        for run in self.runs:
            if run.key not in best or run.per_second > best[run.key].per_second:
                best[run.key] = run
        return list(best.values())

    def passes(self, run: WorkersRun) -> list[WorkersRun]:
        return [other for other in self.runs if other.key == run.key]

    def reference(self) -> WorkersRun | None:
        """This tree's one worker on PostgreSQL: what the other runs' stories compare with."""
        return next((run for run in self.best()
                     if run.key == ("PostgreSQL", THIS_TREE, 1)), None)


def measure_workers(corpus: Corpus, analyzer: Analyzer, sizes: Sizes, scratch: Path,
                    postgres_url: str | None = None) -> WorkersResults:
    """Every workers measurement: feeds, SQLite and the baseline's code under `scratch`,
    removed afterwards; on the PostgreSQL at `postgres_url` (every table dropped and
    created again), or else a server started for the part (see `postgres`)."""
    started = time.perf_counter()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="workers-", dir=scratch) as name, \
            postgres(postgres_url) as url:
        directory = Path(name).resolve()  # the workers run in other directories
        codes = {THIS_TREE: ROOT}
        if sizes.worker_baseline:
            codes[sizes.worker_baseline] = export_revision(sizes.worker_baseline, directory)
        feeds = write_feeds(directory / "feeds", corpus.articles, datetime.now(UTC),
                            feeds=sizes.worker_feeds, items=sizes.worker_items)
        runs: list[WorkersRun] = []
        with feed_server(feeds) as server:
            run = _Runner(directory, server, feeds, url)
            for _ in range(sizes.worker_passes):
                if sizes.worker_on_sqlite:
                    runs.append(run("SQLite", THIS_TREE, ROOT, 1))
                for code, root in codes.items():
                    counts = sizes.worker_counts if code == THIS_TREE else (1,)
                    runs += [run("PostgreSQL", code, root, count) for count in counts]
        _empty(url)
        share = _store_share(url, corpus, analyzer)
        _empty(url)
    baseline = describe_revision(sizes.worker_baseline) if sizes.worker_baseline else None
    return WorkersResults(info, sizes.worker_feeds, sizes.worker_items, runs, share,
                          feeds.distinct_texts, time.perf_counter() - started, sizes, baseline)


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


class _Runner:
    """One run: start the workers on fresh data, wait until every source has been polled,
    stop them, read what they stored."""

    def __init__(self, directory: Path, server: FeedServerProcess, feeds: FeedSet,
                 postgres_url: str) -> None:
        self.directory, self.server, self.feeds = directory, server, feeds
        self.postgres_url = postgres_url
        self.postmaster = _postmaster(postgres_url)

    def __call__(self, label: str, code: str, root: Path, workers: int) -> WorkersRun:
        progress(f"workers: {label}, {code}, {workers} worker(s)")
        if label == "SQLite":
            db = f"sqlite:///{self.directory / 'watcher.db'}"
            for suffix in ("", "-wal", "-shm"):
                (self.directory / f"watcher.db{suffix}").unlink(missing_ok=True)
        else:
            db = self.postgres_url
            _empty(db)
        config = _config(self.directory, db, self.server, self.feeds)
        start = time.perf_counter()
        processes = [
            subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), "run"],
                             cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=_environment(root))
            for _ in range(workers)
        ]
        try:
            stored, last_change, cpu = _all_polled(db, self.feeds.feeds, processes,
                                                   self._sampler(processes, label))
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=60)
        first, last, failing = _after_the_pass(db)
        run = WorkersRun(label, code, workers, stored, (last - first).total_seconds(),
                         last_change - start, failing, _stored(db), cpu)
        progress(f"  {stored} articles in {run.ingest_seconds:.1f} s of ingest "
                 f"({run.per_second:.0f}/s), {run.wall_seconds:.1f} s from start, "
                 f"stored {run.stored.digest}, CPU busy {cpu.busy(_cores()):.0%}")
        return run

    def _sampler(self, processes: Sequence[subprocess.Popen[bytes]],
                 label: str) -> Callable[[], tuple[float, float, float | None, float]]:
        """(now, workers' CPU s, PostgreSQL's, the feed server's): one look."""
        postmaster = self.postmaster if label == "PostgreSQL" else None

        def sample() -> tuple[float, float, float | None, float]:
            return (time.perf_counter(), sum(cpu_seconds(p.pid) for p in processes),
                    None if postmaster is None else server_cpu_seconds(postmaster),
                    self.server.cpu_seconds())

        return sample


def _environment(root: Path) -> dict[str, str]:
    """No WATCHER_* from outside; `root`'s code imported (it is also the working directory,
    which `python -m` puts first on the path)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    return {**env, "PYTHONPATH": str(root)}


def _postmaster(url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (its checkpointer's
    parent); None when it cannot be seen."""
    try:
        pid = _one_value(url, "SELECT pid FROM pg_stat_activity "
                              "WHERE backend_type = 'checkpointer'")
        return parent_of(int(pid))
    except (OSError, TypeError, ValueError, sa.exc.DBAPIError):
        return None


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _config(directory: Path, db: str, server: FeedServerProcess, feeds: FeedSet) -> Path:
    """Every feed every 30 s (first polls spread over 3 s), the shipped rules, no channels
    (alerts are the alerts part's subject); the first poll's items count as news (not a
    baseline), so which match is first in its story is decided as for any new article."""
    lines = [f"db: {db}", f"rules: {SHIPPED_RULES}", "sources:"]
    for name in feeds.names:
        lines += [f"  - name: outlet{name.removesuffix('.xml')}", f"    url: {server.url(name)}",
                  "    every: 30s", "    first_poll: alert"]
    path = directory / "watcher.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _all_polled(
    db: str, sources: int, processes: list[subprocess.Popen[bytes]],
    sample: Callable[[], tuple[float, float, float | None, float]],
) -> tuple[int, float, CpuUse]:
    """Articles stored once every source has been polled once (a poll records its outcome
    after storing its items), when that was seen, and the CPU used from the first article
    seen until then; raises if a worker exits or the polls take longer than GIVE_UP_AFTER."""
    engine = sa.create_engine(db)
    deadline = time.perf_counter() + GIVE_UP_AFTER
    first = None
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
            if stored and first is None:
                first = sample()
            if polled >= sources:
                last = sample()
                start = first or last
                cpu = CpuUse(max(last[0] - start[0], 1e-9), last[1] - start[1],
                             None if last[2] is None or start[2] is None
                             else last[2] - start[2], last[3] - start[3])
                return int(stored), time.perf_counter(), cpu
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


def _one_value(db: str, query: str) -> Any:
    engine = sa.create_engine(db)
    try:
        return _one(engine, query)[0]
    finally:
        engine.dispose()


def _stored(db: str) -> Stored:
    """The run's stories as sets of articles, and its first-in-story matches as (rule,
    story): comparable between runs whose ids and order differ. An article is its content
    hash, not its source and id: of the outlets carrying one text, the first polled
    stores it, and that differs from run to run."""
    engine = sa.create_engine(db)
    try:
        with engine.connect() as connection:
            members: dict[int, list[str]] = defaultdict(list)
            for story, article in connection.execute(sa.text(
                    "SELECT story_id, content_hash FROM articles")):
                members[story].append(article)
            firsts = connection.execute(sa.text(
                "SELECT rule_id, story_id FROM matches WHERE first_in_story")).all()
    finally:
        engine.dispose()
    stories = sorted(tuple(sorted(articles)) for articles in members.values())
    alerts = sorted((rule, tuple(sorted(members[story]))) for rule, story in firsts)
    digest = hashlib.blake2b(repr((stories, alerts)).encode(), digest_size=6).hexdigest()
    return Stored(frozenset(frozenset(articles) for articles in members.values()),
                  frozenset((rule, frozenset(members[story])) for rule, story in firsts),
                  digest)


def _as_time(value: object) -> datetime:
    """SQLite hands back text, PostgreSQL a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _columns(r: WorkersResults) -> list[Column]:
    reference = r.reference()
    cores = r.machine.cpus

    def same(run: WorkersRun) -> str | None:
        if reference is None or run is reference:
            return None
        if run.stored.digest == reference.stored.digest:
            return "yes"
        stories, firsts = run.stored.differing(reference.stored)
        return f"no: {stories} stories, {firsts} first matches differ"

    return [
        Column("database", "label"),
        Column("workers", "workers"),
        Column("articles", "articles", ","),
        Column("ingest s", "ingest_seconds", ".1f"),
        Column("articles/s", "per_second", ".0f"),
        Column("code", "code"),
        Column("passes, articles/s",
               lambda run: ", ".join(f"{p.per_second:.0f}" for p in r.passes(run))),
        Column("wall s", "wall_seconds", ".1f"),
        Column("stories", lambda run: run.stored.stories, ","),
        Column("first matches", lambda run: run.stored.firsts, ","),
        Column("same as 1 worker", same),
        Column(f"CPU busy ({cores} cores)", lambda run: run.cpu.busy(cores), ".0%"),
        Column("workers CPU s", lambda run: run.cpu.workers, ".1f"),
        Column("PostgreSQL CPU s", lambda run: run.cpu.postgres, ".1f"),
        Column("feed server CPU s", lambda run: run.cpu.feeds, ".1f"),
        Column("failing sources", "failing_sources"),
    ]


def render_workers_markdown(r: WorkersResults) -> str:
    best = {run.key: run for run in r.best()}
    pg = {run.workers: run for key, run in best.items() if key[:2] == ("PostgreSQL", THIS_TREE)}
    fewest, most = min(pg), max(pg)
    scaling = pg[most].per_second / pg[fewest].per_second
    baseline = best.get(("PostgreSQL", r.sizes.worker_baseline or "", 1))
    differing = [run for run in r.runs if r.reference() is not None
                 and run.stored.digest != r.reference().stored.digest]  # type: ignore[union-attr]
    share = r.store_share
    store_ms = share.ingest_seconds / share.articles * 1e3
    busiest = pg[most].cpu
    facts = [f"baseline: git {r.baseline} (one advisory lock for every PostgreSQL ingest)"
             ] if r.baseline else []
    lines = [
        *head(WORKERS_HEADING, "workers", "workers", r.machine, *facts,
              f"whole part: {r.total_seconds:.0f} s"),
        f"{r.feeds} local feeds of {r.items} FA-KES items (the feeds part's generator, served "
        "by `bench/feeds_server.py` in its own process), polled by `watcher run` worker "
        "processes with the shipped rules and no channels, first polls counted as news (so "
        "each story's first matches are decided); PostgreSQL is Debian's, started for the "
        "run on 127.0.0.1. Ingest time runs from the first article stored to the last "
        "(articles' `fetched` times), so start-up (spaCy, rules) is left out; wall time from "
        "starting the workers until every source had been polled is shown beside it (the "
        f"database is looked at every {CHECK_EVERY:g} s). {r.sizes.worker_passes} passes, "
        "each running every configuration once in turn (the baseline's code exported with "
        "`git archive`), so all see the same machine; the table shows each one's best pass. "
        "CPU: the workers', PostgreSQL's (its server process and backends) and the feed "
        "server's CPU seconds from /proc, from the first article seen stored until every "
        "source had been polled; `CPU busy` is their sum over that time and the cores.", "",
        *markdown(_columns(r), list(best.values())),
        "",
        "`articles` is what was stored once every source had been polled once (a poll "
        "records its outcome after storing its items); the feeds hold at most "
        f"{r.expected_articles:,} distinct articles (wire texts plus outlets' rewritten "
        "headlines). A source whose poll failed under the load (`failing sources`, e.g. the "
        "20 s fetch limit) keeps its items for its retry after backoff, which this "
        "measurement does not wait for. `stories` and `first matches` (the matches that "
        "would alert) are compared as sets of articles (their content hashes), whatever "
        "order they came in and whichever outlet's copy of a text was stored.", "",
        f"- Scaling from {fewest} to {most} workers on PostgreSQL: **{scaling:.2f}x** "
        f"(target {TARGET_SCALING:g}x: "
        f"{'met' if scaling >= TARGET_SCALING else '**not met**'}); medians of the passes: "
        f"{_median(r, pg[most]) / _median(r, pg[fewest]):.2f}x.",
        *([f"- One worker (8 poll threads), this tree against the baseline's one lock: "
           f"**{pg[1].per_second / baseline.per_second:.2f}x** "
           f"({pg[1].per_second:.0f} against {baseline.per_second:.0f} articles/s); medians "
           f"of the passes: {_median(r, pg[1]) / _median(r, baseline):.2f}x."]
          if baseline is not None and 1 in pg else []),
        "- Stories and first-in-story matches the same as this tree's one worker's best "
        "pass in every pass of every run: " + ("yes." if not differing else "no, "
        + _differences(r, differing)),
        "",
        "What limits the scaling:", "",
        f"- 2 cores for everything. In the best {most}-worker pass the workers, PostgreSQL "
        f"and the feed server used {busiest.busy(r.machine.cpus):.0%} of them "
        f"({busiest.workers:.1f} s, {busiest.postgres or 0:.1f} s and {busiest.feeds:.1f} s "
        f"of CPU in {busiest.seconds:.1f} s); one worker's analysis and matching are one "
        "process's Python (one GIL), so one worker leaves part of the second core to "
        "PostgreSQL and more workers can only take the rest. The machine was shared with "
        "other work (the load average above), which takes its part of the same cores.",
        f"- More workers cost more CPU per article: {_cpu_ms(pg[fewest]):.1f} ms (workers "
        f"and PostgreSQL) with {fewest}, {_cpu_ms(pg[most]):.1f} ms with {most}. Each "
        "worker loads its own spaCy pipeline and rules (a late starter's load can overlap "
        "the first articles' ingest), keeps its own connection pool, and PostgreSQL serves "
        "each connection with a backend of its own; with no idle core left, that overhead "
        "is paid out of the ingest's share.",
        f"- The store no longer serialises ingests: articles sharing no key or band are "
        "stored side by side (docs/storage.md, \"Ingests side by side\"). One process "
        f"replaying FA-KES ({share.articles} articles) into this PostgreSQL spends "
        f"{share.ingest_seconds:.1f} s of {share.total_seconds:.1f} s "
        f"({share.ingest_seconds / share.total_seconds:.0%}) in `Store.ingest`, "
        f"{store_ms:.1f} ms per article: the part that took turns for every article before "
        "and now overlaps for unrelated ones.", "",
    ]
    return "\n".join(lines)


def _cpu_ms(run: WorkersRun) -> float:
    """CPU of the workers and PostgreSQL per stored article, in the measured window."""
    return (run.cpu.workers + (run.cpu.postgres or 0.0)) / run.articles * 1e3


def _median(r: WorkersResults, run: WorkersRun) -> float:
    """The median articles/s of `run`'s configuration over the passes."""
    return statistics.median(p.per_second for p in r.passes(run))


def _differences(r: WorkersResults, differing: Sequence[WorkersRun]) -> str:
    """Which passes differ from the reference, by how much, and whether the baseline's
    passes (one ingest at a time) differ among themselves too: then the order the
    articles arrive in decides, not the locks."""
    reference = r.reference()
    assert reference is not None
    worst = max(differing, key=lambda run: run.stored.differing(reference.stored))
    stories, firsts = worst.stored.differing(reference.stored)
    own = {run.stored.digest for run in r.runs
           if run.key == ("PostgreSQL", r.sizes.worker_baseline or "", 1)}
    return (f"{len(differing)} of {len(r.runs) - 1} passes differ, by at most {stories} of "
            f"{reference.stored.stories:,} stories and {firsts} of "
            f"{reference.stored.firsts:,} first matches ({worst.label}, {worst.code}, "
            f"{worst.workers} worker(s)). The baseline's one-at-a-time passes stored "
            f"{len(own)} different outcome(s) in {r.sizes.worker_passes} passes: a story is "
            "the most similar earlier story at 0.4 or more, and similarity is not "
            "transitive (A like B, B like C, A not like C), so the order the articles "
            "arrive in, which 8 poll threads per worker vary from pass to pass with or "
            "without the lock, groups a few articles differently.")


def render_workers_table(r: WorkersResults) -> str:
    return "\n".join(plain(_columns(r), r.best()))
