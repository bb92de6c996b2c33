"""Ingest one article end to end: check, identify, dedupe, analyse, match, store.

`watcher replay`, the daemon and the tests all call `Pipeline.ingest`, so every article
takes the same path; storing it, its matches and its pending deliveries is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from hashlib import blake2b
from typing import Literal, Protocol

from watcher.engine.matcher import Matcher
from watcher.identity import (
    canonical_url,
    content_hash,
    identity_keys,
    plausible_published,
    refusal_reason,
)
from watcher.ingest.stories import (
    SAME_STORY,
    similarity,
    story_signature,
)
from watcher.model import Article, Match, Severity
from watcher.notify.digest import DigestSchedule, next_digest
from watcher.rules.ast import Rule
from watcher.store import NewArticle, NewMatch, Route, Store, StoryCandidate

Status = Literal["new", "duplicate", "refused"]

# Articles analysed together before any of them is stored: a feed of 100,000 entries is
# stored as it goes, so a poll cut short keeps what it stored and the next one goes on.
INGEST_BATCH = 200


class ChannelSettings(Protocol):
    """What routing reads of a configured channel (config.ChannelSettings)."""

    default: bool
    min_severity: Severity
    digest: DigestSchedule | None


@dataclass(frozen=True)
class Outcome:
    """What happened to one article: stored as new, already known, or refused and why.

    `new_matches` are the matches that are the first of their rule in the article's story:
    the ones printed by `watcher replay` and sent to channels.
    """

    article: Article
    status: Status
    reason: str = ""
    story: int | None = None
    new_matches: tuple[Match, ...] = ()


@dataclass(frozen=True)
class Keyed:
    """An article ready for analysis, with the identity keys computed once for it."""

    article: Article
    keys: tuple[str, ...]


class Pipeline:
    """The ingest path over one rule set, one store and the configured channels."""

    def __init__(
        self,
        *,
        matcher: Matcher,
        store: Store,
        channels: Mapping[str, ChannelSettings] | None = None,
        notify: bool = True,
        now: Callable[[], datetime],
        batch_size: int = INGEST_BATCH,
    ) -> None:
        self.matcher = matcher
        self.batch_size = batch_size
        self.store = store
        self.channels = channels or {}
        self.notify = notify
        self.now = now
        self._rules = {rule.id: rule for rule in matcher.rules.rules}

    def known(self, articles: Sequence[Article]) -> list[bool]:
        """Whether each article is already stored (so a poller need not fetch its page):
        one store query for them all."""
        keys = [identity_keys(article) for article in articles]
        stored = self.store.known_keys([key for some in keys for key in some])
        return [not stored.isdisjoint(some) for some in keys]

    def ingest(self, article: Article) -> Outcome:
        """Store the article once and return its new matches; never raises for bad content."""
        return next(self.ingest_many([article]))

    def ingest_many(self, articles: Sequence[Article]) -> Iterator[Outcome]:
        """`ingest` for several articles, in order, `batch_size` at a time: the ones of a
        batch not yet stored are analysed together (cheaper), then each is stored in its
        own transaction as it is yielded, before the next batch is analysed. A database
        failure leaves every earlier outcome already reported, and a caller that stops
        mid-way leaves what was stored, which the next call finds with one query a batch."""
        for start in range(0, len(articles), self.batch_size):
            yield from self._ingest_batch(articles[start:start + self.batch_size])

    def _ingest_batch(self, articles: Sequence[Article]) -> Iterator[Outcome]:
        now = self.now()
        checked = self._check_all(articles, now)
        fresh = [item for item in checked if isinstance(item, Keyed)]
        found = iter(self.matcher.match_many([item.article for item in fresh]))
        for item in checked:
            yield self._store(item, next(found), now) if isinstance(item, Keyed) else item

    def _check_all(self, articles: Sequence[Article], now: datetime) -> list[Keyed | Outcome]:
        """Each article cleaned with its identity keys, or its outcome when it needs no more
        work; one store query for the whole batch tells which are already stored."""
        cleaned: list[Keyed | Outcome] = []
        for article in articles:
            reason = refusal_reason(article)
            if reason:
                cleaned.append(Outcome(article, "refused", reason))
            else:
                article = clean_article(article, now)
                cleaned.append(Keyed(article, identity_keys(article)))
        known = self.store.known_keys([k for c in cleaned if isinstance(c, Keyed) for k in c.keys])
        return [
            Outcome(c.article, "duplicate") if isinstance(c, Keyed) and known & set(c.keys) else c
            for c in cleaned
        ]

    def _store(self, item: Keyed, matches: list[Match], now: datetime) -> Outcome:
        article = item.article
        new = self._new_article(article, item.keys, now)
        result = self.store.ingest(
            new,
            [self._new_match(found, now) for found in matches],
            pick_story=lambda candidates: pick_story(candidates, new.signature),
            now=now,
        )
        if not result.stored:  # stored meanwhile: by another process, or earlier in the batch
            return Outcome(article, "duplicate")
        return Outcome(article, "new", story=result.story_id, new_matches=result.new_matches)

    def _new_article(self, article: Article, keys: tuple[str, ...], now: datetime) -> NewArticle:
        signature = story_signature(article.title, article.body)
        return NewArticle(
            article=article,
            keys=keys,
            canonical_url=canonical_url(article.url),
            content_hash=content_hash(article.title, article.body),
            signature=signature.values,
            bands=signature.bands,
            fetched=now,
        )

    def _new_match(self, found: Match, now: datetime) -> NewMatch:
        rule = self._rules[found.rule_id]
        # A held-back match (watcher/engine/context.py) is stored, never routed.
        routed = self.notify and not found.held
        channels = channels_for(rule, found.severity, self.channels) if routed else ()
        return NewMatch(
            match=found,
            rule_version=rule_version(rule),
            routes=tuple(route_to(name, self.channels[name], now) for name in channels),
            rule_title=rule.title,
            query=rule.query_text,
            cooldown_seconds=rule.cooldown_seconds,
        )


def clean_article(article: Article, now: datetime) -> Article:
    """The article as stored: NUL characters removed (PostgreSQL text cannot hold them),
    its published time as identity.plausible_published keeps it."""
    published = plausible_published(article.published, now)
    title, body = article.title.replace("\x00", ""), article.body.replace("\x00", "")
    if (title, body, published) == (article.title, article.body, article.published):
        return article
    return replace(article, title=title, body=body, published=published)


def pick_story(candidates: Sequence[StoryCandidate], signature: bytes) -> int | None:
    """The most similar existing story at or above SAME_STORY, else None (a new story)."""
    best, best_score = None, SAME_STORY
    for candidate in candidates:
        score = similarity(signature, candidate.signature)
        if score >= best_score:
            best, best_score = candidate.story_id, score
    return best


def channels_for(
    rule: Rule, severity: Severity, channels: Mapping[str, ChannelSettings]
) -> tuple[str, ...]:
    """Channels that get this match: the rule's `notify:`, else the default channels;
    each only if the match reaches its `min_severity`."""
    names = rule.notify or tuple(name for name, ch in channels.items() if ch.default)
    return tuple(n for n in names if n in channels and severity >= channels[n].min_severity)


def route_to(name: str, channel: ChannelSettings, now: datetime) -> Route:
    """A digest channel's alerts wait for its next boundary; others go at once."""
    return Route(name, next_digest(channel.digest, now) if channel.digest else None)


def rule_version(rule: Rule) -> str:
    """A short fingerprint of what decides whether the rule fires (its expanded query and
    sources), so a stored match says which version of the rule made it."""
    text = repr((rule.query, rule.sources, rule.severity.name))
    return blake2b(text.encode("utf-8"), digest_size=6).hexdigest()
