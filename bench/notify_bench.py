"""The alerts benchmark: deliveries/s from the outbox to a local SMTP server and a local
webhook (1 and 8 parallel sends), and ingest speed while a burst of alerts drains.

Called by bench/run.py after the other parts (or alone: `--only notify`).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import Corpus
from bench.measure import Machine, machine, progress
from bench.sections import head
from bench.sizes import Sizes
from bench.store_replay import ALERT_CHANNEL, new_pipeline, replay_batches
from bench.tables import Column, markdown, plain
from tests.support.smtp_server import SmtpServer
from tests.support.webhook import WebhookServer
from watcher.engine.matcher import Matcher
from watcher.notify.channels import Channel
from watcher.notify.outbox import Destination, Outbox, RetryPolicy
from watcher.notify.render import Renderer
from watcher.rules.load import load_rules
from watcher.store import Store
from watcher.text.analysis import Analyzer

NOTIFY_HEADING = "## Alerts"
CONCURRENCY = (1, 8)
SMTP_USER, SMTP_PASSWORD = "bench", "bench-password"
# Broad rules so that FA-KES gives a burst of over a thousand alerts.
BURST_RULES = """
rules:
  - {id: syria, title: Syria in the news, query: '~Syria OR Syrian'}
  - {id: casualties, title: Casualties, query: 'killed OR wounded OR dead'}
  - {id: strikes, title: Strikes, query: 'strike OR shelling OR bombing OR attack'}
"""


@dataclass(frozen=True)
class Rate:
    target: str
    concurrency: int
    deliveries: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds


@dataclass(frozen=True)
class Burst:
    alerts: int
    articles: int
    ingest_alone: float
    ingest_draining: float
    drained_after: float  # seconds from the end of ingest until the outbox was empty
    received: int


RATE_COLUMNS = (
    Column("target", "target"),
    Column("sends at once", "concurrency"),
    Column("deliveries", "deliveries"),
    Column("seconds", "seconds", ".2f"),
    Column("deliveries/s", "per_second", ".0f"),
)


@dataclass(frozen=True)
class NotifyResults:
    machine: Machine
    rates: list[Rate]
    burst: Burst
    total_seconds: float
    sizes: Sizes


def measure_notify(corpus: Corpus, analyzer: Analyzer, sizes: Sizes,
                   scratch: Path) -> NotifyResults:
    """Every alerts measurement, in SQLite files under `scratch`, removed afterwards."""
    started = time.perf_counter()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="alerts-", dir=scratch) as name, \
            WebhookServer() as hook, SmtpServer(SMTP_USER, SMTP_PASSWORD) as smtp:
        directory = Path(name)
        rules = directory / "burst.yaml"
        rules.write_text(BURST_RULES, encoding="utf-8")
        matcher = Matcher(load_rules(rules), analyzer)
        queued = directory / "queued.db"
        progress("alerts: ingest alone (the burst is queued, nothing sends)")
        alone, alerts = _ingest(matcher, corpus, queued)
        progress(f"  {alerts} alerts queued in {alone:.2f} s")
        burst = _burst(matcher, corpus, directory / "draining.db", hook, alone, alerts)
        targets = {"webhook (json://)": hook.url("/rate"), "SMTP (mailto://)": _mail(smtp)}
        rates = [
            _rate(queued, directory, label, url, concurrency, sizes.rate_deliveries)
            for label, url in targets.items() for concurrency in CONCURRENCY
        ]
    return NotifyResults(info, rates, burst, time.perf_counter() - started, sizes)


def _mail(smtp: SmtpServer) -> str:
    return (f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{smtp.port}"
            "?to=ops@example.org&from=watcher@example.org")


def _ingest(matcher: Matcher, corpus: Corpus, path: Path) -> tuple[float, int]:
    with Store.open(f"sqlite:///{path}") as store:
        start = time.perf_counter()
        replay_batches(new_pipeline(matcher, store), corpus.articles)
        seconds = time.perf_counter() - start
        return seconds, store.delivery_counts().get("pending", 0)


def _burst(matcher: Matcher, corpus: Corpus, path: Path, hook: WebhookServer,
           alone: float, alerts: int) -> Burst:
    """The same ingest while a sender drains the outbox beside it, as `watcher run` does."""
    progress("alerts: ingest while the outbox drains to a webhook (8 parallel sends)")
    before = len(hook.bodies)
    with Store.open(f"sqlite:///{path}") as store:
        with _draining(_outbox(store, hook.url("/burst"), 8)) as finished:
            start = time.perf_counter()
            replay_batches(new_pipeline(matcher, store), corpus.articles)
            ingest_done = time.perf_counter()
        drained = finished() - ingest_done
    received = len(hook.bodies) - before
    progress(f"  ingest {ingest_done - start:.2f} s (alone {alone:.2f} s), outbox empty "
             f"{drained:.2f} s later, {received} of {alerts} received")
    return Burst(alerts, len(corpus.articles), alone, ingest_done - start, drained, received)


@contextmanager
def _draining(outbox: Outbox) -> Iterator[Callable[[], float]]:
    """A thread sending what is due every 0.1 s; on exit it drains what is left and the
    caller gets the time the outbox became empty."""
    ingesting, emptied = threading.Event(), [0.0]

    def drain() -> None:
        while True:
            outbox.send_due()
            if not ingesting.is_set() and not outbox.store.pending_delivery_count():
                emptied[0] = time.perf_counter()
                return
            time.sleep(0.1)

    ingesting.set()
    thread = threading.Thread(target=drain)
    thread.start()
    try:
        yield lambda: emptied[0]
    finally:
        ingesting.clear()
        thread.join()


def _rate(queued: Path, directory: Path, label: str, url: str, concurrency: int,
          deliveries: int) -> Rate:
    """Send `deliveries` queued alerts from a copy of the burst's database."""
    path = directory / f"rate-{concurrency}-{len(label)}.db"
    shutil.copy(queued, path)
    with sqlite3.connect(path) as connection:  # keep the first `deliveries` pending
        connection.execute("UPDATE deliveries SET status = 'dead' WHERE id NOT IN "
                           "(SELECT id FROM deliveries ORDER BY id LIMIT ?)", (deliveries,))
    connection.close()
    with Store.open(f"sqlite:///{path}") as store:
        outbox = _outbox(store, url, concurrency)
        start = time.perf_counter()
        report = outbox.send_due()
        seconds = time.perf_counter() - start
    progress(f"  {label}, {concurrency} at a time: {report.sent} sent in {seconds:.2f} s "
             f"({report.sent / seconds:.0f}/s)")
    return Rate(label, concurrency, report.sent, seconds)


