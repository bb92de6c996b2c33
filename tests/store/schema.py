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


def schema_differences(url: str) -> list[object]:
    """What Alembic's autogenerate finds between the migrated database and tables.py."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


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
