"""The analysis claims' failures (watcher/store/claims.py) on a real PostgreSQL: a claim
whose locking or giving back fails in any way ends all the same.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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
