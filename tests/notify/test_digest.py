"""When a digest is due: fixed periods aligned to the epoch (UTC), cron lines in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watcher.notify.digest import check_cron, describe, next_digest

MORNING = datetime(2026, 11, 23, 7, 59, 59, tzinfo=UTC)


def test_a_period_ends_on_its_next_multiple_since_the_epoch():
    assert next_digest(3600, datetime(2026, 11, 23, 7, 15, tzinfo=UTC)) == datetime(
        2026, 11, 23, 8, 0, tzinfo=UTC)
    on_the_hour = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert next_digest(3600, on_the_hour) == on_the_hour + timedelta(hours=1)  # strictly after


@pytest.mark.parametrize("after", [MORNING - timedelta(seconds=1), MORNING,
                                   MORNING + timedelta(microseconds=400_000),
                                   MORNING + timedelta(microseconds=999_999)])
def test_a_cron_digest_just_before_its_time_is_due_that_same_time(after):
    assert next_digest("0 8 * * *", after) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_a_cron_digest_at_its_time_is_due_at_the_next_one():
    eight = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert next_digest("0 8 * * 1-5", eight) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert next_digest("0 8 * * 1-5", friday) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("field", "days"), [
    ("1-5", "mon,tue,wed,thu,fri"), ("0", "sun"), ("7", "sun"), ("5-7", "sun,fri,sat"),
    ("sat,sun", "sun,sat"), ("*/2", "sun,tue,thu,sat"), ("mon-fri", "mon,tue,wed,thu,fri"),
])
def test_cron_weekdays_count_from_sunday_as_in_crontab(field, days):
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    fired = set()
    moment = sunday
    for _ in range(7):
        moment = next_digest(f"0 8 * * {field}", moment)
        fired.add(moment.strftime("%a").lower())
    assert fired == set(days.split(","))


def test_schedules_are_checked_and_described():
    assert check_cron("*/15 * * * *") == "*/15 * * * *"
    with pytest.raises(ValueError, match="is not a cron expression"):
        check_cron("0 99 * * *")
    assert [describe(s) for s in (3600, 5400, 86400, 90, "0 8 * * *")] == [
        "1h", "1h30m", "1d", "1m30s", "0 8 * * *"]
