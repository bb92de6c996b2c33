"""What a person types for a silence, made what the store keeps: a place's name becomes
its gazetteer id, a duration or an end time becomes the end. Shared by the workspace's
form and API and by `watcher silences add`, so all three accept the same things."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from watcher.engine.place_names import place_id, place_name
from watcher.errors import WorkspaceError
from watcher.store.silences import MAX_LENGTH, check_start, silence_start
from watcher.when import DURATION_HELP, parse_duration


def resolve_matchers(given: dict[str, Any]) -> dict[str, Any]:
    """The matchers given (blanks dropped), a place named by its gazetteer id; the store
    checks the rest (watcher/store/silences.py)."""
    kept = {name: value for name, value in given.items()
            if value is not None and not (isinstance(value, str) and not value.strip())}
    if "place" in kept:
        try:
            kept["place"] = place_id(str(kept["place"]))
        except ValueError as error:
            raise WorkspaceError(f"place: {error}") from None
    return kept


def ends_at_of(
    now: datetime, starts_at: datetime | None, *, duration: str | None,
    until: datetime | None,
) -> datetime:
    """When a silence ends: `until`, or `duration` after its start (now when it starts
    now or has started); exactly one of them. The start and the duration are bounded
    before they are added, so no typed number overflows the dates."""
    duration = (duration or "").strip() or None
    if (duration is None) == (until is None):
        raise WorkspaceError("give a silence a duration (4h) or an end time, one of them")
    if until is not None:
        return until
    try:
        seconds = parse_duration(duration)
    except ValueError:
        raise WorkspaceError(f"bad duration {duration!r}: {DURATION_HELP}") from None
    if seconds <= 0:
        raise WorkspaceError("a silence lasts longer than 0s")
    if seconds > MAX_LENGTH.total_seconds():
        raise WorkspaceError(f"a silence lasts at most {MAX_LENGTH.days} days")
    start = silence_start(now, starts_at)
    check_start(start, now)
    return start + timedelta(seconds=seconds)


def described(name: str, value: str | int) -> str:
    """A matcher's value as people read it: a place by its name, the rest as they are."""
    return place_name(str(value)) if name == "place" else str(value)
