"""The delivery outbox: claiming due deliveries under a lease, recording each outcome.

A claim is a lease (`lease_until`, `lease_owner`), so two senders never hold one delivery
at once and a sender that died gives it back when the lease runs out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.model import Alert, ContextLabel, Severity, Span
from watcher.store.db import in_chunks
from watcher.store.locations import places_of
from watcher.store.records import DeliveryHold, DueDelivery, OwnerCheck, StoredDelivery
from watcher.store.tables import articles, deliveries, matches, sources


def claim_due(
    connection: Connection,
    now: datetime,
    *,
    owner: str,
    lease: timedelta,
    limit: int,
    channels: Sequence[str],
    is_dead: OwnerCheck | None = None,
) -> list[DueDelivery]:
    """Lease up to `limit` pending deliveries for `channels` (the ones the sender has
    configured) whose time has come and that no live sender holds, oldest due first, plus
    the other due ones of the same article and channel that the limit cut off: they go in
    one message. A lease runs out, or is free at once when `is_dead` proves its owner dead."""
    free = _lease_free(now)
    dead = _dead_owners(connection, now, owner, is_dead)
    if dead:  # still held by one of them in the UPDATE below, or not taken
        free = sa.or_(free, deliveries.c.lease_owner.in_(dead))
    due = (
        sa.select(deliveries.c.id)
        .where(deliveries.c.status == "pending", deliveries.c.next_attempt <= now)
        .where(deliveries.c.channel.in_(channels))
        .where(free)
        .order_by(deliveries.c.next_attempt, deliveries.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's write lock does this
    )
    ids = list(connection.scalars(due))
    if not ids:
        return []
    ids += _rest_of_articles(connection, ids, free, now)
    for chunk in in_chunks(ids):
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(chunk))
            .values(lease_until=now + lease, lease_owner=owner)
        )
    return _load_due(connection, ids)


def _rest_of_articles(
    connection: Connection, ids: list[int], free: sa.ColumnElement[bool], now: datetime
) -> list[int]:
    """The other due, free deliveries of the (article, channel) pairs of `ids`: queued
    together, they are due together, and one message carries them all (a claim's limit
    must not split them into two)."""
    pairs: set[tuple[int, str]] = set()
    for chunk in in_chunks(ids):
        picked = (
            sa.select(matches.c.article_id, deliveries.c.channel)
            .join(matches, deliveries.c.match_id == matches.c.id)
            .where(deliveries.c.id.in_(chunk))
        )
        pairs.update((row.article_id, row.channel) for row in connection.execute(picked))
    claimed, rest = set(ids), []
    for chunk in in_chunks(sorted({article for article, _ in pairs})):
        same_article = (
            sa.select(deliveries.c.id, deliveries.c.channel, matches.c.article_id)
            .join(matches, deliveries.c.match_id == matches.c.id)
            .where(deliveries.c.status == "pending", deliveries.c.next_attempt <= now)
            .where(matches.c.article_id.in_(chunk))
            .where(free)
            .order_by(deliveries.c.id)
            .with_for_update(skip_locked=True, of=deliveries)
        )
        rest += [row.id for row in connection.execute(same_article)
                 if row.id not in claimed and (row.article_id, row.channel) in pairs]
    return rest


def _dead_owners(
    connection: Connection, now: datetime, owner: str, is_dead: OwnerCheck | None
) -> list[str]:
    """The other owners of live leases that `is_dead` proves dead."""
    if is_dead is None:
        return []
    return [hold.owner for hold in holds(connection, now, owner) if is_dead(hold.owner)]


def _lease_free(now: datetime) -> sa.ColumnElement[bool]:
    """No sender holds the delivery: never leased, or its lease has run out."""
    return sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until <= now)


def make_pending_due(connection: Connection, now: datetime) -> None:
    """Every pending delivery due now: `deliveries flush` after an outage."""
    connection.execute(
        sa.update(deliveries)
        .where(deliveries.c.status == "pending", deliveries.c.next_attempt > now)
        .values(next_attempt=now)
    )


def drop_pending(connection: Connection, channel: str, now: datetime, reason: str) -> int:
    """Give up a channel's pending deliveries (dead, with `reason`), except those a sender
    holds under a live lease: it is sending them and records the outcome itself."""
    done = connection.execute(
        sa.update(deliveries)
        .where(
            deliveries.c.status == "pending",
            deliveries.c.channel == channel,
            _lease_free(now),
        )
        .values(status="dead", last_error=reason, lease_until=None, lease_owner=None)
    )
    return int(done.rowcount)


def mark_sent(connection: Connection, ids: Sequence[int], now: datetime, owner: str) -> None:
    """Record a success, only on deliveries this sender still holds: one whose lease ran
    out and another sender took is that sender's to record."""
    for chunk in in_chunks(list(ids)):
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(chunk), deliveries.c.lease_owner == owner)
            .values(
                status="sent",
                sent_at=now,
                attempts=deliveries.c.attempts + 1,
                lease_until=None,
                lease_owner=None,
            )
        )


