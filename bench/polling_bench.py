"""Polling at scale: `watcher run --once` over 2,000 loopback feeds at several
`fetch.concurrency` settings, and parsing in the poll threads against parsing in other
processes (issue 20, item 6).

The feeds are the feeds part's (bench/feeds_corpus.py, FA-KES items), served by
bench/feeds_server.py in its own process; each pass is the feeds part's `run_pass`: a
fresh store connection, fetcher, poller and daemon wired as `watcher run --once` wires
them, then `Daemon.poll_all_once()` timed alone, with the store, fetcher and matcher
metered and `parse_feed` metered through the poller's `parse`. A first pass stores the
feeds' articles; the passes measured after it find nothing new:

- 304: every feed answers 304 Not Modified (what a poll costs when the server has
  validators and nothing changed);
- resent: the server ignores the validators and sends every feed whole, so every feed is
  fetched, parsed and its entries looked up, and nothing is stored (what a poll costs
  when the server has no validators, or a feed changed little: parsing's worst case).

Each at concurrency 8 (the default, and the only setting before `fetch.concurrency`),
then the others, with the server answering at once (loopback) and then after a delay, as
a server across a network does. Last, resent passes with parsing handed to a pool of
processes (`ParseProcesses`) against in-thread parsing, in turns.
"""

from __future__ import annotations

import multiprocessing
import pickle
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.corpus import Corpus
from bench.feeds_bench import (
    FeedServerProcess,
    daemon_logging,
    feed_server,
    run_pass,
    stored_counts,
    utc_now,
    write_config,
)
from bench.feeds_corpus import write_feeds
from bench.feeds_results import PollPass, StoredCounts
from bench.measure import Machine, machine, progress
from bench.meter import Meter
from bench.paths import OUT
from bench.proc_cpu import cpu_seconds
from bench.sections import head
from bench.sizes import Sizes
from bench.tables import Column, markdown, plain
from watcher.config.settings import Settings, load_settings
from watcher.engine.matcher import Matcher
from watcher.sources.feeds import ParsedFeed, parse_feed

POLLING_HEADING = "## Polling at scale"
BASELINE_CONCURRENCY = 8  # the hard-coded number before fetch.concurrency
PARSE_STAGE = "parse.parse_feed"
HELPS = 1.1  # parsing in processes is "faster" from this ratio up (the noise is larger)
STAGES = (("fetch", "fetcher."), ("parse", "parse."), ("analysis", "matcher."),
          ("store", "store."))


class ParseProcesses:
    """`parse_feed` in a pool of `workers` processes for feeds of at least `min_bytes`
    (smaller ones in the calling thread): the poll thread waits for its feed's articles,
    and the GIL is free meanwhile for the other polls. Bounded: a poll thread hands over
    one feed at a time, so at most fetch.concurrency feeds wait."""

    def __init__(self, workers: int, min_bytes: int) -> None:
        self.min_bytes = min_bytes
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        list(self.pool.map(_load_parser, range(workers)))  # started, not in a timed pass

    def __call__(self, content: bytes, *, source: str, url: str,
                 headers: Mapping[str, str] | None = None, now: datetime) -> ParsedFeed:
        if len(content) < self.min_bytes:
            return parse_feed(content, source=source, url=url, headers=headers, now=now)
        return self.pool.submit(parse_feed, content, source=source, url=url,
                                headers=dict(headers or {}), now=now).result()

    def cpu_seconds(self) -> float:
        """User + system CPU of the pool's processes so far."""
        return sum(cpu_seconds(pid) for pid in self.pool._processes)  # noqa: SLF001

    def close(self) -> None:
        self.pool.shutdown()


def _load_parser(_: int) -> None:
    import watcher.sources.feeds  # noqa: F401 (feedparser loaded before the first feed)


