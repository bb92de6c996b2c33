"""The rule set as the workspace reads it (a feed's tags, a rule's title): loaded from the
configured rules path once, and again only when a rule file there changes, is added or is
removed, so a request does not parse every rule file."""

from __future__ import annotations

import threading
from pathlib import Path

from watcher.rules.ast import RuleSet
from watcher.rules.load import load_rules, rule_files

_Stamp = tuple[tuple[str, int, int], ...]  # every rule file: path, mtime (ns), size

_lock = threading.Lock()
_loaded: dict[str, tuple[_Stamp, RuleSet]] = {}


def rule_set(path: str) -> RuleSet:
    """The rules under `path`; RuleSetError when they do not load (nothing is cached then,
    so the next request tries again)."""
    stamp = _stamp(Path(path))
    with _lock:
        cached = _loaded.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    rules = load_rules(path)
    with _lock:
        _loaded[path] = (stamp, rules)
    return rules


def tagged(rules: RuleSet, tag: str) -> set[str]:
    """Ids of the rules that carry `tag`."""
    return {rule.id for rule in rules.rules if tag in rule.tags}


def _stamp(root: Path) -> _Stamp:
    if not root.exists():
        return ()
    stamps = []
    for file in rule_files(root):
        try:
            status = file.stat()
        except OSError:  # a broken link: load_rules reports it
            stamps.append((str(file), -1, -1))
        else:
            stamps.append((str(file), status.st_mtime_ns, status.st_size))
    return tuple(stamps)
