"""Times and durations typed by people: `90s`, `10m`, `1h30m`, `7d`, or ISO 8601 dates;
and moments made UTC.

Shared by the configuration (`every:`, `digest:`), `watcher matches --since`, the
sources' dates and the store's columns.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# Units largest first, each at most once: 1d12h, 1h30m, 90s.
DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
UNIT_SECONDS = (86400, 3600, 60, 1)


def parse_duration(text: str) -> int:
    """Seconds in a duration such as `30s`, `10m`, `1h30m`, `7d`; ValueError otherwise."""
    compact = text.strip().lower()
    found = DURATION.fullmatch(compact)
    if not compact or found is None:
        raise ValueError(f"{text!r} is not a duration (examples: 90s, 10m, 1h30m, 7d)")
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
    """A moment from an age (`24h`: that long before `now`) or an ISO 8601 date or time
    (taken as UTC when it names no offset)."""
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    except OverflowError:
        raise ValueError(f"{text!r} reaches further back than dates go") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an age (90m, 24h, 7d) nor an ISO 8601 date or time"
        ) from None
    try:
        return as_utc(moment)
    except ValueError:
        raise ValueError(f"{text!r} is out of the range of dates") from None
