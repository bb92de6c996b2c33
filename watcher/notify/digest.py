"""When a digest channel's next message is due: every fixed period, or on a cron schedule.

A digest delivery waits in the outbox until its channel's next boundary, so the schedule
survives restarts without any state besides the deliveries themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from watcher.when import format_duration

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
    # APScheduler answers "at or after" in whole seconds: ask from the next whole second,
    # or 07:59:59.4 would round up to 08:00:00 and be skipped for the day after.
    fire = _trigger(schedule).get_next_fire_time(
        None, after.replace(microsecond=0) + timedelta(seconds=1))
    if fire is None:  # a crontab line always fires again; guard the type anyway
        raise ValueError(f"cron expression {schedule!r} never fires again")
    return fire.astimezone(UTC)


def describe(schedule: DigestSchedule) -> str:
    """A short label for messages: the period as watcher.yaml takes it (`1h`, `1h30m`,
    when.format_duration), or the cron expression."""
    return schedule if isinstance(schedule, str) else format_duration(schedule)


def _trigger(expression: str) -> CronTrigger:
    fields = expression.split()
    try:
        if len(fields) == 5:  # APScheduler counts weekdays from Monday = 0; cron from Sunday
            fields[4] = _weekday_names(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=UTC)
    except ValueError as error:
        raise ValueError(f"is not a cron expression ({error})") from None


WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday_names(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday, names, ranges, steps, lists) as the
    explicit list of day names APScheduler reads the same way."""
    if field in ("*", "?"):
        return field
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step = part.partition("/")
        first, _, last = span.partition("-")
        low, high = (0, 6) if span == "*" else (_weekday(first), _weekday(last or first))
        if last and high == 0:  # "fri-sun", "5-0": a range through Sunday ends at 7
            high = 7
        if low > high:
            raise ValueError(f"day-of-week range {span!r} runs backwards")
        days.update(day % 7 for day in range(low, high + 1, int(step or 1)))
    return ",".join(WEEKDAYS[day] for day in sorted(days))


def _weekday(text: str) -> int:
    """0-7 (0 and 7 are Sunday) or a day's three-letter name, as a number from 0 to 7."""
    if text in WEEKDAYS:
        return WEEKDAYS.index(text)
    if text.isdigit() and int(text) <= 7:
        return int(text)
    raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")
