"""Feed polling state: created on first sight, errors counted in a row, URL moves kept.

Every test runs on SQLite and on a real PostgreSQL (`any_store`, tests/store/conftest.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.processes import exited_worker_name, on_another_host
from watcher.store import BUSY, OwnerCheck, PollRecord, Store
from watcher.store.owners import DeadOwners, worker_name

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
URL = "https://example.org/feed"


def test_a_new_source_starts_empty(any_store: Store) -> None:
    state = any_store.prepare_source("feed", URL)
    assert (state.name, state.url, state.etag, state.error_count) == ("feed", URL, None, 0)
    assert [s.name for s in any_store.source_states()] == ["feed"]


def test_errors_count_in_a_row_and_a_success_resets_them(any_store: Store) -> None:
    any_store.prepare_source("feed", URL)
    later = T0 + timedelta(minutes=5)
    any_store.record_poll("feed", PollRecord(T0, error="HTTP 500", next_poll_after=later))
    any_store.record_poll("feed", PollRecord(later, error="HTTP 503"))
    failing = any_store.prepare_source("feed", URL)
    assert (failing.error_count, failing.last_error, failing.last_success) == (2, "HTTP 503", None)
    any_store.record_poll("feed", PollRecord(later, etag='"v1"', new_items=3, warning="bozo"))
    ok = any_store.prepare_source("feed", URL)
    assert (ok.error_count, ok.etag, ok.new_items, ok.last_success) == (0, '"v1"', 3, later)
    assert ok.last_error == "HTTP 503"  # still visible after the recovery
    assert ok.last_warning == "bozo" and ok.next_poll_after is None


def test_a_permanent_redirect_moves_the_source_until_the_config_changes(any_store: Store) -> None:
    any_store.prepare_source("feed", URL)
    any_store.record_poll("feed", PollRecord(T0, moved_to="https://example.org/new", etag="x"))
    assert any_store.prepare_source("feed", URL).url == "https://example.org/new"
    any_store.record_poll("feed", PollRecord(T0, error="HTTP 410", disabled_reason="410 Gone"))
    assert any_store.prepare_source("feed", URL).disabled_reason == "410 Gone"
    edited = any_store.prepare_source("feed", "https://example.org/other")
    assert (edited.url, edited.etag, edited.disabled_reason) == (
        "https://example.org/other", None, None)


def test_no_pending_delivery_in_an_empty_store(any_store: Store) -> None:
    assert any_store.pending_delivery_count() == 0


LEASE = timedelta(minutes=10)


def claim(store: Store, owner: str, at: datetime, since: datetime | None = None,
          is_dead: OwnerCheck | None = None):
    return store.claim_poll("feed", URL, at, owner=owner, lease=LEASE,
                            not_polled_since=since, is_dead=is_dead)[1]


def test_one_worker_at_a_time_holds_a_poll(any_store: Store) -> None:
    assert claim(any_store, "a", T0) is None
    assert claim(any_store, "b", T0) == "being polled by another worker"
    assert claim(any_store, "a", T0) == "being polled by another worker"  # or by itself
    assert claim(any_store, "b", T0 + LEASE) is None  # a died: b takes over


def test_recording_a_poll_frees_it_and_recent_polls_are_left_alone(any_store: Store) -> None:
    assert claim(any_store, "a", T0) is None
    any_store.record_poll("feed", PollRecord(T0, etag='"v1"'))
    later = T0 + timedelta(minutes=9)
    assert claim(any_store, "b", later, since=T0) == "polled 540 s ago"
    assert claim(any_store, "b", later) is None  # asked no recency: polls again
    state, refusal = any_store.claim_poll("feed", URL, later, owner="a", lease=LEASE,
                                          not_polled_since=T0 + timedelta(seconds=1))
    assert refusal == "being polled by another worker"
    assert state.etag == '"v1"'


def test_a_released_poll_is_free_at_once(any_store: Store) -> None:
    assert claim(any_store, "a", T0) is None
    any_store.release_poll("feed", "b")  # not b's to release
    assert claim(any_store, "b", T0) == "being polled by another worker"
    any_store.release_poll("feed", "a")
    assert claim(any_store, "b", T0) is None


def test_disabled_and_backing_off_sources_are_not_claimed(any_store: Store) -> None:
    any_store.prepare_source("feed", URL)
    retry_at = T0 + timedelta(minutes=5)
    any_store.record_poll("feed", PollRecord(T0, error="HTTP 500", next_poll_after=retry_at))
    assert claim(any_store, "a", T0 + timedelta(minutes=1)) == "backing off after errors"
    assert claim(any_store, "a", retry_at) is None
    any_store.record_poll("feed", PollRecord(retry_at, error="gone", disabled_reason="410 Gone"))
    assert claim(any_store, "b", retry_at + LEASE) == "410 Gone"


def test_a_late_poll_record_leaves_the_new_holders_claim(any_store: Store) -> None:
    assert claim(any_store, "a", T0) is None
    assert claim(any_store, "b", T0 + LEASE) is None  # a's poll outlived its lease
    any_store.record_poll("feed", PollRecord(T0 + LEASE, etag='"v2"', owner="a"))
    assert claim(any_store, "c", T0 + LEASE) == "being polled by another worker"
    any_store.record_poll("feed", PollRecord(T0 + LEASE, etag='"v3"', owner="b"))
    assert claim(any_store, "c", T0 + LEASE) is None


def test_a_renewed_claim_outlives_its_first_lease_and_a_lost_one_cannot_be_renewed(
    any_store: Store,
) -> None:
    assert claim(any_store, "a", T0) is None
    assert any_store.renew_poll("feed", "a", T0 + 2 * LEASE)  # a's poll goes on
    assert claim(any_store, "b", T0 + LEASE) == "being polled by another worker"
    assert claim(any_store, "b", T0 + 2 * LEASE) is None  # a stopped renewing: b takes over
    assert not any_store.renew_poll("feed", "a", T0 + 3 * LEASE)
    assert claim(any_store, "c", T0 + 2 * LEASE) == "being polled by another worker"


def is_dead() -> OwnerCheck:
    return DeadOwners(logging.getLogger("test"))


def test_a_claim_of_a_process_that_died_on_this_host_is_taken_at_once(any_store: Store) -> None:
    assert claim(any_store, exited_worker_name(), T0) is None
    assert claim(any_store, "b", T0, is_dead=is_dead()) is None


@pytest.mark.parametrize("holder", ["a live process", "another host"])
def test_a_claim_whose_owner_may_live_waits_for_its_lease(any_store: Store, holder: str) -> None:
    """A live owner's claim is never taken; one on another host cannot be checked."""
    name = worker_name()
    if holder == "another host":
        name = on_another_host(exited_worker_name())
    assert claim(any_store, name, T0) is None
    before_expiry = T0 + LEASE - timedelta(seconds=1)
    assert claim(any_store, "b", before_expiry, is_dead=is_dead()) == BUSY
    assert claim(any_store, "b", T0 + LEASE, is_dead=is_dead()) is None