def mark_silenced(
    connection: Connection, ids: Sequence[int], silence_id: int, owner: str
) -> None:
    """Record deliveries a silence held back: `silenced`, never sent, not even after the
    silence ends; only on deliveries this sender still holds."""
    for chunk in in_chunks(list(ids)):
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(chunk), deliveries.c.lease_owner == owner)
            .values(status="silenced", silence_id=silence_id, lease_until=None,
                    lease_owner=None)
        )


def mark_failed(
    connection: Connection,
    ids: Sequence[int],
    error: str,
    retry_at: datetime | None,
    owner: str,
) -> None:
    """Count a failed attempt: pending again from `retry_at`, or dead when it is None;
    only on deliveries this sender still holds (never undoing another sender's `sent`)."""
    status = "pending" if retry_at is not None else "dead"
    values: dict[str, Any] = {
        "status": status,
        "attempts": deliveries.c.attempts + 1,
        "last_error": error,
        "lease_until": None,
        "lease_owner": None,
    }
    if retry_at is not None:
        values["next_attempt"] = retry_at
    for chunk in in_chunks(list(ids)):
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(chunk), deliveries.c.lease_owner == owner)
            .values(values)
        )


def add_done_target(
    connection: Connection, delivery_id: int, target_key: str, owner: str
) -> None:
    """Remember that one of the channel's URLs took the alert, so a retry skips it."""
    mine = sa.and_(deliveries.c.id == delivery_id, deliveries.c.lease_owner == owner)
    row = connection.execute(sa.select(deliveries.c.done_targets).where(mine)).first()
    if row is None:  # the lease ran out and another sender holds it now
        return
    done = _done_targets(row.done_targets)
    if target_key not in done:
        connection.execute(
            sa.update(deliveries).where(mine).values(done_targets=json.dumps([*done, target_key]))
        )


def release(connection: Connection, ids: Sequence[int], owner: str) -> None:
    """Give back leases not used (a sender stopping), so others need not wait them out."""
    for chunk in in_chunks(list(ids)):
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(chunk), deliveries.c.lease_owner == owner)
            .values(lease_until=None, lease_owner=None)
        )


def holds(connection: Connection, now: datetime, owner: str) -> list[DeliveryHold]:
    """Pending deliveries under a live lease of an owner other than `owner`, per owner,
    most first."""
    count = sa.func.count().label("count")
    query = (
        sa.select(deliveries.c.lease_owner, count, sa.func.max(deliveries.c.lease_until))
        .where(deliveries.c.status == "pending", deliveries.c.lease_until > now)
        .where(deliveries.c.lease_owner != owner)
        .group_by(deliveries.c.lease_owner)
        .order_by(count.desc(), deliveries.c.lease_owner)
    )
    return [DeliveryHold(held_by, int(number), until)
            for held_by, number, until in connection.execute(query)]


