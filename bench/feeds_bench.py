"""The feeds benchmark: `watcher run --once` over 500 local feeds of 50 items, three times.

Wired as `watcher run --once` wires it (cli_daemon.run): settings from a generated
watcher.yaml, the shipped rules via Matcher.from_path, Store.open on a new SQLite file,
a Fetcher, a Poller and Metrics per run, then `Daemon.poll_all_once()`. The feeds come
from a server in another process on 127.0.0.1 (bench/feeds_server.py). The first pass
fetches and ingests every feed; the second, over the same store and server, gets a 304
for every feed (the server checks If-None-Match against each feed's ETag). A third,
reference pass has the server ignore the validators: every feed is sent, parsed and
deduplicated again, and nothing is new (what polling costs without conditional GET).

The daemon is given its store, matcher and fetcher metered (bench/meter.py); what it does
through module functions (`parse_feed`, `identity_keys`, `story_signature`) is measured
apart afterwards, in this process, on the same feed documents and their entries.

Called by bench/run.py after the storage benchmark (or alone: `--only feeds`).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import Corpus
from bench.feeds_corpus import CONTENT_TYPE, FeedSet, write_feeds
from bench.feeds_results import Apart, FeedsResults, PollPass, StoredCounts
from bench.measure import Repeats, machine, progress
from bench.meter import Meter, apart
from bench.paths import ROOT, SHIPPED_RULES
from bench.proc_cpu import cpu_seconds
from bench.sizes import Sizes
from watcher.cli.common import new_pipeline
from watcher.cli.logs import configure_logging
from watcher.config.settings import Settings, load_settings
from watcher.daemon.metrics import Metrics
from watcher.daemon.poller import Poller
from watcher.daemon.service import Daemon
from watcher.engine.matcher import Matcher
from watcher.identity import identity_keys
from watcher.ingest.stories import story_signature
from watcher.model import Article
from watcher.sources.feeds import ParsedFeed, parse_feed
from watcher.sources.fetch import Fetcher
from watcher.store import Store

CHANNEL = "ops"
SERVER_START_SECONDS = 60.0
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler")  # configure_logging sets their levels
ERRORS_KEPT = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


def measure_feeds(corpus: Corpus, sizes: Sizes, scratch: Path) -> FeedsResults:
    """The three passes, in a directory under `scratch` (feeds, watcher.yaml, the SQLite
    file), then the module functions they called measured apart."""
    started = time.perf_counter()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="feeds-", dir=scratch) as name:
        directory = Path(name)
        progress(f"feeds: rendering {sizes.feeds} RSS feeds of {sizes.items} items from FA-KES")
        feeds = write_feeds(directory / "feeds", corpus.articles, published=utc_now(),
                            feeds=sizes.feeds, items=sizes.items)
        progress(f"feeds: {feeds.feeds} feeds, {feeds.items:,} items, "
                 f"{feeds.total_bytes / 2**20:.1f} MiB, {feeds.distinct_texts} distinct texts; "
                 "starting the feed server")
        with feed_server(feeds) as server:
            settings = load_settings(str(write_config(directory, server, feeds)), {}, {})
            matcher = Matcher.from_path(
                settings.rules, pipeline=settings.pipeline, channels=settings.channel_names
            )
            meter = Meter()
            setup = time.perf_counter() - started
            database = directory / "watcher.db"
            with daemon_logging():
                first = run_pass("first: every feed fetched and ingested", settings, matcher,
                                 meter, server)
                stored = stored_counts(database)
                second = run_pass("second: every feed answers 304", settings, matcher, meter,
                                  server)
                server.honour_validators(False)
                reference = run_pass("reference: validators ignored, every feed sent again",
                                     settings, matcher, meter, server)
                server.honour_validators(True)
            after = stored_counts(database)
        measured_apart = measure_apart(feeds, sizes.repeats)
    return FeedsResults(
        machine=info,
        corpus_articles=len(corpus.articles),
        feeds=feeds,
        rules=len(matcher.rules.enabled()),
        concurrency=settings.fetch.concurrency,
        first=first,
        second=second,
        reference=reference,
        stored=stored,
        stored_after=after,
        apart=measured_apart,
        setup_seconds=setup,
        total_seconds=time.perf_counter() - started,
        sizes=sizes,
    )


def run_pass(
    label: str, settings: Settings, matcher: Matcher, meter: Meter, server: FeedServerProcess,
    parse: Callable[..., ParsedFeed] = parse_feed,
) -> PollPass:
    """One `watcher run --once` after start-up: a fresh store connection, fetcher and
    daemon (as a new process would have), then poll_all_once, timed alone. The daemon is
    given the store, matcher and fetcher metered; the matcher serially (see Metered); the
    poller parses with `parse`."""
    progress(f"feeds pass {label}")
    opened = time.perf_counter()
    stopping = threading.Event()
    with Store.open(settings.db) as opened_store, Fetcher(now=utc_now) as opened_fetcher:
        store = meter.wrap(opened_store, "store")
        fetcher = meter.wrap(opened_fetcher, "fetcher")
        metrics = Metrics(
            queue_depth=opened_store.pending_delivery_count,
            last_successes=lambda: {s.name: s.last_success
                                    for s in opened_store.source_states()},
            now=utc_now,
            sources=[s.name for s in settings.sources],
        )
        pipeline = new_pipeline(settings, store, meter.wrap(matcher, "matcher", serial=True))
        poller = Poller(store=store, fetcher=fetcher, pipeline=pipeline, now=utc_now,
                        stopping=stopping, max_age=settings.max_age, parse=parse)
        daemon = Daemon(settings=settings, poller=poller, metrics=metrics, now=utc_now,
                        stopping=stopping)
        open_seconds = time.perf_counter() - opened
        gc.collect()
        requests_before, server_cpu_before = server.stats(), server.cpu_seconds()
        stages_before = meter.readings()
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        outcomes = daemon.poll_all_once()
        wall = time.perf_counter() - wall_before
        process_cpu = time.process_time() - cpu_before
        stages = meter.readings().since(stages_before)
        server_cpu = server.cpu_seconds() - server_cpu_before
        requests = server.stats()
    result = PollPass(
        label=label,
        wall=wall,
        polls=sum(o.seconds for o in outcomes),
        outcomes=Counter(o.outcome for o in outcomes),
        new_articles=sum(o.new_articles for o in outcomes),
        new_matches=sum(len(o.new_matches) for o in outcomes),
        stages=stages,
        process_cpu=process_cpu,
        server_cpu=server_cpu,
        server={key: requests.get(key, 0) - requests_before.get(key, 0) for key in requests},
        errors=tuple(f"{o.source}: {o.outcome}: {o.message}" for o in outcomes
                     if o.outcome not in ("ok", "not_modified"))[:ERRORS_KEPT],
        open_seconds=open_seconds,
    )
    progress(f"  {wall:.2f} s wall, {len(outcomes) / wall:,.1f} feeds/s, outcomes "
             f"{dict(result.outcomes)}, {result.new_articles:,} new articles")
    return result


def measure_apart(feeds: FeedSet, repeats: Repeats) -> Apart:
    """What the passes did through module functions, which the meter cannot wrap: every
    feed document parsed (as the fetcher hands it over), identity keys of every entry, and
    the story signature of each distinct entry text; one thread, best of several passes."""
    progress("feeds: parse_feed, identity_keys and story_signature apart")
    meter = Meter()
    documents = [(name, (feeds.directory / name).read_bytes()) for name in feeds.names]
    now = utc_now()

    def parse(document: tuple[str, bytes]) -> list[Article]:
        name, content = document
        return list(parse_feed(content, source=name, url=f"http://127.0.0.1/feeds/{name}",
                               headers={"content-type": CONTENT_TYPE}, now=now).entries)

    parsed = apart(meter, "parse_feed", parse, documents, repeats)
    entries = [entry for document in documents for entry in parse(document)]
    distinct = list({(a.title, a.body): a for a in entries}.values())
    return Apart(
        parse_feed=parsed,
        identity_keys=apart(meter, "identity_keys", identity_keys, entries, repeats),
        story_signature=apart(meter, "story_signature",
                              lambda a: story_signature(a.title, a.body), distinct, repeats),
        entries=len(entries),
    )


# -- the feed server ----------------------------------------------------------------------


class FeedServerProcess:
    """The feed server subprocess: its port, request counts and CPU time."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{name}"

    def _get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as reply:
            return bytes(reply.read())

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = json.loads(self._get("/stats"))
        return counts

    def honour_validators(self, honour: bool) -> None:
        """Off: the server answers 200 with the whole feed even to a matching If-None-Match."""
        self._get("/validators/on" if honour else "/validators/off")

    def answer_after(self, milliseconds: int) -> None:
        """Every feed's answer waits this long first, as across a network (0: at once)."""
        self._get(f"/latency/{milliseconds}")

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (all threads)."""
        return cpu_seconds(self.process.pid)


@contextmanager
def feed_server(feeds: FeedSet) -> Iterator[FeedServerProcess]:
    """Start bench/feeds_server.py on the feeds; stop it (by its pid) on the way out."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.feeds_server", str(feeds.directory)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        port = _read_port(process)
        yield FeedServerProcess(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_port(process: subprocess.Popen[str]) -> int:
    """The port the server prints once its feeds are loaded (waiting at most a minute)."""
    stdout = process.stdout
    assert stdout is not None
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(SERVER_START_SECONDS)
    line = found[0].strip() if found else ""
    if not line.isdigit():
        raise RuntimeError(f"the feed server did not start (exit status {process.poll()})")
    return int(line)


# -- configuration, logging, counts -------------------------------------------------------


def write_config(directory: Path, server: FeedServerProcess, feeds: FeedSet) -> Path:
    """watcher.yaml: the SQLite file, the shipped rules, one default channel (so matches
    queue deliveries, as in a configured daemon), one source per feed. Every entry alerts
    (no max_age, `first_poll: alert`): the first pass queues the deliveries it measures."""
    lines = [
        f"db: sqlite:///{directory / 'watcher.db'}",
        f"rules: {SHIPPED_RULES}",
        "max_age: 0",
        "channels:",
        f"  {CHANNEL}:",
        '    urls: ["json://127.0.0.1:9/alerts"]',
        "    default: true",
        "sources:",
    ]
    for name in feeds.names:
        lines += [f"  - name: outlet{name.removesuffix('.xml')}", f"    url: {server.url(name)}",
                  "    first_poll: alert"]
    path = directory / "watcher.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def daemon_logging() -> Iterator[None]:
    """The daemon's logging as `watcher run` configures it (a formatted line per poll),
    written to /dev/null instead of stderr; the previous set-up restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    with open(os.devnull, "w", encoding="utf-8") as sink:
        configure_logging()
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)
        try:
            yield
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            for name, old in levels.items():
                logging.getLogger(name).setLevel(old)


def stored_counts(database: Path) -> StoredCounts:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT (SELECT count(*) FROM articles), "
            "(SELECT count(DISTINCT story_id) FROM articles), "
            "(SELECT count(*) FROM matches), (SELECT count(*) FROM deliveries)"
        ).fetchone()
    connection.close()
    size = sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
    return StoredCounts(*(int(x) for x in row), file_bytes=size)
