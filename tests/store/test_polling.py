"""Feed polling state: created on first sight, errors counted in a row, URL moves kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.store import PollRecord, Store

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
URL = "https://example.org/feed"


def test_a_new_source_starts_empty(store: Store) -> None:
    state = store.prepare_source("feed", URL)
    assert (state.name, state.url, state.etag, state.error_count) == ("feed", URL, None, 0)
    assert [s.name for s in store.source_states()] == ["feed"]


def test_errors_count_in_a_row_and_a_success_resets_them(store: Store) -> None:
    store.prepare_source("feed", URL)
    later = T0 + timedelta(minutes=5)
    store.record_poll("feed", PollRecord(T0, error="HTTP 500", next_poll_after=later))
    store.record_poll("feed", PollRecord(later, error="HTTP 503"))
    failing = store.prepare_source("feed", URL)
    assert (failing.error_count, failing.last_error, failing.last_success) == (2, "HTTP 503", None)
    store.record_poll("feed", PollRecord(later, etag='"v1"', new_items=3, warning="bozo"))
    ok = store.prepare_source("feed", URL)
    assert (ok.error_count, ok.etag, ok.new_items, ok.last_success) == (0, '"v1"', 3, later)
    assert ok.last_error == "HTTP 503"  # still visible after the recovery
    assert ok.last_warning == "bozo" and ok.next_poll_after is None


def test_a_permanent_redirect_moves_the_source_until_the_config_changes(store: Store) -> None:
    store.prepare_source("feed", URL)
    store.record_poll("feed", PollRecord(T0, moved_to="https://example.org/new", etag="x"))
    assert store.prepare_source("feed", URL).url == "https://example.org/new"
    store.record_poll("feed", PollRecord(T0, error="HTTP 410", disabled_reason="410 Gone"))
    assert store.prepare_source("feed", URL).disabled_reason == "410 Gone"
    edited = store.prepare_source("feed", "https://example.org/other")
    assert (edited.url, edited.etag, edited.disabled_reason) == (
        "https://example.org/other", None, None)


def test_no_pending_delivery_in_an_empty_store(store: Store) -> None:
    assert store.pending_delivery_count() == 0
