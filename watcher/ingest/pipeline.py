"""Ingest one article end to end: check, identify, dedupe, analyse, match, route, store.

`watcher replay`, the daemon and the tests all call `Pipeline.ingest`, so every article
takes the same path; storing it, its matches and its pending deliveries is all or nothing
(a savepoint in its batch's transaction on SQLite, its own transaction on PostgreSQL).
An article's identity is computed once (watcher/identity.py `identify`) and stored as it
is; which channels get a match is routing.py's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from hashlib import blake2b
from typing import Literal

from watcher.engine.matcher import Matcher
from watcher.errors import StoreError
from watcher.identity import Identity, identify, plausible_published, refusal_reason
from watcher.ingest.routing import NEWS, ChannelSettings, Freshness, Routing, old_news
from watcher.ingest.stories import (
    SAME_STORY,
    similarity,
    story_signature,
)
from watcher.model import Article, Match
from watcher.rules.ast import Rule
from watcher.store import (
    IngestItem,
    IngestResult,
    NewArticle,
    NewMatch,
    Store,
    StoryCandidate,
)
from watcher.store.claims import CLAIM_WAIT_SECONDS

Status = Literal["new", "duplicate", "refused"]

# Articles analysed together before any of them is stored: a feed of 100,000 entries is
# stored as it goes, so a poll cut short keeps what it stored and the next one goes on.
INGEST_BATCH = 200
# Articles checked, claimed, analysed and stored together inside a batch: a claim lasts
# until its chunk is stored (32 articles, not 200), and a chunk's claims are few locks
# (watcher/store/claims.py).
ANALYSIS_CHUNK = 32


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
class Identified:
    """An article with its identity computed once: the identity of its text as stored (NUL
    characters removed). `Pipeline.known` asks the store with it, and `ingest_many` takes it
    as it is instead of identifying the article again."""

    article: Article
    identity: Identity


@dataclass(frozen=True)
class _RuleSet:
    """The matcher and the rules it was built from, by id (what a match's rule id reads):
    one value, so a reload replaces both at once."""

    matcher: Matcher
    by_id: Mapping[str, Rule]
    # Each rule's `rule_version`, found when a match of it is first stored: the repr of a
    # query holding a list of hundreds of place names costs a millisecond or more.
    _versions: dict[str, str] = field(default_factory=dict, compare=False)

    def version(self, rule_id: str) -> str:
        """The rule's `rule_version`, computed once per rule set."""
        found = self._versions.get(rule_id)
        if found is None:
            found = self._versions[rule_id] = rule_version(self.by_id[rule_id])
        return found

    @classmethod
    def of(cls, matcher: Matcher) -> _RuleSet:
        return cls(matcher, {rule.id: rule for rule in matcher.rules.rules})


class Pipeline:
    """The ingest path over one rule set (swapped by `use_matcher` when rules reload), one
    store and the configured channels."""

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
        self.batch_size = batch_size
        self.store = store
        self.routing = Routing(channels or {}, notify)
        self.now = now
        self._rule_set = _RuleSet.of(matcher)

    @property
    def matcher(self) -> Matcher:
        """The matcher in use now."""
        return self._rule_set.matcher

    def use_matcher(self, matcher: Matcher) -> None:
        """Match with `matcher` (the rules reloaded) from the next batch on. The matcher and
        the rules it holds are swapped as one value, and each batch reads it once, as it
        starts: an ingest running meanwhile in another thread (a poll) matches its batches
        that started before the swap with the old rules, the batches after it with the new
        ones, each batch wholly with one set, never a mix."""
        self._rule_set = _RuleSet.of(matcher)

    def identified(self, articles: Sequence[Article]) -> list[Identified]:
        """Each article with its identity, for `known` and then `ingest_many`."""
        return [Identified(article, identify(without_nuls(article))) for article in articles]

    def known(self, entries: Sequence[Identified]) -> list[bool]:
        """Whether each entry is already stored (so a poller need not fetch its page): one
        store query for them all.

        With full text, an entry's identity is needed before its page is fetched; the
        article with its page's text is another text, so it is identified again when it is
        ingested. An entry ingested as it is (known, or no page text for it) is not."""
        stored = self.store.known_keys([key for e in entries for key in e.identity.keys])
        return [not stored.isdisjoint(entry.identity.keys) for entry in entries]

    def ingest(self, article: Article, freshness: Freshness = NEWS) -> Outcome:
        """Store the article once and return its new matches; never raises for bad content."""
        return next(self.ingest_many([article], freshness))

    def ingest_many(
        self, articles: Sequence[Article | Identified], freshness: Freshness = NEWS,
        *, until: Callable[[], bool] = lambda: False, claim_wait: float = CLAIM_WAIT_SECONDS,
    ) -> Iterator[Outcome]:
        """`ingest` for several articles, in order, `batch_size` at a time: the ones of a
        batch not yet stored are analysed together (cheaper, ANALYSIS_CHUNK at a time; an
        article another poll is analysing right then is left until that poll has stored it,
        and comes after the rest of its batch, waited for at most `claim_wait` seconds:
        `_ingest_claimed`), then stored a transaction at
        a time (on SQLite several articles in one, each in a savepoint; docs/storage.md),
        and each outcome is yielded once its transaction has committed, before the next
        batch is analysed. Once `until()` is true (a shutdown), the transaction ends with
        the article in hand and ingest stops there: every article stored has its outcome
        yielded, and no more is stored. An article the database refuses is rolled back alone: the
        batch's other articles are stored and yielded, then its StoreError is raised. Any
        other database failure raises at once, the transaction's articles not stored; every
        outcome yielded before is stored, and a caller that stops mid-way leaves what was
        stored, which the next call finds with one query a batch.
        Each batch is matched with the rules in use as it starts (`use_matcher`).
        `freshness` tells which articles are old news (stored and matched, not alerted:
        routing.old_news); by default none is."""
        for start in range(0, len(articles), self.batch_size):
            if start and until():
                return
            yield from self._ingest_claimed(articles[start:start + self.batch_size], freshness,
                                            until, claim_wait)

    def _ingest_claimed(
        self, batch: Sequence[Article | Identified], freshness: Freshness,
        until: Callable[[], bool], claim_wait: float,
    ) -> Iterator[Outcome]:
        """The batch ANALYSIS_CHUNK at a time, each article analysed by one poll: those
        another poll (a thread of this worker, or another worker) is analysing are left
        until the batch's others are done, then, once that poll's claims have ended, asked
        for again and so found stored instead of analysed twice (watcher/store/claims.py).
        Their outcomes come after the batch's others. An article the database refuses
        stops neither its chunk nor the batch: the first refusal is raised once the rest of
        the batch (the articles left for later too) is stored and yielded."""
        refused: list[StoreError] = []
        yield from self._claimed_chunks(batch, freshness, until, claim_wait, refused)
        if refused:
            raise _first_refusal(refused)

    def _claimed_chunks(
        self, batch: Sequence[Article | Identified], freshness: Freshness,
        until: Callable[[], bool], claim_wait: float, refused: list[StoreError],
    ) -> Iterator[Outcome]:
        later: list[Identified] = []
        for first in range(0, len(batch), ANALYSIS_CHUNK):
            if first and until():
                return
            yield from self._ingest_batch(batch[first:first + ANALYSIS_CHUNK], freshness, until,
                                          later, refused)
        if not later or until():
            return
        self.store.wait_for_claims([item.identity.content_key for item in later], until,
                                   claim_wait)
        for first in range(0, len(later), ANALYSIS_CHUNK):
            if until():
                return
            yield from self._ingest_batch(later[first:first + ANALYSIS_CHUNK], freshness, until,
                                          None, refused)

    def _ingest_batch(
        self, items: Sequence[Article | Identified], freshness: Freshness,
        until: Callable[[], bool], later: list[Identified] | None,
        refused: list[StoreError],
    ) -> Iterator[Outcome]:
        """Check, claim, analyse and store the items; those claimed elsewhere go to `later`
        unanalysed (None: analysed all the same, after a wait for their claims), those the
        database refuses to `refused`."""
        now = self.now()
        rule_set = self._rule_set  # read once: a reload meanwhile applies to the next batch
        checked = self._check_all(items, now)
        fresh = [item for item in checked if isinstance(item, Identified)]
        with self.store.analysis_claims([item.identity.content_key for item in fresh]) as taken:
            if later is not None:  # claimed by another poll: asked for again once it is done
                later.extend(item for item in fresh if item.identity.content_key in taken)
                checked = [item for item in checked if not _claimed_by(item, taken)]
                fresh = [item for item in fresh if item.identity.content_key not in taken]
            yield from self._analysed_and_stored(checked, fresh, rule_set, now, freshness, until,
                                                 refused)

    def _analysed_and_stored(
        self, checked: Sequence[Identified | Outcome], fresh: Sequence[Identified],
        rule_set: _RuleSet, now: datetime, freshness: Freshness, until: Callable[[], bool],
        refused: list[StoreError],
    ) -> Iterator[Outcome]:
        """Analyse `fresh` together, store them, and yield the outcome of each of `checked`
        (its articles are `fresh`, in order); a refusal goes to `refused`, raised by the
        caller once the batch is done."""
        found = rule_set.matcher.match_many([item.article for item in fresh])
        stored = self._stored([
            self._ingest_item(item, matches, rule_set, now, freshness)
            for item, matches in zip(fresh, found, strict=True)
        ], until)
        for item in checked:
            if not isinstance(item, Identified):
                yield item
                continue
            result = next(stored, None)
            if result is None:  # `until`: stopped after a transaction
                break
            if isinstance(result, StoreError):
                refused.append(result)
            else:
                yield _outcome(item, result)

    def _stored(
        self, items: Sequence[IngestItem], until: Callable[[], bool]
    ) -> Iterator[IngestResult | StoreError]:
        """The store's result of each item, in order, a transaction at a time: each one's
        only once its transaction has committed; none after the first transaction that
        ends with `until()` true."""
        start = 0
        while start < len(items) and not (start and until()):
            results = self.store.ingest_batch(items[start:], until)
            start += len(results)
            yield from results

    def _check_all(
        self, items: Sequence[Article | Identified], now: datetime
    ) -> list[Identified | Outcome]:
        """Each article cleaned with its identity, or its outcome when it needs no more work;
        one store query for the whole batch tells which are already stored."""
        checked = [_checked(item, now) for item in items]
        known = self.store.known_keys(
            [key for c in checked if isinstance(c, Identified) for key in c.identity.keys]
        )
        return [
            Outcome(c.article, "duplicate")
            if isinstance(c, Identified) and not known.isdisjoint(c.identity.keys) else c
            for c in checked
        ]

    def _ingest_item(
        self, item: Identified, matches: list[Match], rule_set: _RuleSet, now: datetime,
        freshness: Freshness,
    ) -> IngestItem:
        new = _new_article(item, now)
        old = old_news(item.article.published, now, freshness)
        return IngestItem(
            new,
            [self._new_match(found, rule_set, now, old) for found in matches],
            pick_story=lambda candidates: pick_story(candidates, new.signature),
            now=now,
        )

    def _new_match(
        self, found: Match, rule_set: _RuleSet, now: datetime, old: str | None
    ) -> NewMatch:
        rule = rule_set.by_id[found.rule_id]
        return NewMatch(
            match=found,
            rule_version=rule_set.version(rule.id),
            routes=self.routing.routes(rule, found.severity, now, held=bool(found.held),
                                       old=old),
            rule_title=rule.title,
            query=rule.query_text,
            cooldown_seconds=rule.cooldown_seconds,
            old_news=old,
        )


def _outcome(item: Identified, result: IngestResult) -> Outcome:
    if not result.stored:  # stored meanwhile: by another process, or earlier in the batch
        return Outcome(item.article, "duplicate")
    return Outcome(item.article, "new", story=result.story_id, new_matches=result.new_matches)


def _first_refusal(refused: Sequence[StoreError]) -> StoreError:
    """The first article's refusal, saying how many more of the batch were refused (each
    is tried again, and said, by the next run)."""
    first = refused[0]
    if len(refused) == 1:
        return first
    more = len(refused) - 1
    return StoreError(f"{first}; {more} more article{'s' if more > 1 else ''} of the batch "
                      "not stored either", failure=first.failure)


def _checked(item: Article | Identified, now: datetime) -> Identified | Outcome:
    """The article refused, or cleaned with its identity: the one it came with, else
    computed now."""
    article = item.article if isinstance(item, Identified) else item
    reason = refusal_reason(article)
    if reason:
        return Outcome(article, "refused", reason)
    cleaned = clean_article(article, now)
    return Identified(cleaned, item.identity if isinstance(item, Identified) else identify(cleaned))


def _new_article(item: Identified, now: datetime) -> NewArticle:
    signature = story_signature(item.article.title, item.article.body)
    return NewArticle(
        article=item.article,
        identity=item.identity,
        signature=signature.values,
        bands=signature.bands,
        fetched=now,
    )


def clean_article(article: Article, now: datetime) -> Article:
    """The article as stored: its text `without_nuls`, its published time as
    identity.plausible_published keeps it."""
    published = plausible_published(article.published, now)
    article = without_nuls(article)
    return article if published == article.published else replace(article, published=published)


def without_nuls(article: Article) -> Article:
    """The article's text as stored: NUL characters removed (PostgreSQL text cannot hold
    them). Its identity is that of this text."""
    title, body = article.title.replace("\x00", ""), article.body.replace("\x00", "")
    if (title, body) == (article.title, article.body):
        return article
    return replace(article, title=title, body=body)


def pick_story(candidates: Sequence[StoryCandidate], signature: bytes) -> int | None:
    """The most similar existing story at or above SAME_STORY, else None (a new story)."""
    best, best_score = None, SAME_STORY
    for candidate in candidates:
        score = similarity(signature, candidate.signature)
        if score >= best_score:
            best, best_score = candidate.story_id, score
    return best


def rule_version(rule: Rule) -> str:
    """A short fingerprint of what decides whether the rule fires (its expanded query and
    sources), so a stored match says which version of the rule made it."""
    text = repr((rule.query, rule.sources, rule.severity.name))
    return blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def _claimed_by(item: Identified | Outcome, taken: set[str]) -> bool:
    """Whether the item is an article another poll claimed (left for later)."""
    return isinstance(item, Identified) and item.identity.content_key in taken
