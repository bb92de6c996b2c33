"""The values the Store takes and gives: what to ingest, what ingest did, what is stored.

Plain frozen dataclasses, so callers never see a database row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.model import Article, Match


@dataclass(frozen=True)
class NewArticle:
    """An article ready to store, with what dedupe computed for it.

    `keys` are identity keys ("guid:src:x", "url:https://…", "hash:<hex>"); `bands[i]`
    is the signed 64-bit hash of LSH band i of `signature`.
    """

    article: Article
    keys: tuple[str, ...]
    canonical_url: str | None
    content_hash: str
    signature: bytes
    bands: tuple[int, ...]
    fetched: datetime


@dataclass(frozen=True)
class NewMatch:
    """A match to store; `channels` get a pending delivery if it is new in its story."""

    match: Match
    rule_version: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class StoryCandidate:
    """A stored article sharing an LSH band with the new one: its story and signature."""

    story_id: int
    signature: bytes


StoryPicker = Callable[[Sequence[StoryCandidate]], int | None]
"""Chooses the story a new article joins among the candidates, or None for a new story."""


@dataclass(frozen=True)
class IngestResult:
    """What ingest did; `new_matches` are the first of their rule in the story."""

    stored: bool
    story_id: int | None
    new_matches: tuple[Match, ...]


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
class StoredMatch:
    """A stored match; `notified` lists the channels that confirmed delivery."""

    match: Match
    article_id: str
    matched_at: datetime
    notified: tuple[str, ...]
