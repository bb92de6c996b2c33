"""Silences in the store, on SQLite and PostgreSQL: what is active when, the listing's
order and bounds, expiring, and a delivery recorded silenced with its silence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.store.builders import NOW, new_article, new_match, new_story
from watcher.errors import WorkspaceError
from watcher.store import Store
from watcher.store.silences import Silences


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def test_silences_are_pending_active_then_expired_and_listed_in_that_order(any_store: Store):
    silences = Silences(any_store)
    later = silences.add({"source": "wire"}, starts_at=NOW + hours(2), ends_at=NOW + hours(3),
                         comment="maintenance", author="ana", now=NOW)
    long = silences.add({"rule": "siege", "place": "admin1:SY.09"}, ends_at=NOW + hours(8),
                        comment="offensive", author="ana", now=NOW)
    short = silences.add({"story": "12"}, ends_at=NOW + hours(1), comment="done", author="ada",
                         now=NOW)
    assert short.matchers == {"story": 12}
    assert [s.id for s in silences.active(NOW)] == [long.id, short.id]
    assert [s.id for s in silences.active(NOW + hours(2.5))] == [later.id, long.id]
    assert [(s.id, s.status(NOW)) for s in silences.listing(NOW)] == [
        (short.id, "active"), (long.id, "active"), (later.id, "pending")]
    ended = silences.expire(long.id, by="ada", now=NOW + hours(1.5))
    assert (ended.ends_at, ended.expired_by) == (NOW + hours(1.5), "ada")
    moment = NOW + hours(2.5)
    assert [s.id for s in silences.listing(moment)] == [later.id]
    assert [s.id for s in silences.listing(moment, expired_since=NOW)] == [
        later.id, long.id, short.id]
    assert [s.id for s in silences.listing(moment, expired_since=NOW, limit=2)] == [
        later.id, long.id]
    assert silences.get(long.id) == ended
    with pytest.raises(WorkspaceError, match="already ended"):
        silences.expire(long.id, by="ada", now=moment)


def test_a_delivery_held_back_is_recorded_silenced_with_its_silence(any_store: Store):
    silence = Silences(any_store).add({"rule": "siege"}, ends_at=NOW + hours(1),
                                      comment="noise", author="ana", now=NOW)
    new = new_article("a1")
    any_store.ingest(new, [new_match(new, "siege")], new_story, NOW)
    (due,) = any_store.claim_due_deliveries(NOW, owner="me", lease=hours(1), limit=5,
                                            channels=["ops"])
    any_store.mark_silenced([due.id], silence.id, owner="me")
    (held,) = any_store.deliveries(status="silenced")
    assert (held.id, held.silence_id) == (due.id, silence.id)
    assert any_store.delivery_counts() == {"silenced": 1}
    assert any_store.claim_due_deliveries(NOW + hours(2), owner="me", lease=hours(1), limit=5,
                                          channels=["ops"]) == []
