"""One table renderer for every report: rows of any kind, and columns that say what to show
(a title, how to read the value from a row, how to format it), as markdown or plain text.

    columns = [Column("rules", "rules", ","), Column("best s", lambda r: r.passes.best, ".3f")]
    markdown(columns, runs)  # -> ["| rules | best s |", "|---|---|", "| 1,000 | 0.256 |"]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

Reader = Callable[[Any], Any] | str


@dataclass(frozen=True)
class Column:
    """A column: its title, the value of a row (a callable, or an attribute name), and the
    format spec for that value (`format(value, spec)`). A value of None shows empty."""

    title: str
    value: Reader
    spec: str = ""

    def cell(self, row: Any) -> str:
        read = attrgetter(self.value) if isinstance(self.value, str) else self.value
        value = read(row)
        return "" if value is None else format(value, self.spec)


def cells(columns: Sequence[Column], rows: Sequence[Any]) -> list[list[str]]:
    return [[column.cell(row) for column in columns] for row in rows]


def markdown(columns: Sequence[Column], rows: Sequence[Any]) -> list[str]:
    """A markdown table, one line per row after the header."""
    rule = "|" + "|".join("---" for _ in columns) + "|"
    return [_markdown_line([c.title for c in columns]), rule,
            *(_markdown_line(line) for line in cells(columns, rows))]


def plain(columns: Sequence[Column], rows: Sequence[Any]) -> list[str]:
    """A table for the terminal: the first column left-aligned, the others right-aligned."""
    lines = [[c.title for c in columns], *cells(columns, rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]

    def aligned(line: list[str]) -> str:
        first, *rest = line
        return "  ".join([first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:],
                                                                                strict=True))])

    return [aligned(lines[0]), "  ".join("-" * w for w in widths), *map(aligned, lines[1:])]


def _markdown_line(line: Sequence[str]) -> str:
    return "| " + " | ".join(line) + " |"
