"""The analysis claims' failures (watcher/store/claims.py) on a real PostgreSQL: a claim
whose locking or giving back fails in any way ends all the same, and a lost database
is said once for each claim, not once when it is taken and again when it is given back.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.http_server import closed_port
from watcher.store import claims as claims_module
from watcher.store.claims import AnalysisClaims

KEY = "content:siege-of-the-old-city"


class GivingBackFails(Exception):
    """Stands for anything but a database error (an interrupt) while giving claims back."""


def test_a_claim_whose_session_lock_cannot_be_asked_for_is_not_left_held(
    postgres_url: str,
) -> None:
    """The claims' connection cannot be had (the pool's own timeout, not a database
    error): the claim fails and leaves nothing held, so the next poll of the text is not
    told that someone analyses it (it would wait up to 30 s for no one)."""
    engine = sa.create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=0)
    claims = AnalysisClaims(engine)
    try:
        # the pool's one connection taken: the claims' own cannot be had
        with engine.connect(), pytest.raises(sa.exc.TimeoutError), claims.claimed([KEY]):
            pytest.fail("claimed without a connection")
        with claims.claimed([KEY]) as elsewhere:
            assert elsewhere == set()
    finally:
        claims.close()
        engine.dispose()


def test_a_claim_whose_giving_back_fails_is_not_left_held(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = sa.create_engine(postgres_url)
    claims = AnalysisClaims(engine)
    try:
        def fails(keys: object) -> None:
            raise GivingBackFails
        with monkeypatch.context() as patched:
            patched.setattr(claims, "_unlock_shared", fails)
            with pytest.raises(GivingBackFails), claims.claimed([KEY]) as elsewhere:
                assert elsewhere == set()
        with claims.claimed([KEY]) as elsewhere:
            assert elsewhere == set()
    finally:
        claims.close()
        engine.dispose()


class Interrupting:
    """The claims' connection, interrupted (GivingBackFails) as it gives its locks back:
    whether PostgreSQL released them is then unknown to the worker."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def execute(self, statement: object, values: object) -> object:
        if statement is claims_module._UNLOCK:
            raise GivingBackFails
        return self.connection.execute(statement, values)  # type: ignore[call-overload]

    def invalidate(self) -> None:
        self.connection.invalidate()

    def close(self) -> None:
        self.connection.close()


def test_a_claim_interrupted_as_it_is_given_back_is_not_left_held_for_other_workers(
    postgres_url: str,
) -> None:
    """An interrupt while a worker gives its session locks back: the connection is dropped
    with its locks, so another worker is not told the text is claimed (it would wait for
    it at every poll that carries the text)."""
    engines = [sa.create_engine(postgres_url) for _ in range(2)]
    worker, other = (AnalysisClaims(engine) for engine in engines)
    try:
        with pytest.raises(GivingBackFails), worker.claimed([KEY]) as elsewhere:
            assert elsewhere == set()
            worker._session = Interrupting(worker._session)  # type: ignore[arg-type]
        with other.claimed([KEY]) as elsewhere:
            assert elsewhere == set()
    finally:
        for claims, engine in zip((worker, other), engines, strict=True):
            claims.close()
            engine.dispose()


def test_a_lost_database_is_logged_once_for_each_claim(
    postgres_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """Nobody answers at the database's address: a claim goes on without its session lock
    (the articles are analysed all the same) and says so once, not again as it ends."""
    gone = sa.make_url(postgres_url).set(host="127.0.0.1", port=closed_port())
    engine = sa.create_engine(gone)
    claims = AnalysisClaims(engine)
    try:
        with caplog.at_level(logging.WARNING, logger="watcher.store"):
            for _ in range(2):
                with claims.claimed([KEY]) as elsewhere:
                    assert elsewhere == set()
    finally:
        claims.close()
        engine.dispose()
    lost = [r for r in caplog.records if "event=analysis_claims_lost" in r.getMessage()]
    assert len(lost) == 2  # one for each claim


def test_a_wait_for_a_claim_ends_at_its_bound(tmp_path: Path) -> None:
    """A poll waits for a claim held elsewhere (here by this thread) at most `at_most`
    seconds of the claims' clock, which moves 6 s at each reading: once past the bound the
    wait ends, at its first look at the clock after the deadline was set."""
    readings: list[float] = []
    moving = itertools.count(0.0, 6.0)

    def clock() -> float:
        readings.append(next(moving))
        return readings[-1]

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'claims.db'}")
    claims = AnalysisClaims(engine, clock=clock)
    with claims.claimed([KEY]):
        claims.wait([KEY], until=lambda: False, at_most=5.0)
    assert readings == [0.0, 6.0]
    engine.dispose()
