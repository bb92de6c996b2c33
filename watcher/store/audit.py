"""The audit log: every action a person takes in the workspace, who, when, what, and the
state before and after. Written in the same transaction as the action it records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.store.repo import Store
from watcher.store.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any


def record(
    connection: Connection, at: datetime, actor: str, action: str, target: str,
    before: Any = None, after: Any = None,
) -> None:
    """Add one entry, inside the caller's transaction: the action and its record commit
    together or not at all."""
    connection.execute(sa.insert(audit_log).values(
        at=at, actor=actor, action=action, target=target, before=before, after=after))


class Audit:
    def __init__(self, store: Store) -> None:
        self.store = store

    def entries(
        self, *, limit: int = 100, before_id: int | None = None, target: str | None = None,
        actor: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages on (the id of the last entry seen)."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        if target is not None:
            query = query.where(audit_log.c.target == target)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        with self.store.reading() as connection:
            return [AuditEntry(row.id, row.at, row.actor, row.action, row.target,
                               row.before, row.after) for row in connection.execute(query)]
