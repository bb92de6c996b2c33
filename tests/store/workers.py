"""A worker process for the concurrency test: ingest a batch of articles into one database.

A module of its own so `spawn` can import it without collecting the tests.
"""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

from tests.store.builders import NOW, new_article, new_match, oldest_story
from watcher.store import Store

ARTICLES = 50
STORY_SIZE = 5


def batch() -> list[str]:
    return [f"a{n:02d}" for n in range(ARTICLES)]


def ingest_batch(url: str, start_together: Barrier) -> tuple[int, str | None]:
    """How many articles this process stored, and the first error (None if none)."""
    try:
        with Store.open(url) as store:
            start_together.wait(timeout=30)
            stored = 0
            for name in batch():
                new = new_article(name, story_band=int(name[1:]) // STORY_SIZE)
                result = store.ingest(new, [new_match(new)], oldest_story, NOW)
                stored += result.stored
            return stored, None
    except Exception as exc:  # reported to the parent, which asserts there is none
        return 0, f"{type(exc).__name__}: {exc}"
