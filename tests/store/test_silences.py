"""Silences in the store, on SQLite and PostgreSQL: what is active when, the listing's
order and bounds (each status on its own), expiring, and a delivery recorded silenced with
its silence."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.store.builders import NOW, new_article, new_match, new_story
from watcher.errors import WorkspaceError
from watcher.store import Store
from watcher.store.silences import Silences, Status


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def listed(silences: Silences, now: datetime, status: Status, **bounds: Any) -> list[int]:
    return [silence.id for silence in silences.listing(now, status, **bounds).silences]


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
    assert listed(silences, NOW, "active") == [short.id, long.id]
    assert listed(silences, NOW, "pending") == [later.id]
    ended = silences.expire(long.id, by="ada", now=NOW + hours(1.5))
    assert (ended.ends_at, ended.expired_by) == (NOW + hours(1.5), "ada")
    moment = NOW + hours(2.5)
    assert listed(silences, moment, "active") == [later.id]
    assert listed(silences, moment, "pending") == []
    assert listed(silences, moment, "expired") == [long.id, short.id]
    assert listed(silences, moment, "expired", expired_since=NOW + hours(1.2)) == [long.id]
    cut = silences.listing(moment, "expired", limit=1)
    assert ([s.id for s in cut.silences], cut.total, cut.more) == ([long.id], 2, 1)
    assert silences.get(long.id) == ended
    with pytest.raises(WorkspaceError, match="already ended"):
        silences.expire(long.id, by="ada", now=moment)


def test_each_status_is_listed_on_its_own_so_many_active_ones_hide_no_other(
    any_store: Store,
):
    silences = Silences(any_store)
    old = silences.add({"rule": "old"}, ends_at=NOW + hours(1), comment="over", author="ana",
                       now=NOW)
    moment = NOW + hours(2)
    pending = silences.add({"rule": "later"}, starts_at=moment + hours(24),
                           ends_at=moment + hours(48), comment="later", author="ana", now=moment)
    noise = [silences.add({"story": number}, ends_at=moment + hours(4), comment="noise",
                          author="ana", now=moment).id for number in range(1, 6)]
    active = silences.listing(moment, "active", limit=3)
    assert ([s.id for s in active.silences], active.more) == (noise[:3], 2)
    assert listed(silences, moment, "pending", limit=1) == [pending.id]
    assert listed(silences, moment, "expired", limit=1) == [old.id]


def test_a_silence_starts_at_most_90_days_ahead_and_a_story_is_a_stored_id(any_store: Store):
    silences = Silences(any_store)
    with pytest.raises(WorkspaceError, match="^a silence starts at most 90 days from now$"):
        silences.add({"rule": "r"}, starts_at=NOW + timedelta(days=90, seconds=1),
                     ends_at=NOW + timedelta(days=91), comment="why", author="ana", now=NOW)
    with pytest.raises(WorkspaceError, match="^bad story 2147483648: "):
        silences.add({"story": 2**31}, ends_at=NOW + hours(1), comment="why", author="ana",
                     now=NOW)
    furthest = silences.add({"story": 2**31 - 1}, starts_at=NOW + timedelta(days=90),
                            ends_at=NOW + timedelta(days=91), comment="why", author="ana",
                            now=NOW)
    assert listed(silences, NOW, "pending") == [furthest.id]


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
