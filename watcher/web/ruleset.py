"""The rules as the workspace shows them (ids, titles, tags): read from the rules path and
read again only when a rule file changes, not on every request."""

from __future__ import annotations

import threading
from pathlib import Path

from watcher.errors import WatcherError
from watcher.rules.ast import RuleSet
from watcher.rules.load import load_rules, rule_files

_lock = threading.Lock()
_loaded: dict[str, tuple[tuple[tuple[str, int, int], ...], RuleSet | None]] = {}


def current_rules(path: str | Path) -> RuleSet | None:
    """The rule set at `path`, or None while it does not load (the daemon reports why;
    pages then offer no rule or tag choices rather than fail)."""
    key = str(path)
    try:
        stamp = _stamp(Path(path))
    except OSError:
        return None
    with _lock:
        cached = _loaded.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            rules: RuleSet | None = load_rules(path)
        except WatcherError:
            rules = None
        _loaded[key] = (stamp, rules)
        return rules


def _stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Each rule file's name, modification time and size: what says it changed."""
    if not root.exists():
        return ()
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in rule_files(root))


def tag_rules(rules: RuleSet | None, tag: str) -> tuple[str, ...]:
    """The ids of the rules carrying `tag`."""
    return tuple(rule.id for rule in rules.rules if tag in rule.tags) if rules else ()
