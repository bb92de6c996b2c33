"""Which active silence, if any, holds back an alert the sender is about to send.

Checked at send time, as Alertmanager does: a delivery that is due while a silence
matching it is active is silenced, whether it was queued before the silence began or
after. A rule's tags are not stored with its matches: they are read from the rule files
the sender is configured with (RuleTags), only when an active silence matches on a tag.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from watcher.errors import ConfigError, RuleSetError
from watcher.model import Alert
from watcher.rules.load import RuleFiles, load_rules
from watcher.store.silences import Silence

log = logging.getLogger("watcher.outbox")

TagsOf = Callable[[str], Collection[str]]
"""A rule's tags, by rule id (none for a rule the sender does not know)."""


def no_tags(rule_id: str) -> Collection[str]:
    return ()


def silence_of(alert: Alert, active: Sequence[Silence], tags_of: TagsOf) -> Silence | None:
    """The first (oldest) of the `active` silences whose every matcher holds for the alert:
    its rule, one of its rule's tags, its source, a place it lies in (the place itself or
    any area it is inside: a governorate holds its towns), its story."""
    for silence in active:
        if all(_holds(name, value, alert, tags_of)
               for name, value in silence.matchers.items()):
            return silence
    return None


def _holds(name: str, value: str | int, alert: Alert, tags_of: TagsOf) -> bool:
    if name == "rule":
        return alert.rule_id == value
    if name == "tag":
        return str(value).casefold() in {tag.casefold() for tag in tags_of(alert.rule_id)}
    if name == "source":
        return alert.source == value
    if name == "place":
        return any(value in place.area_ids() for place in alert.places)
    if name == "story":
        return alert.story_id == value
    return False  # a matcher this version does not know holds nothing back


class RuleTags:
    """The tags of each rule in the rule files at `path`, read on first use and again
    whenever the files change (the daemon reloads its rules the same way). A rule set
    that does not load leaves the last one read in use, and says so in the log."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._files: RuleFiles | None = None
        self._tags: dict[str, tuple[str, ...]] = {}

    def __call__(self, rule_id: str) -> Collection[str]:
        with self._lock:
            files = RuleFiles.read(self.path)
            if files != self._files:
                self._files = files
                self._load()
            return self._tags.get(rule_id, ())

    def _load(self) -> None:
        try:
            rules = load_rules(self.path).rules
        except (RuleSetError, ConfigError, OSError) as error:
            log.warning("event=rule_tags_unread path=%s error=%r; tag silences use the "
                        "tags last read", self.path, str(error).splitlines()[0])
            return
        self._tags = {rule.id: rule.tags for rule in rules}
