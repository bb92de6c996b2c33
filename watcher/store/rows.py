"""An article's rows as the store writes them, decided before any is written: the same
values on SQLite (a table at a time) and PostgreSQL (one statement, ingest_pg.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watcher.store.locations import places_json
from watcher.store.records import NewArticle, NewMatch, Route


class DuplicateArticle(Exception):
    """One of the article's keys is already stored (perhaps by another process just now)."""


class UnknownSource(Exception):
    """The source id given to store_article names no row: the caller's cache is stale."""


@dataclass(frozen=True)
class ArticleWrites:
    """Everything storing one article writes, once its reads have decided it: its story
    (None: a new one, inserted with it), whether each match is first in the story, and the
    deliveries to queue as (index of the match, route)."""

    new: NewArticle
    source_id: int
    story_id: int | None
    found: Sequence[NewMatch]
    first: Sequence[bool]
    queued: Sequence[tuple[int, Route]]
    now: datetime


def story_row(new: NewArticle, now: datetime) -> dict[str, Any]:
    return {"first_seen": now, "title": new.article.title}


def article_row(new: NewArticle, story_id: int | None, source_id: int) -> dict[str, Any]:
    """The article's row; `story_id` None when the story is inserted with it."""
    article = new.article
    return {
        "external_id": article.id,
        "source_id": source_id,
        "guid": article.guid,
        "url": article.url,
        "canonical_url": new.identity.canonical_url,
        "content_hash": new.identity.content_hash,
        "title": article.title,
        "body": article.body,
        "published": article.published,
        "fetched": new.fetched,
        "story_id": story_id,
        "signature": new.signature,
    }


def match_row(
    new: NewMatch, article_id: int | None, story_id: int | None, now: datetime, first: bool
) -> dict[str, Any]:
    match = new.match
    return {
        "rule_id": match.rule_id,
        "rule_version": new.rule_version,
        "article_id": article_id,
        "story_id": story_id,
        "severity": str(match.severity),
        "spans": [[span.start, span.end, span.field] for span in match.spans],
        "snippet": match.snippet,
        "matched_at": now,
        "first_in_story": first,
        "rule_title": new.rule_title,
        "query": new.query,
        "context": [[label.label, list(label.cues)] for label in match.context],
        "held": ",".join(match.held) or None,
        "old_news": new.old_news,
        "places": places_json(match.places),
    }


def pending_delivery(match_id: int | None, route: Route, now: datetime) -> dict[str, Any]:
    return {
        "match_id": match_id,
        "channel": route.channel,
        "status": "pending",
        "attempts": 0,
        "next_attempt": route.due or now,
        "created": now,
    }
