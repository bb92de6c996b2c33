"""An ingest's statements in psycopg's pipeline mode on PostgreSQL
(watcher/store/pipelined.py) when something goes wrong in them: what is stored, what the
connection goes back to the pool as (out of autocommit, no transaction open, or
discarded), and what is said (one line, watcher's own)."""

from __future__ import annotations

import logging
import select
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest
import sqlalchemy as sa

from tests.store.builders import NOW, new_article, new_story
from tests.store.conftest import GIVEN_BACK_CLEAN, given_back, psycopg_said
from tests.store.sql import execute, rows
from tests.support.helpers import PATIENCE
from watcher.store import IngestItem, Store
from watcher.store.pipelined import pipelined


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    """A Store whose source is cached, as a worker's soon is: an ingest begins its
    transaction in the pipeline (no lookup of the source through SQLAlchemy first)."""
    with Store.open(pg_url, clock=lambda: 0.0) as opened:  # no batch ended early when busy
        opened.ingest(new_article("warm-up"), [], new_story, NOW)
        yield opened


@contextmanager
def interrupted_once_in_autocommit() -> Iterator[None]:
    """A KeyboardInterrupt (what a signal raises) in `pipelined` at the first line it runs
    once it has put the driver connection in autocommit: the worst moment to be
    interrupted, raised there by a trace function rather than by a signal's timing."""
    code = pipelined.__wrapped__.__code__  # type: ignore[attr-defined]
    raised = False

    def in_pipelined(frame: FrameType, event: str, _arg: Any) -> Any:
        nonlocal raised
        driver = frame.f_locals.get("driver")
        if event == "line" and not raised and getattr(driver, "autocommit", False):
            raised = True
            raise KeyboardInterrupt
        return in_pipelined

    before = sys.gettrace()
    sys.settrace(lambda frame, _event, _arg: in_pipelined if frame.f_code is code else None)
    try:
        yield
    finally:
        sys.settrace(before)
    assert raised, "never in autocommit: nothing interrupted"


def test_an_interrupt_as_the_pipeline_begins_leaves_the_connection_out_of_autocommit(
    store: Store, pg_url: str,
) -> None:
    pooled = given_back(store._engine)
    with interrupted_once_in_autocommit(), pytest.raises(KeyboardInterrupt):
        store.ingest(new_article("a1"), [], new_story, NOW)
    assert pooled == [GIVEN_BACK_CLEAN]
    assert store.ingest(new_article("a1"), [], new_story, NOW).stored


def stored(url: str) -> list[tuple[str, int]]:
    """Each stored article, with how many identity keys it has."""
    return rows(url, "SELECT a.external_id, count(k.key) FROM articles a "
                     "LEFT JOIN article_keys k ON k.article_id = a.id "
                     "GROUP BY a.id ORDER BY a.id")


def test_a_write_the_server_refuses_commits_nothing_and_is_said_once(
    store: Store, pg_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """The write is sent with its COMMIT after it: refused (a CHECK here), the COMMIT is
    never run, nothing of the article is stored, the batch's later articles are; the
    refusal is watcher's one line, not another in psycopg's log."""
    execute(pg_url, "ALTER TABLE articles ADD CONSTRAINT refused_by_the_test "
                    "CHECK (title <> 'Title of a1')")
    pooled = given_back(store._engine)
    refusal_first(store._engine, "Title of a1")
    caplog.set_level(logging.DEBUG)
    batch = [new_article(name) for name in ("a0", "a1", "a2")]
    results = store.ingest_batch([IngestItem(new, [], new_story, NOW) for new in batch])
    assert [getattr(r, "stored", None) for r in results] == [True, None, True]
    assert "refused_by_the_test" in str(results[1])
    assert stored(pg_url) == [("warm-up", 2), ("a0", 2), ("a2", 2)]
    assert pooled == [GIVEN_BACK_CLEAN]
    assert psycopg_said(caplog) == []


def refusal_first(engine: sa.Engine, title: str) -> None:
    """The COMMIT after the write of the article titled `title` sent once the server's
    answer to the write (its refusal, flushed at once) is there to be read: psycopg then
    reads it as it sends the COMMIT, as it does whenever the answer is quick enough."""
    refused: list[bool] = []

    def commit_after_answer(_conn: Any, cursor: Any, statement: str, values: Any,
                            *_: Any) -> None:
        if statement.startswith("WITH ") and title in (values or ()):
            refused.append(True)
        elif statement == "COMMIT" and refused:
            refused.clear()
            select.select([cursor.connection.pgconn.socket], [], [], PATIENCE)

    sa.event.listen(engine, "before_cursor_execute", commit_after_answer)


@pytest.mark.parametrize("hide_parameters", [False, True])
def test_a_pipelined_error_shows_its_values_unless_the_engine_hides_them(
    pg_url: str, hide_parameters: bool,
) -> None:
    """A statement the server refuses in the pipeline reads as SQLAlchemy's own error: its
    values shown, or hidden with the engine's `hide_parameters` (for them not to be logged),
    as on SQLite's driver path."""
    engine = sa.create_engine(pg_url, hide_parameters=hide_parameters)
    try:
        with (
            engine.connect() as connection,
            pytest.raises(sa.exc.DataError) as refused,
            pipelined(connection) as statements,
        ):
            statements.send_text("SELECT 1 / $1::int", [0]).rows()
    finally:
        engine.dispose()
    assert "division by zero" in str(refused.value)
    assert ("parameters hidden" in str(refused.value)) == hide_parameters
    assert ("[parameters: [0]]" in str(refused.value)) != hide_parameters