@dataclass(frozen=True)
class Measured:
    """One pass: what it was, its PollPass, and the CPU its parse processes used."""

    kind: str  # "304" or "resent"
    concurrency: int
    latency_ms: int
    parsing: str  # "threads" or "N processes"
    result: PollPass
    parse_process_cpu: float = 0.0

    def cpu(self, prefix: str) -> float:
        return sum(self.result.stages[name].cpu for name in self.result.stages.names(prefix))

    @property
    def split(self) -> dict[str, float]:
        """CPU seconds by part, in this process; `other` is the rest of its CPU."""
        parts = {name: self.cpu(prefix) for name, prefix in STAGES}
        parts["other"] = self.result.process_cpu - sum(parts.values())
        return parts

    @property
    def cores(self) -> float:
        return (self.result.process_cpu + self.parse_process_cpu) / self.result.wall

    @property
    def parse_thread_seconds(self) -> float:
        return self.result.stages[PARSE_STAGE].wall


@dataclass(frozen=True)
class PollingResults:
    machine: Machine
    feeds: int
    items: int
    megabytes: float
    rules: int
    first: Measured
    stored: StoredCounts
    passes: tuple[Measured, ...]
    compared: tuple[Measured, ...]  # resent passes, parsing in threads and processes in turns
    parse_workers: int
    seconds: float


def measure_polling(corpus: Corpus, sizes: Sizes, scratch: Path) -> PollingResults:
    """Every pass (see the module's docstring) over one store and one feed server; the
    results are also pickled to bench/out/polling.pickle, to render them again."""
    results = _measure(corpus, sizes, scratch)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "polling.pickle").write_bytes(pickle.dumps(results))
    return results


def _measure(corpus: Corpus, sizes: Sizes, scratch: Path) -> PollingResults:
    started = time.perf_counter()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="polling-", dir=scratch) as name:
        directory = Path(name)
        progress(f"polling: rendering {sizes.polling_feeds} feeds of {sizes.polling_items} "
                 "items")
        feeds = write_feeds(directory / "feeds", corpus.articles, published=utc_now(),
                            feeds=sizes.polling_feeds, items=sizes.polling_items)
        with feed_server(feeds) as server, daemon_logging():
            settings = load_settings(str(write_config(directory, server, feeds)), {}, {})
            matcher = Matcher.from_path(settings.rules, pipeline=settings.pipeline,
                                        channels=settings.channel_names)
            run = _Runner(settings, matcher, server)
            first = run.one("first", max(sizes.polling_concurrency), 0)
            stored = stored_counts(directory / "watcher.db")
            passes = [run.one(kind, concurrency, latency)
                      for latency in (0, sizes.polling_latency_ms)
                      for concurrency in sizes.polling_concurrency
                      for kind in ("304", "resent")]
            compared = run.parsing_compared(sizes.polling_parse_concurrency,
                                            sizes.polling_parse_workers, sizes.polling_rounds)
    return PollingResults(info, feeds.feeds, feeds.items, feeds.total_bytes / 2**20,
                          len(matcher.rules.enabled()), first, stored, tuple(passes),
                          tuple(compared), sizes.polling_parse_workers,
                          time.perf_counter() - started)


