"""The values the Store takes and gives: what to ingest, what ingest did, what is stored.

Plain frozen dataclasses, so callers never see a database row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.identity import Identity
from watcher.model import Alert, Article, Match


@dataclass(frozen=True)
class NewArticle:
    """An article ready to store, with what the pipeline computed for it once.

    `identity` holds its identity keys ("guid:src:x", "url:https://…", "hash:<hex>"), its
    canonical URL and content hash (watcher/identity.py); `bands[i]` is the signed 64-bit
    hash of LSH band i of `signature`.
    """

    article: Article
    identity: Identity
    signature: bytes
    bands: tuple[int, ...]
    fetched: datetime


@dataclass(frozen=True)
class Route:
    """A channel that gets an alert, and when it may first be sent: None for at once,
    a later time for a digest channel's next boundary."""

    channel: str
    due: datetime | None = None


@dataclass(frozen=True)
class NewMatch:
    """A match to store; `routes` get a pending delivery if it is new in its story and its
    rule sent no alert within `cooldown_seconds`. `rule_title` and `query` are kept with
    it so the alert shows the rule as it was when it fired. `old_news` says why its article
    is not alerted (ingest/routing.py: 'baseline', 'too old'), None when it is news."""

    match: Match
    rule_version: str
    routes: tuple[Route, ...] = ()
    rule_title: str = ""
    query: str = ""
    cooldown_seconds: int | None = None
    old_news: str | None = None


@dataclass(frozen=True)
class StoryCandidate:
    """A stored article sharing an LSH band with the new one: its story and signature."""

    story_id: int
    signature: bytes


StoryPicker = Callable[[Sequence[StoryCandidate]], int | None]
"""Chooses the story a new article joins among the candidates, or None for a new story."""

OwnerCheck = Callable[[str], bool]
"""Whether a claim's owner is proven dead (watcher/store/owners.py): its lease is free at once."""


@dataclass(frozen=True)
class IngestResult:
    """What ingest did; `new_matches` are the first of their rule in the story."""

    stored: bool
    story_id: int | None
    new_matches: tuple[Match, ...]


@dataclass(frozen=True)
class IngestItem:
    """One article of `Store.ingest_batch`: what `Store.ingest` takes for it."""

    new: NewArticle
    matches: Sequence[NewMatch]
    pick_story: StoryPicker
    now: datetime


@dataclass(frozen=True)
class StoredArticle:
    """An article as `watcher articles` lists it; `id` is the article's own id."""

    id: str
    title: str
    source: str
    url: str | None
    published: datetime | None
    fetched: datetime
    story: int


@dataclass(frozen=True)
class StoredText:
    """A stored article as ingest matched it (the same Article fields: id, title, body,
    published, source), when it was stored, and the stored matches it has: (rule id, rule
    version) pairs, held-back ones included. `watcher rules backtest` and `watcher explain`
    match it again."""

    article: Article
    fetched: datetime
    matched: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StoredMatch:
    """A stored match; `notified` lists the channels that confirmed delivery; `old_news`
    why it was not alerted as old news ('baseline', 'too old'), None when it was not."""

    match: Match
    article_id: str
    matched_at: datetime
    notified: tuple[str, ...]
    old_news: str | None = None


@dataclass(frozen=True)
class DueDelivery:
    """A delivery claimed for sending: to which channel, how often tried, the keys of the
    channel's URLs that already took it, and the alert its message tells. `created` (when it
    was queued) makes its message identity unique beyond this database's ids; `article` (the
    stored article's row id) puts an article's deliveries to one channel in one message."""

    id: int
    channel: str
    attempts: int
    done_targets: tuple[str, ...]
    alert: Alert
    created: datetime | None = None
    article: int | None = None


@dataclass(frozen=True)
class DeliveryHold:
    """Pending deliveries another sender's live lease holds: whose, how many, until when
    (what `deliveries flush` says it had to leave)."""

    owner: str
    count: int
    until: datetime


@dataclass(frozen=True)
class StoredDelivery:
    """One row of the outbox, as `watcher deliveries` lists it (no channel URLs in it)."""

    id: int
    rule_id: str
    article_id: str
    title: str
    channel: str
    status: str
    attempts: int
    created: datetime
    next_attempt: datetime
    sent_at: datetime | None
    last_error: str | None
    silence_id: int | None = None  # the silence that held it back (status `silenced`)
