"""Where a YAML syntax error is, for rule files and watcher.yaml alike.

PyYAML marks the place it gave up. For a quote, bracket or brace never closed that is the
end of the file, far from the mistake: the place it was opened (its context mark) is
reported instead.
"""

from __future__ import annotations

import yaml


def error_position(error: yaml.MarkedYAMLError) -> tuple[int, int] | None:
    """1-based line and column of the mistake, or None when PyYAML gave no mark."""
    mark = error.problem_mark or error.context_mark
    problem = error.problem or ""
    if error.context_mark is not None and ("end of stream" in problem or "<stream end>" in problem):
        mark = error.context_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else None