class _Runner:
    """Runs passes over one store and server, each with its own settings and meter."""

    def __init__(self, settings: Settings, matcher: Matcher, server: FeedServerProcess) -> None:
        self.settings, self.matcher, self.server = settings, matcher, server

    def one(self, kind: str, concurrency: int, latency_ms: int,
            processes: ParseProcesses | None = None, workers: int = 0) -> Measured:
        self.server.honour_validators(kind != "resent")
        self.server.answer_after(latency_ms)
        settings = self.settings.model_copy(update={
            "fetch": self.settings.fetch.model_copy(update={"concurrency": concurrency})})
        meter = Meter()
        parse: Callable[..., ParsedFeed] = processes or parse_feed
        parsing = f"{workers} processes" if processes else "threads"
        label = f"{kind}, {concurrency} at once, {latency_ms} ms, parsing in {parsing}"
        before = processes.cpu_seconds() if processes else 0.0
        result = run_pass(label, settings, self.matcher, meter, self.server,
                          parse=meter.timing(PARSE_STAGE, parse))
        after = processes.cpu_seconds() if processes else 0.0
        return Measured(kind, concurrency, latency_ms, parsing, result, after - before)

    def parsing_compared(self, concurrency: int, workers: int, rounds: int) -> list[Measured]:
        """Resent passes parsing in the poll threads and in `workers` processes, in turns."""
        processes = ParseProcesses(workers, min_bytes=0)
        try:
            return [self.one("resent", concurrency, 0, *pooled)
                    for _ in range(rounds)
                    for pooled in ((), (processes, workers))]
        finally:
            processes.close()


# -- the report ---------------------------------------------------------------------------


def _share(part: str) -> Callable[[Measured], str]:
    return lambda m: f"{m.split[part]:.1f} ({m.split[part] / m.result.process_cpu:.0%})"


PASS_COLUMNS = (
    Column("pass", "kind"),
    Column("at once", "concurrency"),
    Column("server delay ms", "latency_ms"),
    Column("parsing in", "parsing"),
    Column("wall s", lambda m: m.result.wall, ".2f"),
    Column("feeds/s", lambda m: sum(m.result.outcomes.values()) / m.result.wall, ",.0f"),
    Column("outcomes", lambda m: ", ".join(f"{n} {o}" for o, n in
                                           sorted(m.result.outcomes.items()))),
    Column("process CPU s", lambda m: m.result.process_cpu, ".1f"),
    Column("parse processes CPU s", lambda m: m.parse_process_cpu or None, ".1f"),
    Column("cores", "cores", ".2f"),
    Column("fetch CPU s", _share("fetch")),
    Column("parse CPU s", _share("parse")),
    Column("analysis CPU s", _share("analysis")),
    Column("store CPU s", _share("store")),
    Column("other CPU s", _share("other")),
    Column("parse thread s", "parse_thread_seconds", ".1f"),
)


def render_polling_table(results: PollingResults) -> str:
    return "\n".join(plain(PASS_COLUMNS, (results.first, *results.passes, *results.compared)))


def _baseline(results: PollingResults, kind: str, latency: int) -> Measured:
    return next(m for m in results.passes if (m.kind, m.concurrency, m.latency_ms,
                                              m.parsing) == (kind, BASELINE_CONCURRENCY,
                                                             latency, "threads"))


def _ratios(results: PollingResults) -> list[str]:
    """Each pass's wall time against the baseline's (8 at once, same pass and delay)."""
    lines = []
    for m in results.passes:
        if m.concurrency == BASELINE_CONCURRENCY:
            continue
        base = _baseline(results, m.kind, m.latency_ms)
        lines.append(f"{m.kind}, server delay {m.latency_ms} ms: {m.concurrency} at once "
                     f"takes {m.result.wall:.2f} s against {base.result.wall:.2f} s at 8: "
                     f"**{base.result.wall / m.result.wall:.2f}x** as fast")
    return lines


def _parsing_verdict(results: PollingResults) -> list[str]:
    """Best of the compared passes, each way."""
    threads = min(m.result.wall for m in results.compared if m.parsing == "threads")
    pooled = min(m.result.wall for m in results.compared if m.parsing != "threads")
    at_once = results.compared[0].concurrency
    verdict = ("faster" if threads / pooled >= HELPS else
               "no faster: parsing stays in the poll threads (nothing of this is in watcher/)")
    return [f"resent, {at_once} at once, loopback, best of {len(results.compared) // 2} each: "
            f"{pooled:.2f} s parsing in {results.parse_workers} process(es) against "
            f"{threads:.2f} s in the poll threads: **{threads / pooled:.2f}x**, {verdict}"]


