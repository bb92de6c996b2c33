"""How each channel's deliveries stand (the workspace's sources page): how many wait, were
sent, died or were silenced, and how long the oldest waiting one has waited, so a team
sees a channel that stopped taking alerts without a shell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from watcher.store.repo import Store
from watcher.store.tables import deliveries

STATUSES = ("pending", "sent", "dead", "silenced")


@dataclass(frozen=True)
class ChannelHealth:
    """One channel's deliveries per status (every status present, 0 when none) and when
    its oldest pending delivery was created (None when none waits)."""

    channel: str
    counts: dict[str, int]
    oldest_pending: datetime | None


class ChannelHealthReport:
    def __init__(self, store: Store) -> None:
        self.store = store

    def channels(self, configured: tuple[str, ...] = ()) -> list[ChannelHealth]:
        """Every channel in `configured` (with zeros when it has no delivery yet) and every
        channel with deliveries, by name, from one grouped query."""
        query = (
            sa.select(deliveries.c.channel, deliveries.c.status, sa.func.count(),
                      sa.func.min(deliveries.c.created))
            .group_by(deliveries.c.channel, deliveries.c.status)
        )
        counts: dict[str, dict[str, int]] = {name: dict.fromkeys(STATUSES, 0)
                                             for name in configured}
        oldest: dict[str, datetime] = {}
        with self.store.reading() as connection:
            for channel, status, count, first in connection.execute(query):
                counts.setdefault(channel, dict.fromkeys(STATUSES, 0))[status] = int(count)
                if status == "pending":
                    oldest[channel] = first
        return [ChannelHealth(name, counts[name], oldest.get(name)) for name in sorted(counts)]
