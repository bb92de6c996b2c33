"""A source's status as people are shown it, by `watcher sources` and the workspace's
sources page alike: the polling state with any secret of the feed's URL masked, and one
word for how it is doing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from watcher.sources.secrets import redact
from watcher.store import SourceState

Status = Literal["ok", "failing", "disabled", "not polled yet"]


@dataclass(frozen=True)
class SourceStatus:
    """One feed's polling state; `errors` is the number of polls in a row that failed."""

    name: str
    url: str | None
    every: int
    last_poll: datetime | None
    last_success: datetime | None
    new_items: int
    errors: int
    last_error: str | None
    warning: str | None
    next_poll_after: datetime | None
    disabled: str | None

    @property
    def status(self) -> Status:
        """`disabled`, `failing` (its last poll failed), `ok` or `not polled yet`."""
        if self.disabled:
            return "disabled"
        if self.errors:
            return "failing"
        return "ok" if self.last_poll else "not polled yet"

    @property
    def broken(self) -> bool:
        """Whether someone should look at it: disabled, or failing now."""
        return bool(self.disabled or self.errors)


def source_status(state: SourceState, *, every: int) -> SourceStatus:
    """The status of a source polled every `every` seconds; a password or token in the
    feed's URL is shown as ****, in the URL and in every message that quotes it."""
    def shown(text: str | None) -> str | None:
        return None if text is None else redact(text, state.url)

    return SourceStatus(
        name=state.name,
        url=shown(state.url),
        every=every,
        last_poll=state.last_poll,
        last_success=state.last_success,
        new_items=state.new_items,
        errors=state.error_count,
        last_error=shown(state.last_error),
        warning=shown(state.last_warning),
        next_poll_after=state.next_poll_after,
        disabled=shown(state.disabled_reason),
    )
