"""The workers benchmark: articles/s ingested end to end (poll, parse, dedupe, analyse,
match, store) by 1, 2 and 4 `watcher run` workers sharing one PostgreSQL, by 1 and 4 workers
of a baseline revision's code (`Sizes.worker_baseline`: before claims), and by
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
import threading
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
from bench.revisions import describe_revision, export_revision, rules_both_read
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
        used = self.workers + (self.postgres or 0.0) + self.feeds
        return used / max(self.seconds * cores, 1e-9)  # a window too short to tick: ~0


@dataclass(frozen=True)
class WorkersRun:
    label: str
    code: str  # THIS_TREE or the baseline's revision
    workers: int
    articles: int  # stored once every source had been polled
    window_articles: int  # of them, those stored once every worker had started
    ingest_seconds: float  # every worker started (or the first article) to the last article
    wall_seconds: float  # workers started to last article stored (start-up included)
    failing_sources: int  # sources whose last poll failed (retried later, after backoff)
    stored: Stored
    cpu: CpuUse

    @property
    def per_second(self) -> float:
        return self.window_articles / self.ingest_seconds

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
            # Every code with the same rules: this tree's unless the baseline cannot read them.
            rules = (rules_both_read(codes[sizes.worker_baseline]) if sizes.worker_baseline
                     else SHIPPED_RULES)
            run = _Runner(directory, server, feeds, url, rules)
            for _ in range(sizes.worker_passes):
                if sizes.worker_on_sqlite:
                    runs.append(run("SQLite", THIS_TREE, ROOT, 1))
                for code, root in codes.items():
                    counts = (sizes.worker_counts if code == THIS_TREE
                              else sizes.worker_baseline_counts)
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
    spent = meter.readings().total(("store.ingest", "store.ingest_batch"))  # the pipeline's
    return StoreShare(len(corpus.articles), total, spent.wall)


def _empty(url: str) -> None:
    with Store.open(url) as store:
        store.downgrade("base")
        store.upgrade()


class _Runner:
    """One run: start the workers on fresh data, wait until every source has been polled,
    stop them, read what they stored."""

    def __init__(self, directory: Path, server: FeedServerProcess, feeds: FeedSet,
                 postgres_url: str, rules: Path) -> None:
        self.directory, self.server, self.feeds = directory, server, feeds
        self.rules = rules
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
        config = _config(self.directory, db, self.server, self.feeds, self.rules)
        start = time.perf_counter()
        processes = [
            subprocess.Popen([sys.executable, "-m", "watcher", "--config", str(config), "run"],
                             cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=_environment(root))
            for _ in range(workers)
        ]
        started = _StartWatch(processes)
        try:
            stored, last_change, cpu = _all_polled(db, self.feeds.feeds, processes,
                                                   self._sampler(processes, label), started.all)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=60)
            started.join()
        window = _after_the_pass(db, started.last())
        run = WorkersRun(label, code, workers, stored, window.articles, window.seconds,
                         last_change - start, window.failing, _stored(db), cpu)
        progress(f"  {stored} articles, {window.articles} in {run.ingest_seconds:.1f} s of "
                 f"ingest with every worker started ({run.per_second:.0f}/s), "
                 f"{run.wall_seconds:.1f} s from start, stored {run.stored.digest}, "
                 f"CPU busy {cpu.busy(_cores()):.0%}")
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


def _config(directory: Path, db: str, server: FeedServerProcess, feeds: FeedSet,
            rules: Path) -> Path:
    """Every feed every 30 s (first polls spread over 3 s), the shipped `rules`, no channels
    (alerts are the alerts part's subject); the first poll's items count as news (not a
    baseline), so which match is first in its story is decided as for any new article."""
    lines = [f"db: {db}", f"rules: {rules}", "sources:"]
    for name in feeds.names:
        lines += [f"  - name: outlet{name.removesuffix('.xml')}", f"    url: {server.url(name)}",
                  "    every: 30s", "    first_poll: alert"]
    path = directory / "watcher.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _all_polled(
    db: str, sources: int, processes: list[subprocess.Popen[bytes]],
    sample: Callable[[], tuple[float, float, float | None, float]],
    all_started: Callable[[], bool],
) -> tuple[int, float, CpuUse]:
    """Articles stored once every source has been polled once (a poll records its outcome
    after storing its items), when that was seen, and the CPU used from the first article
    seen with every worker started until then; raises if a worker exits or the polls take
    longer than GIVE_UP_AFTER."""
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
            if stored and first is None and all_started():
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


@dataclass(frozen=True)
class Window:
    """The ingest measured: from the moment every worker had started (or the first
    article, if later) to the last article, the articles fetched in it, failing sources."""

    seconds: float
    articles: int
    failing: int


def _after_the_pass(db: str, all_started: datetime | None) -> Window:
    """The pass's ingest window; `all_started`: when the last worker said it had started
    (None: not seen, the window starts at the first article)."""
    engine = sa.create_engine(db)
    try:
        with engine.connect() as connection:
            fetched = sorted(_as_time(value) for value in connection.execute(
                sa.text("SELECT fetched FROM articles")).scalars())
        failing = _one(engine, "SELECT count(*) FROM sources WHERE error_count > 0")[0]
    finally:
        engine.dispose()
    since = fetched[0] if all_started is None else max(fetched[0], all_started)
    articles = sum(1 for moment in fetched if moment >= since)
    return Window(max((fetched[-1] - since).total_seconds(), 1e-9), articles, int(failing))


class _StartWatch:
    """When each worker logged `event=started` (its spaCy pipeline, rules and scheduler
    ready), read from its stderr, which is drained to the end so no worker blocks on it."""

    def __init__(self, processes: Sequence[subprocess.Popen[bytes]]) -> None:
        self._times: list[datetime] = []
        self._count = len(processes)
        self._threads = [threading.Thread(target=self._read, args=(p,), daemon=True)
                         for p in processes]
        for thread in self._threads:
            thread.start()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        seen = False
        for line in process.stderr:
            if not seen and b"event=started" in line:
                seen = True
                self._times.append(datetime.now(UTC))

    def all(self) -> bool:
        return len(self._times) == self._count

    def last(self) -> datetime | None:
        return max(self._times) if self.all() else None

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=60)


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
    """SQLite hands back text, PostgreSQL a datetime; both in UTC, made aware."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        Column("in window", "window_articles", ","),
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
    base = {run.workers: run for key, run in best.items()
            if key[:2] == ("PostgreSQL", r.sizes.worker_baseline or "")}
    differing = [run for run in r.runs if r.reference() is not None
                 and run.stored.digest != r.reference().stored.digest]  # type: ignore[union-attr]
    share = r.store_share
    store_ms = share.ingest_seconds / share.articles * 1e3
    facts = [f"baseline: git {r.baseline} (before claims: a poll analyses every article it "
             "does not find stored, also one another poll is analysing)"] if r.baseline else []
    lines = [
        *head(WORKERS_HEADING, "workers", "workers", r.machine, *facts,
              f"whole part: {r.total_seconds:.0f} s"),
        f"{r.feeds} local feeds of {r.items} FA-KES items (the feeds part's generator, served "
        "by `bench/feeds_server.py` in its own process), polled by `watcher run` worker "
        "processes with the shipped rules and no channels, first polls counted as news (so "
        "each story's first matches are decided); PostgreSQL is Debian's, started for the "
        "run on 127.0.0.1. Ingest time runs from the moment every worker had said it "
        "started (`event=started` on its stderr: spaCy, rules and timers loaded), or the "
        "first article stored if that was later, to the last article stored (articles' "
        "`fetched` times), and articles/s counts the articles fetched in it (`in window`): "
        "before, it ran from the first article, and a late starter's loading (a second or "
        "more of CPU on a 2-core machine) fell inside the 4 workers' window. Wall time from "
        "starting the workers until every source had been polled is shown beside it (the "
        f"database is looked at every {CHECK_EVERY:g} s). {r.sizes.worker_passes} passes, "
        "each running every configuration once in turn (the baseline's code exported with "
        "`git archive`), so all see the same machine; the table shows each one's best pass. "
        "CPU: the workers', PostgreSQL's (its server process and backends) and the feed "
        "server's CPU seconds from /proc, from the first article seen stored with every "
        "worker started until every source had been polled; `CPU busy` is their sum over "
        "that time and the cores.", "",
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
        *[f"- {count} worker(s), this tree against the baseline (before claims): "
          f"**{pg[count].per_second / base[count].per_second:.2f}x** "
          f"({pg[count].per_second:.0f} against {base[count].per_second:.0f} articles/s); "
          f"medians of the passes: {_median(r, pg[count]) / _median(r, base[count]):.2f}x."
          for count in sorted(base) if count in pg],
        *([f"- The baseline's own scaling from {min(base)} to {max(base)} workers: "
           f"{base[max(base)].per_second / base[min(base)].per_second:.2f}x."]
          if len(base) > 1 else []),
        *([("- CPU per article (workers and PostgreSQL, in the window), this tree against "
            "the baseline: " + ", ".join(
                f"{count} worker(s) {_cpu_ms(pg[count]):.1f} against "
                f"{_cpu_ms(base[count]):.1f} ms" for count in sorted(base) if count in pg)
            + ": the duplicate analyses claims save (docs/storage.md, \"One analysis per "
            "text\").")] if base else []),
        "- Stories and first-in-story matches the same as this tree's one worker's best "
        "pass in every pass of every run: " + ("yes." if not differing else "no, "
        + _differences(r, differing)),
        "",
        "What limits the scaling:", "",
        *_limits(r, pg[fewest], pg[most]), "",
        f"- The store does not serialise ingests: articles sharing no key or band are "
        "stored side by side (docs/storage.md, \"Ingests side by side\"). One process "
        f"replaying FA-KES ({share.articles} articles) into this PostgreSQL spends "
        f"{share.ingest_seconds:.1f} s of {share.total_seconds:.1f} s "
        f"({share.ingest_seconds / share.total_seconds:.0%}) in `Store.ingest_batch`, "
        f"{store_ms:.1f} ms per article.", "",
        *PROBE_FINDINGS, "",
    ]
    return "\n".join(lines)


def _cpu_ms(run: WorkersRun) -> float:
    """CPU of the workers and PostgreSQL per stored article, in the measured window."""
    return (run.cpu.workers + (run.cpu.postgres or 0.0)) / max(run.window_articles, 1) * 1e3


def _limits(r: WorkersResults, one: WorkersRun, most: WorkersRun) -> list[str]:
    """What the measured passes say limits the scaling: the cores, and CPU per article.
    Nothing when a pass's window held no CPU to read (a quick run on a busy machine can end
    before /proc counts a tick): no ratio is made of a zero."""
    cores = r.machine.cpus
    if min(one.cpu.seconds, most.cpu.seconds, one.cpu.workers, most.cpu.workers) <= 0:
        return ["- What limits the scaling: not read, a pass's window held no CPU time."]
    one_python = one.cpu.workers / one.cpu.seconds
    ceiling = cores * one.cpu.seconds / (one.cpu.workers + (one.cpu.postgres or 0.0))
    return [
        f"- {cores} cores for everything. One worker's analysis, matching and store calls "
        f"are one process's Python (one GIL): in its best pass it used {one_python:.0%} of "
        f"a core and PostgreSQL {(one.cpu.postgres or 0) / one.cpu.seconds:.0%} of one, "
        f"{one.cpu.busy(cores):.0%} of the machine. At the same CPU per article, "
        f"{most.workers} workers keeping both cores busy could do at most {ceiling:.2f}x "
        f"one worker: that is the ceiling here, before any cost of running more of them. "
        f"In the best {most.workers}-worker pass the workers, PostgreSQL and the feed server "
        f"used {most.cpu.busy(cores):.0%} of the cores ({most.cpu.workers:.1f} s, "
        f"{most.cpu.postgres or 0:.1f} s and {most.cpu.feeds:.1f} s of CPU in "
        f"{most.cpu.seconds:.1f} s); other work on the machine (the load average above) "
        "takes its part of the same cores.",
        f"- CPU per article (workers and PostgreSQL, in the window): {_cpu_ms(one):.1f} ms "
        f"with {one.workers} worker, {_cpu_ms(most):.1f} ms with {most.workers}. What is "
        "left of the difference is running more processes on the same 2 cores: the same "
        "analysis costs more CPU time when 4 workers and PostgreSQL's backends take turns "
        "on them (caches, switches), each worker's timers claim (and skip) every source the "
        "others poll, and PostgreSQL serves more connections. At that CPU per article, "
        f"both cores busy all the time would give {cores * 1e3 / _cpu_ms(most):.0f} "
        f"articles/s, {cores * 1e3 / _cpu_ms(most) / one.per_second:.2f}x one worker: "
        f"{TARGET_SCALING:g}x needs {most.workers} workers at "
        f"{cores * 1e3 / (TARGET_SCALING * one.per_second):.1f} ms or less.",
        f"- Start-up and the end of the work, more than the cores, held the {most.workers} "
        f"workers back here: their best pass used {most.cpu.busy(cores):.0%} of the cores. "
        f"Starting {most.workers} workers at once on {cores} cores took longer than one "
        f"worker's whole ingest of these feeds (wall {most.wall_seconds:.0f} s against "
        f"{one.wall_seconds:.0f} s, ingest {one.ingest_seconds:.0f} s), so the first worker "
        "ready took polls before the others were (a poll goes to whichever worker's timer "
        "fires first), and the window with all of them running holds the end of the work "
        "(" + ", ".join(f"{p.window_articles:,}" for p in r.passes(most))
        + f" of {most.articles:,} articles in the passes), with fewer polls left to share "
        "than poll threads. This finite workload measures start-up and drain more than a "
        "steady state; a fairer one would have every worker ready before the feeds hold "
        "items (not done here).",
    ]


# What a probe found (a `watcher run` wrapped to count its analyses and time its calls,
# pg_stat_activity sampled every 50 ms, pg_stat_statements), 100 of these feeds, 1 and 4
# workers, 2026-12-07, before claims (29fbb36) and with them (385d4c2, a1e04b9): fixed
# numbers, not measured by this part.
PROBE_FINDINGS = [
    "What a probe found (a worker wrapped to count its analyses and time its calls, "
    "pg_stat_activity sampled every 50 ms, pg_stat_statements; 100 of these feeds, one "
    "run each of 1 and 4 workers, 2026-12-07, on git 29fbb36 and then with claims, "
    "385d4c2 and a1e04b9; one run each on a machine shared with other work, so ratios of "
    "one run; not measured by this part):",
    "",
    "- **Duplicate work was the extra CPU.** Sources were never polled twice (each poll is "
    "claimed: 100 polls, the other workers' 300 timer firings skipped), but a text sits in "
    "about 6 of the feeds, and polls running at once each analysed a copy they did not yet "
    "find stored: 4 workers analysed 2,358 articles and tried to store them to keep 1,290 "
    "(1,068 thrown away by the unique key); one worker's 8 threads 1,500. With claims "
    "(docs/storage.md, \"One analysis per text\") 1,302 and 1,301. That was most of 4 "
    "workers' rise in CPU per article: workers and PostgreSQL 15.4 ms against 10.1 ms for "
    "one worker with the wait for a claim at the end of each chunk of 32 (385d4c2), 12.1 "
    "against 10.2 ms with it at the end of the batch (a1e04b9), where the poll has done "
    "its other articles meanwhile; the rest is the same analysis costing more CPU with 4 "
    "processes on 2 cores (1,300 articles' analysis and matching: 2.1 s of one worker's "
    "threads' CPU, 3.5 s of 4 workers').",
    "- **Lock waits**: with 4 workers before claims, 0.35 backends on average waited on "
    "an ingest's advisory lock (the lock statement's time 12.9 s in all, mostly copies "
    "waiting for each other to be refused as duplicates), 2.8 s after; threads waiting "
    "for another poll's claim, 1.1 to 1.4 on average of 32, hold no CPU. No retries: the store "
    "has none to count (READ COMMITTED with advisory locks taken in one order: no "
    "serialization failures; pg_stat_database counted no deadlock).",
    "- **Transactions waiting for the GIL**: 2 (1 worker) to 7 (4 workers, before claims; "
    "3 after) backends on average were idle in a transaction, waiting for their "
    "thread's next statement while its process ran other threads' Python: locks are held "
    "that much longer.",
    "- **Round trips per new article**: 6 then (the pool's ping, BEGIN, the locks, the "
    "read, the one write, COMMIT), 8 when it joins a story with matches that may be "
    "first; per chunk of 32 one read of known keys and two statements of claims. About 7 "
    "client statements per stored article (pg_stat_statements, 1 worker), and 36 "
    "foreign-key checks inside the server (its keys' and bands' rows). Since, in psycopg's "
    "pipeline mode, 2 per new article (3 joining a story with matches that may be first) "
    "and the pool's ping once per batch: \"PostgreSQL write path\" above.",
    "- **Start-up**: with 4 workers the last one started polling up to 1.6 s after the "
    "first article was stored, its loading inside the window the table measured; the "
    "window now starts once every worker has started.",
    "- **Steady state** (the probe again on a1e04b9, with every worker ready before the"
    " feeds held items: an empty feed at each source's first poll, the real one from "
    "its second, 60 s later; one run each, load average 3-5): 1 worker 114.5 and 117.3 "
    "articles/s, 2 workers 114.9 (0.98x), 4 workers 107.3 (0.94x). One worker already "
    "used 91% of a core for its Python and PostgreSQL 43% of the other (67% of the "
    "machine), so at its CPU per article (9.6-10.1 ms) both cores could give at most "
    "about 1.5x; with 2 and 4 workers CPU per article rose to 11.5 and 11.7 ms, the "
    "cores 76% and 89% busy. On 2 cores, 1.6x would need CPU per article to fall as "
    "workers are added, the opposite of what more processes on the same cores do.",
]


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
            f"{worst.workers} worker(s)). The baseline's one-worker passes stored "
            f"{len(own)} different outcome(s) in {r.sizes.worker_passes} passes: a story is "
            "the most similar earlier story at 0.4 or more, and similarity is not "
            "transitive (A like B, B like C, A not like C), so the order the articles "
            "arrive in, which 8 poll threads per worker vary from pass to pass with or "
            "without the lock, groups a few articles differently.")


def render_workers_table(r: WorkersResults) -> str:
    return "\n".join(plain(_columns(r), r.best()))
