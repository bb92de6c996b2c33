"""The durable store (SQLAlchemy + Alembic): sources, articles, stories, matches, deliveries.

Only this package imports SQLAlchemy; the rest of watcher uses Store and these values.
"""

from watcher.store.db import DEFAULT_BUSY_TIMEOUT
from watcher.store.polling import BUSY, PollRecord, SourceState
from watcher.store.records import (
    DeliveryHold,
    DueDelivery,
    IngestItem,
    IngestResult,
    NewArticle,
    NewMatch,
    OwnerCheck,
    Route,
    StoredArticle,
    StoredDelivery,
    StoredMatch,
    StoredText,
    StoryCandidate,
    StoryPicker,
)
from watcher.store.repo import Store
from watcher.store.retention import PruneReport

__all__ = [
    "BUSY",
    "DEFAULT_BUSY_TIMEOUT",
    "DeliveryHold",
    "DueDelivery",
    "IngestItem",
    "IngestResult",
    "NewArticle",
    "NewMatch",
    "OwnerCheck",
    "PollRecord",
    "PruneReport",
    "Route",
    "SourceState",
    "StoredArticle",
    "StoredDelivery",
    "StoredMatch",
    "StoredText",
    "Store",
    "StoryCandidate",
    "StoryPicker",
]
