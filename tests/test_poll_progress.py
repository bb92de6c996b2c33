"""A huge feed's poll stores its entries as it goes: cut short (a signal, a lost claim), it
keeps what it stored, and the next poll goes on from there instead of starting over. A
full-text poll's pages take a bounded time, however many sites its links name.

A real SQLite store and a loopback feed; the clocks stand still.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.http_server import Reply, ScriptedServer, TricklingServer
from watcher.config.settings import SourceSettings
from watcher.daemon.poller import FULL_TEXT_BUDGET, Poller
from watcher.engine.matcher import Matcher
from watcher.ingest.pipeline import Pipeline
from watcher.sources.addresses import parse_ranges
from watcher.sources.fetch import Fetcher
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ITEMS, BATCH = 25, 10


PAGE = b"<html><body><article><p>" + b"Shelling hit the old market in Aleppo. " * 40 + (
    b"</p></article></body></html>")

LOOPBACK = parse_ranges(["127.0.0.0/8"])  # the pages' server: full text is refused there


def feed(items: int, server: ScriptedServer | None = None) -> bytes:
    """Near-identical entries, as a feed of 'Item N about things' sends them; with a
    server, each links a page of its own there."""
    entries = "".join(
        f'<item><guid isPermaLink="false">item-{n}</guid><title>Item {n} about things</title>'
        + (f"<link>{server.url(f'/page/{n}')}</link>" if server else "")
        + f"<description>Shelling hit the old market in Aleppo, residents said. Item {n}."
        "</description></item>"
        for n in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}' \
           "</channel></rss>".encode()


def feed_linking(links: list[str]) -> bytes:
    """Entries item-0, item-1… each linking its own page."""
    entries = "".join(
        f'<item><guid isPermaLink="false">item-{n}</guid><title>Item {n} about things</title>'
        f"<link>{link}</link><description>Shelling hit the old market in Aleppo, residents "
        f"said. Item {n}.</description></item>"
        for n, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}' \
           "</channel></rss>".encode()


@functools.cache
def shipped_rules() -> Matcher:
    return Matcher.from_path(ROOT / "rules")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as opened:
        yield opened


class SignalAtBatch:
    """The pipeline's clock, which it reads once per batch as it begins storing it: sets
    `stopping` (a Ctrl-C) as batch `number` begins, so the poll is cut after storing the
    batches before it. `on_batch` is called each time first (to look at the server)."""

    def __init__(self, stopping: threading.Event, number: int,
                 on_batch: Callable[[], None] = lambda: None) -> None:
        self.stopping, self.number, self.batches, self.on_batch = stopping, number, 0, on_batch

    def __call__(self) -> datetime:
        self.on_batch()
        self.batches += 1
        if self.batches == self.number:
            self.stopping.set()
        return MOMENT


def test_a_poll_cut_mid_feed_keeps_what_it_stored_and_the_next_poll_goes_on(store):
    stopping = threading.Event()
    clock = SignalAtBatch(stopping, number=2)
    pipeline = Pipeline(matcher=shipped_rules(), store=store, now=clock,
                        batch_size=BATCH)
    with ScriptedServer() as server, Fetcher(now=lambda: MOMENT) as fetcher:
        server.route("/feed", Reply(200, feed(ITEMS), {"ETag": '"v1"'}))
        source = SourceSettings(name="wire", url=server.url("/feed"))
        poller = Poller(store=store, fetcher=fetcher, pipeline=pipeline,
                        now=lambda: MOMENT, stopping=stopping)
        cut = poller.poll(source)
        kept = {a.id for a in store.articles()}
        [state] = store.source_states()
        stopping.clear()
        again = poller.poll(source)
        requests = server.requests_to("/feed")
    # The first batch was stored before the signal, and the article in hand of the second.
    assert (cut.outcome, cut.message, cut.new_articles) == ("skipped", "stopped mid-feed",
                                                            BATCH + 1)
    assert kept == {f"item-{n}" for n in range(BATCH + 1)}
    assert state.etag is None  # not all of the feed is in: the next poll fetches it again
    assert "if-none-match" not in requests[1].headers
    assert (again.outcome, again.new_articles) == ("ok", ITEMS - BATCH - 1)
    assert sorted(a.id for a in store.articles()) == sorted(f"item-{n}" for n in range(ITEMS))
    assert store.source_states()[0].etag == '"v1"'
    assert len({a.story for a in store.articles()}) == 1  # one story, as near copies are


def test_a_full_text_feed_stores_each_batch_before_fetching_the_next_pages(store):
    """Pages are fetched a batch at a time too: storing starts after the first batch's
    pages, not the whole feed's, and a cut poll's stored entries are not fetched again."""
    items, batch = 10, 4
    stopping = threading.Event()
    pages_before_storing: list[int] = []
    with (ScriptedServer() as server,
          Fetcher(now=lambda: MOMENT, allow_private=LOOPBACK) as fetcher):
        server.route("/feed", Reply(200, feed(items, server)))
        for n in range(items):
            server.route(f"/page/{n}", Reply(200, PAGE, {"Content-Type": "text/html"}))

        def pages() -> list[str]:
            return [r.path for r in server.requests if r.path.startswith("/page/")]

        clock = SignalAtBatch(stopping, number=2,
                              on_batch=lambda: pages_before_storing.append(len(pages())))
        pipeline = Pipeline(matcher=shipped_rules(), store=store, now=clock, batch_size=batch)
        source = SourceSettings(name="wire", url=server.url("/feed"), full_text=True)
        poller = Poller(store=store, fetcher=fetcher, pipeline=pipeline,
                        now=lambda: MOMENT, stopping=stopping)
        cut = poller.poll(source)
        stopping.clear()
        again = poller.poll(source)
        fetched = pages()
    assert pages_before_storing[:2] == [batch, 2 * batch]
    assert (cut.new_articles, again.outcome, again.new_articles) == (batch + 1, "ok",
                                                                     items - batch - 1)
    assert fetched.count("/page/0") == fetched.count(f"/page/{batch}") == 1  # stored: not again
    assert len(store.articles()) == items


def test_links_to_many_stalling_host_names_cost_a_poll_a_few_deadlines_not_one_each(
    store, caplog
):
    """Wildcard DNS: each entry links a host name of its own (a0.stall.test, a1…), all one
    stalling server. Skipping a host once its page timed out did not help: each page cost
    a deadline, the claim was renewed meanwhile, and the poll held its slot for an hour.
    Pages are fetched for FULL_TEXT_BUDGET deadlines; then the rest keep the feed's text.
    The poll's clock counts a deadline per page it went for (per name looked up), which
    each page really takes: the server stalls."""
    timeout, items = 0.2, 12
    asked: list[str] = []

    def wildcard(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    with (TricklingServer(pause=0.05) as slow,
          ScriptedServer() as server,
          Fetcher(now=lambda: MOMENT, timeout=timeout, allow_private=LOOPBACK,
                  resolver=wildcard) as fetcher):
        links = [f"http://a{n}.stall.test:{slow.port}/article" for n in range(items)]
        server.route("/feed", Reply(200, feed_linking(links)))
        pipeline = Pipeline(matcher=shipped_rules(), store=store, now=lambda: MOMENT)
        poller = Poller(store=store, fetcher=fetcher, pipeline=pipeline,
                        now=lambda: MOMENT, clock=lambda: len(asked) * timeout)
        with caplog.at_level(logging.INFO, logger="watcher.poller"):
            polled = poller.poll(SourceSettings(name="wire", url=server.url("/feed"),
                                                full_text=True))
    assert (polled.outcome, polled.new_articles) == ("ok", items)
    assert asked == [f"a{n}.stall.test" for n in range(FULL_TEXT_BUDGET)]  # pages fetched
    skipped = [r.getMessage() for r in caplog.records if "full_text_skipped" in r.getMessage()]
    reason = (f"this poll spent its full-text time on other pages ({FULL_TEXT_BUDGET * timeout:g}"
              f" s, {FULL_TEXT_BUDGET} × fetch.timeout)")
    assert skipped == [f"event=full_text_skipped url={link} reason={reason!r}"
                       for link in links[FULL_TEXT_BUDGET:]]
    assert sorted(a.id for a in store.articles()) == sorted(f"item-{n}" for n in range(items))