def _outbox(store: Store, url: str, concurrency: int) -> Outbox:
    return Outbox(
        store=store,
        destinations={ALERT_CHANNEL: Destination(Channel.from_urls(ALERT_CHANNEL, [url]))},
        renderer=Renderer(),
        policy=RetryPolicy(),
        now=lambda: datetime.now(UTC),
        concurrency=concurrency,
        timeout=30,
    )


def render_notify_markdown(r: NotifyResults) -> str:
    b = r.burst
    lines = [
        *head(NOTIFY_HEADING, "alerts", "notify", r.machine,
              f"whole part: {r.total_seconds:.0f} s"),
        "### Deliveries per second from the outbox", "",
        f"{r.sizes.rate_deliveries} queued alerts (FA-KES matches, rendered from the shipped "
        "templates) sent by `Outbox.send_due` to a server on 127.0.0.1 in this process's "
        "threads: the webhook is `tests/support/webhook.py` (http.server), the mail server "
        "`tests/support/smtp_server.py` (aiosmtpd, with login). Each delivery is claimed, "
        "rendered, sent by apprise and marked sent in SQLite.", "",
        *markdown(RATE_COLUMNS, r.rates),
        "",
        "### A burst of alerts does not hold up ingest", "",
        f"FA-KES ({b.articles} articles) replayed through the pipeline with three broad "
        f"rules queues {b.alerts:,} alerts. Ingest alone: {b.ingest_alone:.2f} s. The same "
        f"ingest into a fresh file while a sender drains the outbox beside it (8 parallel "
        f"sends to the webhook, checking every 0.1 s, as `watcher run` does on its own "
        f"thread): {b.ingest_draining:.2f} s, **{b.ingest_draining / b.ingest_alone:.2f}x** "
        f"the time alone; the outbox was empty {b.drained_after:.2f} s after ingest ended, "
        f"and the webhook received {b.received:,} messages for {b.alerts:,} alerts.", "",
        "Ingest and sender share one SQLite file (each claim and each `sent` is a short write "
        "transaction, taking turns with ingest's) and, in this benchmark, one process's two "
        "cores and GIL; the daemon's sender is one APScheduler thread plus its send pool.",
        "",
    ]
    return "\n".join(lines)


def render_notify_table(r: NotifyResults) -> str:
    b = r.burst
    return "\n".join([*plain(RATE_COLUMNS, r.rates),
                      f"ingest with the outbox draining: {b.ingest_draining / b.ingest_alone:.2f}x "
                      "the time alone"])
