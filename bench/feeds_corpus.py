"""The feeds benchmark's feeds: 500 RSS 2.0 documents of 50 items, built from FA-KES.

25,000 items from 804 articles means most items are syndicated copies. How they are made:

- Feed i is outlet i (its own host). It carries a window of 50 consecutive FA-KES articles;
  the windows start at evenly spaced offsets, so every article is in 31 or 32 feeds, and
  feeds polled one after another (`FEED_ORDER_STRIDE`) carry different windows, as
  unrelated outlets listed in a config do.
- Each item has the outlet's own guid and link (`https://outletNNN.example/news/<id>`), so
  the guid and URL identity keys never collapse two feeds' copies: only the content does.
- Most copies are the wire text as sent (same title and body): the content-hash key makes
  them duplicates, found by `Store.is_known` before any analysis.
- One item in REWRITE_EVERY carries the outlet's own headline (`<title> | Outlet NNN`):
  a new content hash, so it is stored as a new article and joins its story by MinHash.

So the first pass stores about 790 wire articles (FA-KES has 790 distinct title + body
pairs) plus 25,000 / REWRITE_EVERY rewrites; the benchmark counts what it really stored.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from watcher.model import Article

FEEDS = 500
ITEMS = 50
REWRITE_EVERY = 10  # one item in 10 is an outlet's own headline over the wire text
FEED_ORDER_STRIDE = 37  # coprime with FEEDS: feed i's window starts at slot (37 i mod 500)
ITEM_SPACING = timedelta(minutes=17)  # between consecutive items' pubDate
CONTENT_TYPE = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True)
class FeedSet:
    """The generated feeds: file names under `directory`, and what they hold."""

    directory: Path
    names: tuple[str, ...]  # "007.xml": served at /feeds/007.xml
    items: int
    rewrites: int
    distinct_texts: int  # distinct (title, body) pairs across all items
    total_bytes: int

    @property
    def feeds(self) -> int:
        return len(self.names)


def feed_name(number: int) -> str:
    return f"{number:03d}.xml"


def outlet_host(number: int) -> str:
    return f"outlet{number:03d}.example"


def window_start(number: int, corpus_size: int, feeds: int = FEEDS) -> int:
    """The first corpus article of feed `number`: evenly spaced slots, visited by stride."""
    slot = number * FEED_ORDER_STRIDE % feeds
    return slot * corpus_size // feeds


def is_rewrite(number: int, item: int) -> bool:
    return (number + item) % REWRITE_EVERY == 0


def feed_items(
    number: int, articles: Sequence[Article], items: int = ITEMS, feeds: int = FEEDS
) -> list[tuple[Article, bool]]:
    """The corpus articles feed `number` carries, newest first, and whether each is the
    outlet's rewrite."""
    start = window_start(number, len(articles), feeds)
    return [
        (articles[(start + item) % len(articles)], is_rewrite(number, item))
        for item in range(items)
    ]


def render_feed(
    number: int, articles: Sequence[Article], published: datetime, items: int = ITEMS,
    feeds: int = FEEDS,
) -> bytes:
    """One RSS 2.0 document: title, link, guid (permalink), pubDate and an HTML description
    holding the article's whole body, as feeds that carry full text send it."""
    host = outlet_host(number)
    entries = []
    for item, (article, rewrite) in enumerate(feed_items(number, articles, items, feeds)):
        title = f"{article.title} | Outlet {number:03d}" if rewrite else article.title
        link = f"https://{host}/news/{article.id}"
        when = format_datetime(published - item * ITEM_SPACING, usegmt=True)
        description = f"<p>{html.escape(article.body, quote=False)}</p>"
        entries.append(
            "    <item>\n"
            f"      <title>{html.escape(title, quote=False)}</title>\n"
            f"      <link>{link}</link>\n"
            f'      <guid isPermaLink="true">{link}</guid>\n'
            f"      <pubDate>{when}</pubDate>\n"
            f"      <description>{html.escape(description, quote=False)}</description>\n"
            "    </item>\n"
        )
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0">\n  <channel>\n'
        f"    <title>Outlet {number:03d}: Syria</title>\n"
        f"    <link>https://{host}/</link>\n"
        f"    <description>Syria coverage of outlet {number:03d}</description>\n"
        f"    <lastBuildDate>{format_datetime(published, usegmt=True)}</lastBuildDate>\n"
        + "".join(entries)
        + "  </channel>\n</rss>\n"
    )
    return document.encode("utf-8")


def write_feeds(
    directory: Path,
    articles: Sequence[Article],
    published: datetime,
    feeds: int = FEEDS,
    items: int = ITEMS,
) -> FeedSet:
    """Render every feed into `directory` (one file each) and describe the set."""
    directory.mkdir(parents=True, exist_ok=True)
    names, total, rewrites = [], 0, 0
    texts: set[str] = set()
    for number in range(feeds):
        content = render_feed(number, articles, published, items, feeds)
        name = feed_name(number)
        (directory / name).write_bytes(content)
        names.append(name)
        total += len(content)
        for article, rewrite in feed_items(number, articles, items, feeds):
            rewrites += rewrite
            title = f"{article.title} | Outlet {number:03d}" if rewrite else article.title
            texts.add(hashlib.sha256(f"{title}\n{article.body}".encode()).hexdigest())
    return FeedSet(directory, tuple(names), feeds * items, rewrites, len(texts), total)