def _findings(results: PollingResults) -> list[str]:
    """What the passes say about the critical path, from their numbers."""
    resent = [m for m in (*results.passes, *results.compared)
              if m.kind == "resent" and m.parsing == "threads"]
    shares = [m.split["parse"] / m.result.process_cpu for m in resent]
    same = [m.result.wall for m in resent if m.latency_ms == 0
            and m.concurrency == results.compared[0].concurrency]
    threads = [m for m in results.compared if m.parsing == "threads"]
    pooled = [m for m in results.compared if m.parsing != "threads"]
    parse_cpu = sum(m.split["parse"] for m in threads) / len(threads)
    moved_cpu = sum(m.parse_process_cpu for m in pooled) / len(pooled)
    return [
        f"`parse_feed` took {min(shares):.0%} to {max(shares):.0%} of the process's CPU in "
        "the resent passes parsing in threads, and the process used at most "
        f"{max(m.cores for m in resent):.2f} cores: the poll threads share one core's worth "
        "of Python (the GIL), so what parsing costs lengthens a pass whenever answers come "
        "faster than they are parsed.",
        f"In a pool of processes, parsing took {moved_cpu:.1f} s of the parse processes' CPU "
        f"per pass against {parse_cpu:.1f} s in the threads: moved, not saved, so it can only "
        "shorten a pass when a core would otherwise sit idle.",
        f"The machine's noise: the same pass (resent, {results.compared[0].concurrency} at "
        f"once, loopback, in threads) took {min(same):.1f} to {max(same):.1f} s in this run; "
        "read single-pass ratios within that.",
    ]


def render_polling_markdown(results: PollingResults) -> str:
    first, stored = results.first, results.stored
    return "\n".join([
        *head(POLLING_HEADING, "polling", "polling", results.machine,
              f"{results.feeds:,} RSS feeds of {results.items // results.feeds} FA-KES items "
              f"({results.items:,} items, {results.megabytes:.0f} MiB uncompressed, served "
              f"gzipped from `bench/feeds_server.py` in its own process on 127.0.0.1); "
              f"{results.rules} shipped rules; one SQLite file",
              f"whole part: {results.seconds:.0f} s"),
        "Each pass is one `watcher run --once` after start-up (`Daemon.poll_all_once()`,",
        "timed alone) with `fetch.concurrency` set to `at once`; the baseline is 8, the",
        "number that was hard-coded before the setting, measured in the same run. The first",
        f"pass stored {stored.articles:,} articles ({first.result.wall:.1f} s at "
        f"{first.concurrency} at once); in the passes after it nothing is new. `304`: every",
        "feed answers 304. `resent`: the server ignores If-None-Match and sends every feed",
        "whole, so each is fetched, parsed and its entries looked up in the store. `server",
        "delay`: the server waits that long before each answer, as one across a network does",
        "(0: loopback). CPU by part is the poll threads' own CPU time (`time.thread_time`)",
        "in the fetcher, `parse_feed`, the matcher and the store, its share of the process's",
        "CPU; `other` is the rest (identity keys, dedupe, the poller, logging). `cores`: CPU",
        "seconds of this process and the parse processes over wall seconds. `parse thread",
        "s`: wall seconds the poll threads spent in `parse_feed` (waiting for the GIL, or",
        "for the parse processes, included).",
        "",
        *markdown(PASS_COLUMNS, (results.first, *results.passes)),
        "",
        "Parsing in the poll threads and in a pool of processes (`ParseProcesses` in",
        "bench/polling_bench.py: each poll thread hands its feed's bytes to the pool and waits",
        "for the articles), resent passes in turns:",
        "",
        *markdown(PASS_COLUMNS, results.compared),
        "",
        *(f"- {line}" for line in (*_ratios(results), *_parsing_verdict(results))),
        "",
        *(f"- {line}" for line in _findings(results)),
        "",
    ])  # fmt: skip

