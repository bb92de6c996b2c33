"""The durable store (SQLAlchemy + Alembic): sources, articles, stories, matches, deliveries.

Only this package imports SQLAlchemy; the rest of watcher uses Store and these values.
"""

from watcher.store.db import DEFAULT_BUSY_TIMEOUT
from watcher.store.polling import PollRecord, SourceState
from watcher.store.records import (
    IngestResult,
    NewArticle,
    NewMatch,
    StoredArticle,
    StoredMatch,
    StoryCandidate,
    StoryPicker,
)
from watcher.store.repo import Store

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "IngestResult",
    "NewArticle",
    "NewMatch",
    "PollRecord",
    "SourceState",
    "StoredArticle",
    "StoredMatch",
    "Store",
    "StoryCandidate",
    "StoryPicker",
]
