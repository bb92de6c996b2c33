"""Test helpers shared by the SQLite and PostgreSQL store tests: schema drift and two
processes ingesting at once."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.store.workers import ingest_batch
from watcher.store.tables import metadata

# Migration 0010's full-text search, which tables.py cannot describe: on SQLite the FTS5
# table and the shadow tables FTS5 keeps for it, on PostgreSQL a GIN index on an expression.
SEARCH_TABLES = frozenset({
    "articles_search", "articles_search_data", "articles_search_idx",
    "articles_search_docsize", "articles_search_config",
})
SEARCH_INDEX = "ix_articles_search"


def schema_differences(url: str) -> list[object]:
    """What Alembic's autogenerate finds between the migrated database and tables.py (the
    full-text search's own tables and index left out)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": _described})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _described(name: str | None, kind: str, parents: object) -> bool:
    return not (kind == "table" and name in SEARCH_TABLES
                or kind == "index" and name == SEARCH_INDEX)


def ingest_in_two_processes(url: str) -> list[tuple[int, str | None]]:
    """(articles stored, error) of two spawned processes ingesting one batch together."""
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    try:
        start_together = manager.Barrier(2)
        with ProcessPoolExecutor(2, mp_context=context) as pool:
            runs = [pool.submit(ingest_batch, url, start_together) for _ in range(2)]
            return [run.result(timeout=120) for run in runs]
    finally:
        manager.shutdown()
