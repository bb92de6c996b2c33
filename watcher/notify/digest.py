"""When a digest channel's next message is due: every fixed period, or on a cron schedule.

A digest delivery waits in the outbox until its channel's next boundary, so the schedule
survives restarts without any state besides the deliveries themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DigestSchedule = int | str
"""Seconds between digests (aligned to the Unix epoch, so `1h` means on the hour, UTC),
or a five-field cron expression evaluated in UTC."""


def check_cron(expression: str) -> str:
    """The expression when it is a valid five-field crontab line; ValueError otherwise."""
    _trigger(expression)
    return expression


def next_digest(schedule: DigestSchedule, after: datetime) -> datetime:
    """The first digest boundary strictly after `after`."""
    if isinstance(schedule, int):
        periods = (after - EPOCH) // timedelta(seconds=schedule) + 1
        return EPOCH + periods * timedelta(seconds=schedule)
    fire = _trigger(schedule).get_next_fire_time(None, after + timedelta(seconds=1))
    if fire is None:  # a crontab line always fires again; guard the type anyway
        raise ValueError(f"cron expression {schedule!r} never fires again")
    return fire.astimezone(UTC)


def describe(schedule: DigestSchedule) -> str:
    """A short label for messages: `1h`, `90m`, or the cron expression."""
    if isinstance(schedule, str):
        return schedule
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if schedule % seconds == 0:
            return f"{schedule // seconds}{unit}"
    return f"{schedule}s"


def _trigger(expression: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as error:
        raise ValueError(f"is not a cron expression ({error})") from None
