"""`GET /api/stories/{id}` as pydantic models, so /api/openapi.json describes the answer:
the story page's content for programs (snippets as marked pieces, explanations as lines)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from watcher.store.story_view import StoryCopy, StoryDelivery, StoryMatch, StoryView
from watcher.web.explaining import Why
from watcher.web.snippets import snippet_pieces


class CopyOut(BaseModel):
    """An outlet's copy of the story."""

    id: str = Field(description="The article's own id (its feed's guid, or watcher's)")
    source: str
    title: str
    url: str | None = Field(description="As the feed gave it: check the scheme before linking")
    published: datetime | None
    fetched: datetime


class PieceOut(BaseModel):
    text: str
    marked: bool = Field(description="A word of the article the rule matched")


class SpanOut(BaseModel):
    field: str = Field(description="title or body")
    start: int
    end: int


class ContextOut(BaseModel):
    label: str = Field(description="historical, ended, negated, hypothetical or boilerplate")
    cues: list[str] = Field(description="The article's words that decided the label")


class PlaceRefOut(BaseModel):
    id: str
    name: str
    kind: str


class PlaceOut(PlaceRefOut):
    latitude: float | None
    longitude: float | None
    parents: list[PlaceRefOut] = Field(description="What it lies in, nearest first")


class LineOut(BaseModel):
    depth: int
    text: str
    holds: bool | None = Field(description="A clause: whether it holds; null for a note")
    excludes: bool = Field(False, description="A NOT IN's right side: where it occurs it "
                                              "leaves the left side out (`[-]` in text)")


class WhyOut(BaseModel):
    """`watcher explain --rule RULE ARTICLE` now, or a note saying why not."""

    verdict: str = Field(description="matches, matches, held back, or no match; empty: see note")
    lines: list[LineOut]
    note: str | None
    query_now: str | None = Field(
        description="The rule's query now, when it is not the one stored with the match")


class MatchOut(BaseModel):
    rule: str
    rule_title: str | None
    query: str | None = Field(description="The rule's query when it fired")
    article: str
    source: str
    severity: str
    snippet: str = Field(description="As stored: [word] marks a match, \\[ a bracket")
    pieces: list[PieceOut]
    spans: list[SpanOut]
    context: list[ContextOut]
    held: list[str] = Field(description="Context labels that held it back (not alerted)")
    old_news: str | None = Field(description="Why it was old news and not alerted")
    places: list[PlaceOut]
    matched_at: datetime
    why: WhyOut | None = Field(description="Absent when asked with explain=false")


class DeliveryOut(BaseModel):
    channel: str
    status: str = Field(description="pending, sent, dead or silenced")
    rule: str
    article: str
    attempts: int
    created: datetime
    sent_at: datetime | None
    last_error: str | None


class StoryOut(BaseModel):
    """A story: the lists stop at their bounds, the totals count them all."""

    id: int
    title: str
    first_seen: datetime
    status: str = Field(description="open, acknowledged or closed")
    assignee: str | None
    outlets: list[str] = Field(description="Sources that carried it, first one first")
    rules: list[str]
    copies: list[CopyOut]
    copies_total: int
    matches: list[MatchOut]
    matches_total: int
    deliveries: list[DeliveryOut]
    deliveries_total: int


def story_out(story: StoryView, whys: dict[int, Why] | None) -> StoryOut:
    """The story as the API answers it; `whys` by match row (None: not explained)."""
    return StoryOut(
        id=story.id, title=story.title, first_seen=story.first_seen, status=story.status,
        assignee=story.assignee, outlets=list(dict.fromkeys(c.source for c in story.copies)),
        rules=list(story.rules), copies=[_copy(c) for c in story.copies],
        copies_total=story.copies_total,
        matches=[_match(m, None if whys is None else whys.get(m.row)) for m in story.matches],
        matches_total=story.matches_total,
        deliveries=[_delivery(d) for d in story.deliveries],
        deliveries_total=story.deliveries_total,
    )


def _copy(copy: StoryCopy) -> CopyOut:
    return CopyOut(id=copy.id, source=copy.source, title=copy.title, url=copy.url,
                   published=copy.published, fetched=copy.fetched)


def _match(match: StoryMatch, why: Why | None) -> MatchOut:
    return MatchOut(
        rule=match.rule_id, rule_title=match.rule_title, query=match.query,
        article=match.article_id, source=match.source, severity=match.severity.name.lower(),
        snippet=match.snippet,
        pieces=[PieceOut(text=text, marked=marked) for text, marked in
                snippet_pieces(match.snippet)],
        spans=[SpanOut(field=s.field, start=s.start, end=s.end) for s in match.spans],
        context=[ContextOut(label=c.label, cues=list(c.cues)) for c in match.context],
        held=list(match.held), old_news=match.old_news,
        places=[PlaceOut(id=p.id, name=p.name, kind=p.kind, latitude=p.latitude,
                         longitude=p.longitude,
                         parents=[PlaceRefOut(id=r.id, name=r.name, kind=r.kind)
                                  for r in p.parents])
                for p in match.places],
        matched_at=match.matched_at, why=None if why is None else _why(why),
    )


def _why(why: Why) -> WhyOut:
    return WhyOut(verdict=why.verdict, note=why.note or None, query_now=why.query_now or None,
                  lines=[LineOut(depth=line.depth, text=line.text, holds=line.holds,
                                 excludes=line.excludes) for line in why.lines])


def _delivery(delivery: StoryDelivery) -> DeliveryOut:
    return DeliveryOut(channel=delivery.channel, status=delivery.status, rule=delivery.rule_id,
                       article=delivery.article_id, attempts=delivery.attempts,
                       created=delivery.created, sent_at=delivery.sent_at,
                       last_error=delivery.last_error)
