"""Backtesting: rules (or a query) matched again over the stored articles, and per rule
what a changed rule adds to or drops from its stored matches.

One implementation for `watcher rules backtest` (which prints) and the workspace's rule
workbench (which shows): the stored articles are read a page at a time, matched in small
batches, and each one's matches are tallied against the rules' stored matches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from watcher.engine.matcher import Matcher
from watcher.model import Match
from watcher.store import Store, StoredText

ArticleKey = tuple[str, str]  # (source, id): an article's id is its own within its source
BATCH = 32  # articles analysed together: cheaper than one at a time


@dataclass
class Tally:
    """One rule over the backtested articles: the articles it matches now (and of those,
    held back), the articles it has stored matches on, and the rule versions that made them."""

    now: dict[ArticleKey, None] = field(default_factory=dict)
    held: int = 0
    stored: dict[ArticleKey, None] = field(default_factory=dict)
    versions: set[str] = field(default_factory=set)

    def added(self) -> list[ArticleKey]:
        """Articles it matches now and has no stored match on, in the order read."""
        return [key for key in self.now if key not in self.stored]

    def dropped(self) -> list[ArticleKey]:
        """Articles it has a stored match on and does not match now."""
        return [key for key in self.stored if key not in self.now]


def key_of(text: StoredText) -> ArticleKey:
    return (text.article.source, text.article.id)


def matched_again(
    store: Store, matcher: Matcher, *, since: datetime | None = None, limit: int | None = None,
) -> Iterator[tuple[StoredText, list[Match]]]:
    """Each stored article since `since` (the newest `limit` of them), oldest first, with
    what the matcher finds in it now (held-back matches included). A StoreError leaves
    from the iteration."""
    for page in store.text_pages(since=since, limit=limit):
        for start in range(0, len(page), BATCH):
            batch = page[start:start + BATCH]
            found = matcher.match_many([text.article for text in batch])
            yield from zip(batch, found, strict=True)


def count(
    tallies: dict[str, Tally], text: StoredText, matches: list[Match], *, whole_set: bool,
    stored_as: Mapping[str, str] | None = None,
) -> None:
    """Tally one article: its matches now, and its stored matches. A stored match of a rule
    not tallied is counted only for a `whole_set` backtest (a rule gone from the set drops
    its matches); `stored_as` counts a stored rule's matches for another tally (the
    workbench compares its query with a rule's stored matches)."""
    key = key_of(text)
    for found in matches:
        tally = tallies[found.rule_id]
        tally.now[key] = None
        tally.held += bool(found.held)
    for rule_id, version in text.matched:
        if stored_as is not None:
            if rule_id not in stored_as:
                continue
            rule_id = stored_as[rule_id]
        tally = tallies.get(rule_id) or (tallies.setdefault(rule_id, Tally()) if whole_set
                                          else None)
        if tally is not None:
            tally.stored[key] = None
            tally.versions.add(version)