def list_deliveries(
    connection: Connection, status: str | None, limit: int | None
) -> list[StoredDelivery]:
    """Outbox rows, newest first."""
    query = (
        sa.select(deliveries, matches.c.rule_id, articles.c.external_id, articles.c.title)
        .join(matches, deliveries.c.match_id == matches.c.id)
        .join(articles, matches.c.article_id == articles.c.id)
        .order_by(deliveries.c.created.desc(), deliveries.c.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(deliveries.c.status == status)
    return [
        StoredDelivery(
            id=row.id,
            rule_id=row.rule_id,
            article_id=row.external_id,
            title=row.title,
            channel=row.channel,
            status=row.status,
            attempts=row.attempts,
            created=row.created,
            next_attempt=row.next_attempt,
            sent_at=row.sent_at,
            last_error=row.last_error,
            silence_id=row.silence_id,
        )
        for row in connection.execute(query)
    ]


def pending_by_channel(connection: Connection) -> dict[str, int]:
    query = (
        sa.select(deliveries.c.channel, sa.func.count())
        .where(deliveries.c.status == "pending")
        .group_by(deliveries.c.channel)
    )
    return {channel: int(count) for channel, count in connection.execute(query)}


def status_counts(connection: Connection) -> dict[str, int]:
    query = sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
    return {status: int(count) for status, count in connection.execute(query)}


def _load_due(connection: Connection, ids: list[int]) -> list[DueDelivery]:
    rows = []
    for chunk in in_chunks(ids):
        query = (
            sa.select(
                deliveries.c.id,
                deliveries.c.channel,
                deliveries.c.attempts,
                deliveries.c.done_targets,
                deliveries.c.next_attempt,
                deliveries.c.created,
                matches.c.rule_id,
                matches.c.rule_title,
                matches.c.severity,
                matches.c.query,
                matches.c.snippet,
                matches.c.matched_at,
                matches.c.context,
                matches.c.places,
                matches.c.story_id,
                matches.c.article_id,
                matches.c.spans,
                articles.c.external_id,
                articles.c.title,
                articles.c.url,
                articles.c.published,
                sources.c.name.label("source"),
            )
            .join(matches, deliveries.c.match_id == matches.c.id)
            .join(articles, matches.c.article_id == articles.c.id)
            .join(sources, articles.c.source_id == sources.c.id)
            .where(deliveries.c.id.in_(chunk))
        )
        rows.extend(connection.execute(query))
    rows.sort(key=lambda row: (row.next_attempt, row.id))
    outlets = _story_outlets(connection, list({row.story_id for row in rows}))
    return [_due(row, outlets.get(row.story_id, ())) for row in rows]


def _story_outlets(connection: Connection, story_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Per story, the sources that carried it, in the order they first did."""
    found: dict[int, list[str]] = {}
    for chunk in in_chunks(story_ids):
        query = (
            sa.select(articles.c.story_id, sources.c.name)
            .join(sources, articles.c.source_id == sources.c.id)
            .where(articles.c.story_id.in_(chunk))
            .group_by(articles.c.story_id, sources.c.name)
            .order_by(articles.c.story_id, sa.func.min(articles.c.id))
        )
        for story_id, name in connection.execute(query):
            found.setdefault(story_id, []).append(name)
    return {story_id: tuple(names) for story_id, names in found.items()}


def _due(row: sa.Row[Any], outlets: tuple[str, ...]) -> DueDelivery:
    alert = Alert(
        delivery_id=row.id,
        rule_id=row.rule_id,
        rule_title=row.rule_title or row.rule_id,
        severity=Severity.parse(row.severity),
        query=row.query or "",
        article_title=row.title,
        source=row.source,
        url=row.url,
        published=row.published,
        snippet=row.snippet,
        other_outlets=tuple(name for name in outlets if name != row.source),
        matched_at=row.matched_at,
        article_id=row.external_id,
        story_id=row.story_id,
        spans=tuple(Span(start, end, field) for start, end, field in row.spans),
        context=tuple(ContextLabel(label, tuple(cues)) for label, cues in row.context or ()),
        places=places_of(row.places),
    )
    return DueDelivery(row.id, row.channel, row.attempts, tuple(_done_targets(row.done_targets)),
                       alert, row.created, row.article_id)


def _done_targets(text: str | None) -> list[str]:
    return list(json.loads(text)) if text else []
