"""An ingest's statements in psycopg's pipeline mode on PostgreSQL
(watcher/store/pipelined.py) when something goes wrong in them: what is stored, what the
connection goes back to the pool as (out of autocommit, no transaction open, or
discarded), and what is said (one line, watcher's own)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest

from tests.store.builders import NOW, new_article, new_story
from tests.store.conftest import GIVEN_BACK_CLEAN, given_back
from watcher.store import Store
from watcher.store.pipelined import pipelined


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    """A Store whose source is cached, as a worker's soon is: an ingest begins its
    transaction in the pipeline (no lookup of the source through SQLAlchemy first)."""
    with Store.open(pg_url) as opened:
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
