"""Feed polling state in the sources table: where to fetch, validators, backoff, errors.

The daemon reads a source's state before a poll and records the outcome after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.store.records import OwnerCheck
from watcher.store.tables import sources

BUSY = "being polled by another worker"


@dataclass(frozen=True)
class SourceState:
    """What is known of one source; `url` is where to fetch (a 301/308 may have moved it)."""

    name: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_poll: datetime | None = None
    last_success: datetime | None = None
    next_poll_after: datetime | None = None
    new_items: int = 0
    error_count: int = 0
    last_error: str | None = None
    last_warning: str | None = None
    disabled_reason: str | None = None
    baseline_at: datetime | None = None  # its baseline poll; None: the next one with entries


@dataclass(frozen=True)
class PollRecord:
    """The outcome of one poll. `error` None means the feed was fetched (or was unchanged);
    validators are what to send next time; `new_items` counts new articles stored;
    `baseline` says this poll was the source's baseline (a success with entries, the
    first), so the next ones are not."""

    polled_at: datetime
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    new_items: int = 0
    warning: str | None = None
    moved_to: str | None = None
    disabled_reason: str | None = None
    next_poll_after: datetime | None = None
    owner: str | None = None  # the worker whose claim this poll was (freed if still its)
    baseline: bool = False


STATE_COLUMNS = tuple(
    sources.c[name] for name in SourceState.__dataclass_fields__ if name != "name"
)


def prepare_source(connection: Connection, name: str, config_url: str) -> SourceState:
    """The source's state, created on first sight; a URL changed in watcher.yaml starts over
    (new URL, no validators, no backoff, enabled again, and another feed's backlog: its
    next poll with entries is a baseline again)."""
    row = connection.execute(sa.select(sources).where(sources.c.name == name)).first()
    fresh = {"url": config_url, "config_url": config_url, "etag": None, "last_modified": None,
             "next_poll_after": None, "disabled_reason": None, "baseline_at": None}
    if row is None:
        try:
            with connection.begin_nested():  # another worker may create it at the same moment
                connection.execute(sa.insert(sources).values(name=name, **fresh))
        except sa.exc.IntegrityError:
            pass  # it did: the row is there now, with the same configured URL
    elif row.config_url != config_url:
        connection.execute(sa.update(sources).where(sources.c.name == name).values(**fresh))
    return source_state(connection, name)


def claim_poll(
    connection: Connection,
    name: str,
    config_url: str,
    now: datetime,
    *,
    owner: str,
    lease: timedelta,
    not_polled_since: datetime | None,
    is_dead: OwnerCheck | None = None,
) -> tuple[SourceState, str | None]:
    """The source's state and, if this worker may poll it now, None after taking its poll
    lease; otherwise why not: disabled, backing off, another worker's lease, or polled
    (by any worker) at or after `not_polled_since`. A lease whose owner `is_dead` proves
    dead is taken at once; without it, only a lease run out is."""
    state = prepare_source(connection, name, config_url)
    refusal = _refusal(state, now, not_polled_since)
    if refusal:
        return state, refusal
    # The conditions again inside the UPDATE: on PostgreSQL another worker may have
    # finished its poll since the read above, and only the UPDATE sees its commit.
    # Not even this worker's own live claim: its takeover retry and its interval timer
    # must not poll one source twice at once.
    free = sa.or_(sources.c.poll_lease_until.is_(None), sources.c.poll_lease_until <= now)
    dead = _dead_holder(connection, name, now, is_dead)
    if dead is not None:  # still held by that owner in the UPDATE, or not taken
        free = sa.or_(free, sources.c.poll_owner == dead)
    due = sources.c.disabled_reason.is_(None)
    if not_polled_since is not None:
        due = sa.and_(due, sa.or_(sources.c.last_poll.is_(None),
                                  sources.c.last_poll < not_polled_since))
    taken = connection.execute(
        sa.update(sources).where(sources.c.name == name, free, due)
        .values(poll_lease_until=now + lease, poll_owner=owner)
    )
    if taken.rowcount == 1:
        return state, None
    state = source_state(connection, name)
    return state, _refusal(state, now, not_polled_since) or BUSY


def _dead_holder(
    connection: Connection, name: str, now: datetime, is_dead: OwnerCheck | None
) -> str | None:
    """The owner of the source's live poll lease, when it is proven dead."""
    if is_dead is None:
        return None
    held = connection.execute(
        sa.select(sources.c.poll_owner)
        .where(sources.c.name == name, sources.c.poll_lease_until > now)
    ).scalar()
    return held if held is not None and is_dead(held) else None


def _refusal(state: SourceState, now: datetime, not_polled_since: datetime | None) -> str | None:
    if state.disabled_reason:
        return state.disabled_reason
    if state.next_poll_after and now < state.next_poll_after:
        return "backing off after errors"
    if not_polled_since is not None and state.last_poll and state.last_poll >= not_polled_since:
        return f"polled {int((now - state.last_poll).total_seconds())} s ago"
    return None


def release_poll(connection: Connection, name: str, owner: str) -> None:
    """Give up a poll claim without recording a poll (the worker is stopping)."""
    connection.execute(
        sa.update(sources).where(sources.c.name == name, sources.c.poll_owner == owner)
        .values(poll_lease_until=None, poll_owner=None)
    )


def renew_poll(connection: Connection, name: str, owner: str, until: datetime) -> bool:
    """Extend this worker's poll claim to `until`; False when it no longer holds it (its
    lease ran out and another worker took the source over, or it was released)."""
    renewed = connection.execute(
        sa.update(sources).where(sources.c.name == name, sources.c.poll_owner == owner)
        .values(poll_lease_until=until)
    )
    return renewed.rowcount == 1


def source_state(connection: Connection, name: str) -> SourceState:
    row = connection.execute(sa.select(sources).where(sources.c.name == name)).one()
    return _state(row)


def source_states(connection: Connection) -> list[SourceState]:
    rows = connection.execute(sa.select(sources).order_by(sources.c.name))
    return [_state(row) for row in rows]


def record_poll(connection: Connection, name: str, record: PollRecord) -> None:
    """Write one poll's outcome: a success resets the error run, an error extends it."""
    values: dict[str, Any] = {"last_poll": record.polled_at,
                              "next_poll_after": record.next_poll_after}
    values |= _release_claim(record.owner)
    if record.error is None:
        values |= {"last_success": record.polled_at, "error_count": 0,
                   "new_items": record.new_items, "etag": record.etag,
                   "last_modified": record.last_modified, "last_warning": record.warning}
        if record.baseline:
            values["baseline_at"] = record.polled_at
    else:
        values |= {"error_count": sources.c.error_count + 1, "last_error": record.error}
    if record.moved_to:
        values["url"] = record.moved_to
    if record.disabled_reason:
        values["disabled_reason"] = record.disabled_reason
    connection.execute(sa.update(sources).where(sources.c.name == name).values(**values))


def _release_claim(owner: str | None) -> dict[str, Any]:
    """Free the poll claim, unless it has passed to another worker (ours ran out mid-poll):
    then it is theirs to free. No owner: free it whoever holds it."""
    if owner is None:
        return {"poll_lease_until": None, "poll_owner": None}
    ours = sources.c.poll_owner == owner
    return {
        "poll_lease_until": sa.case((ours, None), else_=sources.c.poll_lease_until),
        "poll_owner": sa.case((ours, None), else_=sources.c.poll_owner),
    }


def _state(row: sa.Row[Any]) -> SourceState:
    return SourceState(row.name, **{column.name: row._mapping[column] for column in STATE_COLUMNS})
