"""A huge feed's poll stores its entries as it goes: cut short (a signal, a lost claim), it
keeps what it stored, and the next poll goes on from there instead of starting over.

A real SQLite store and a loopback feed; the clocks stand still.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.http_server import Reply, ScriptedServer
from watcher.config import SourceSettings
from watcher.matcher import Matcher
from watcher.pipeline import Pipeline
from watcher.poller import Poller
from watcher.sources.fetch import Fetcher
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ITEMS, BATCH = 25, 10


def feed(items: int) -> bytes:
    """Near-identical entries, as a feed of 'Item N about things' sends them."""
    entries = "".join(
        f'<item><guid isPermaLink="false">item-{n}</guid><title>Item {n} about things</title>'
        f"<description>Shelling hit the old market in Aleppo, residents said. Item {n}."
        "</description></item>"
        for n in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}' \
           "</channel></rss>".encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as opened:
        yield opened


class SignalAtBatch:
    """The pipeline's clock, which it reads once per batch: sets `stopping` (a Ctrl-C)
    as batch `number` begins, so the poll is cut after storing the batches before it."""

    def __init__(self, stopping: threading.Event, number: int) -> None:
        self.stopping, self.number, self.batches = stopping, number, 0

    def __call__(self) -> datetime:
        self.batches += 1
        if self.batches == self.number:
            self.stopping.set()
        return MOMENT


def test_a_poll_cut_mid_feed_keeps_what_it_stored_and_the_next_poll_goes_on(store):
    stopping = threading.Event()
    clock = SignalAtBatch(stopping, number=2)
    pipeline = Pipeline(matcher=Matcher.from_path(ROOT / "rules"), store=store, now=clock,
                        batch_size=BATCH)
    with ScriptedServer() as server, Fetcher(now=lambda: MOMENT) as fetcher:
        server.route("/feed", Reply(200, feed(ITEMS), {"ETag": '"v1"'}))
        source = SourceSettings(name="wire", url=server.url("/feed"))
        poller = Poller(store=store, fetcher=fetcher, pipeline=lambda: pipeline,
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
