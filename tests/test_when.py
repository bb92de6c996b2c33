"""Durations and moments typed by people, as `--since` and the configuration read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watcher.when import format_duration, parse_duration, parse_since

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("1h30m", 5400),
        ("7d", 604800),
        ("1d12h", 129600),
        (" 2H ", 7200),
        ("90", 90),
        (90, 90),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(600, "10m"), (5400, "1h30m"), (7200, "2h"), (604800, "7d"), (90, "1m30s"), (0, "0s")],
)
def test_durations_are_shown_as_typed_and_read_back(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1.5h", "30m1h", "10 m", "h", True, -5, None])
def test_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="^must be a duration such as 90 .seconds., 30s"):
        parse_duration(text)


def test_since_an_age_counts_back_from_now():
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)


def test_since_a_bare_number_is_seconds_but_a_basic_format_date_stays_a_date():
    assert parse_since("90", NOW) == NOW - timedelta(seconds=90)
    assert parse_since("20261120", NOW) == datetime(2026, 11, 20, tzinfo=UTC)


def test_since_a_date_or_time_is_utc_unless_it_says():
    assert parse_since("2026-11-20", NOW) == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("2026-11-20T10:00+02:00", NOW) == datetime(2026, 11, 20, 8, tzinfo=UTC)


def test_since_something_else_says_what_it_accepts():
    with pytest.raises(ValueError, match="neither an age .* nor an ISO 8601 date"):
        parse_since("last tuesday", NOW)


def test_since_beyond_the_range_of_dates_is_a_value_error_not_a_crash():
    with pytest.raises(ValueError, match="further back than dates go"):
        parse_since("99999999d", NOW)
    with pytest.raises(ValueError, match="out of the range of dates"):
        parse_since("0001-01-01T00:00+05:00", NOW)
