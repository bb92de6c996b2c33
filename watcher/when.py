"""Times and durations typed by people: `90`, `90s`, `10m`, `1h30m`, `7d`, or ISO 8601
dates; and moments made UTC.

The one duration syntax, shared by the configuration (`every:`, `digest:`, `lease:`…),
the rule files (`cooldown:`) and `watcher matches --since`; and the moments of the
sources' dates and the store's columns.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# Units largest first, each at most once: 1d12h, 1h30m, 90s.
DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
UNIT_SECONDS = (86400, 3600, 60, 1)
# The one message for a value that is not a duration, wherever it was typed.
DURATION_HELP = "must be a duration such as 90 (seconds), 30s, 10m, 1h, 1h30m or 1d"


def parse_duration(value: object) -> int:
    """Seconds in `90` (a whole number is seconds, as a YAML int or as text), `30s`, `10m`,
    `1h30m`, `7d`: every duration a person types goes through here, so a rule file's
    `cooldown:` and watcher.yaml's `every:` accept the same things. ValueError with
    DURATION_HELP otherwise (a bool is not a number of seconds)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    compact = value.strip().lower() if isinstance(value, str) else ""
    if compact.isascii() and compact.isdigit():
        return int(compact)
    found = DURATION.fullmatch(compact)
    if not compact or found is None:
        raise ValueError(DURATION_HELP)
    return sum(int(n or 0) * unit for n, unit in zip(found.groups(), UNIT_SECONDS, strict=True))


def format_duration(seconds: int) -> str:
    """A duration as people type it: 600 -> `10m`, 5400 -> `1h30m`, 0 -> `0s`."""
    parts = []
    for unit, size in zip("dhms", UNIT_SECONDS, strict=True):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a time without a zone is taken as UTC. ValueError for a
    moment UTC cannot hold (0001-01-01 east of UTC is before the first one)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is out of the range of dates") from None


def parse_since(text: str, now: datetime) -> datetime:
    """A moment from an ISO 8601 date or time (taken as UTC when it names no offset) or an
    age (`24h`: that long before `now`). The date is tried first, so the basic-format date
    `20261120` stays a date rather than that many seconds."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return _before(now, text)
    try:
        return as_utc(moment)
    except ValueError:
        raise ValueError(f"{text!r} is out of the range of dates") from None


def _before(now: datetime, age: str) -> datetime:
    """`age` before `now` for `parse_since`, or why it is neither an age nor a date."""
    try:
        seconds = parse_duration(age)
    except ValueError:
        raise ValueError(
            f"{age!r} is neither an age (90m, 24h, 7d) nor an ISO 8601 date or time"
        ) from None
    try:
        return now - timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{age!r} reaches further back than dates go") from None
