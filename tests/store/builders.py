"""Small builders for store tests: articles and matches with everything dedupe would compute."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from watcher.identity import Identity
from watcher.model import (
    Article,
    ContextLabel,
    ContextLabelName,
    Match,
    MatchPlace,
    PlaceRef,
    Severity,
    Span,
)
from watcher.store import NewArticle, NewMatch, Route, StoryCandidate

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BANDS = 4


def new_article(
    article_id: str,
    *,
    source: str = "seeds",
    title: str | None = None,
    story_band: int | None = None,
    fetched: datetime = NOW,
    published: datetime | None = None,
    body: str | None = None,
) -> NewArticle:
    """An article whose bands are its own, except band 0 when `story_band` is given.

    Articles built with the same `story_band` share band 0, so they are story candidates
    for each other.
    """
    body = body or f"Body of {article_id}."
    digest = hashlib.sha256(body.encode()).hexdigest()
    own = int.from_bytes(hashlib.sha256(article_id.encode()).digest()[:8], "big", signed=True)
    bands = tuple(own + i for i in range(BANDS))
    if story_band is not None:
        bands = (story_band, *bands[1:])
    article = Article(
        id=article_id,
        title=title or f"Title of {article_id}",
        body=body,
        url=f"https://example.org/{article_id}",
        published=published,
        source=source,
        guid=article_id,
    )
    return NewArticle(
        article=article,
        identity=Identity((f"guid:{source}:{article_id}", f"hash:{digest}"), article.url, digest),
        signature=digest.encode(),
        bands=bands,
        fetched=fetched,
    )


def new_match(
    new: NewArticle,
    rule_id: str = "siege",
    *,
    channels: Sequence[str] = ("ops",),
    severity: Severity = Severity.HIGH,
    due: datetime | None = None,
    cooldown: timedelta | None = None,
    places: tuple[MatchPlace, ...] = (),
    held: tuple[ContextLabelName, ...] = (),
    labels: tuple[ContextLabelName, ...] = (),
) -> NewMatch:
    match = Match(
        rule_id=rule_id,
        article_id=new.article.id,
        title=new.article.title,
        severity=severity,
        spans=(Span(0, 4, "title"), Span(5, 9, "body")),
        snippet="… a [siege] on …",
        places=places,
        held=held,
        context=tuple(ContextLabel(label, ("cue",)) for label in labels),
    )
    return NewMatch(
        match=match,
        rule_version="v1",
        routes=tuple(Route(channel, due) for channel in channels),
        rule_title=f"Rule {rule_id}",
        query=f"{rule_id} NEAR/5 Aleppo",
        cooldown_seconds=int(cooldown.total_seconds()) if cooldown else None,
    )


def new_story(candidates: Sequence[StoryCandidate]) -> int | None:
    return None


def oldest_story(candidates: Sequence[StoryCandidate]) -> int | None:
    return min(candidate.story_id for candidate in candidates)


def at(minute: int) -> datetime:
    """A moment `minute` minutes after NOW."""
    return NOW + timedelta(minutes=minute)


SYRIA = PlaceRef("geonames:163843", "Syria", "country")
ALEPPO_GOVERNORATE = PlaceRef("admin1:SY.09", "Aleppo Governorate", "governorate")
ALEPPO = PlaceRef("geonames:170063", "Aleppo", "city")
# Places as the gazetteer has them (watcher/places), for matches located there.
SHEIKH_MAQSOUD = MatchPlace(
    "watcher:aleppo-sheikh-maqsoud", "Sheikh Maqsoud", "neighbourhood", 36.232, 37.153,
    (ALEPPO, PlaceRef("watcher:sy-mount-simeon-district", "Mount Simeon District", "district"),
     ALEPPO_GOVERNORATE, SYRIA),
)
MANBIJ = MatchPlace(
    "geonames:167357", "Manbij", "town", 36.52815, 37.95495,
    (PlaceRef("watcher:sy-manbij-district", "Manbij District", "district"), ALEPPO_GOVERNORATE,
     SYRIA),
)
DAMASCUS_MIDAN = MatchPlace(
    "watcher:damascus-midan", "Midan", "neighbourhood", 33.49, None,
    (PlaceRef("geonames:170654", "Damascus", "city"),
     PlaceRef("admin1:SY.13", "Damascus Governorate", "governorate"), SYRIA),
)
