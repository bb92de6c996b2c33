"""What the labelled sets (bench/data/quality, bench/data/places) share: reading a JSON-lines
file of judgements with one error line per bad or repeated line, and the lists of notices
and the percentages their reports print."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def read_judgements(
    path: Path, parse: Callable[[object, int], T], spot: Callable[[T], Hashable],
    name: Callable[[T], str],
) -> tuple[list[T], list[str]]:
    """Each line parsed (`parse(data, line number)`), and one `PATH:LINE: why` per line that
    could not be read or judges a `spot` an earlier line judged (skipped: the first wins)."""
    read: list[T] = []
    errors: list[str] = []
    seen: dict[Hashable, int] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            item = parse(json.loads(text), number)
        except (ValueError, TypeError, KeyError) as error:
            missing = isinstance(error, KeyError)
            errors.append(f"{path}:{number}: {f'missing key {error}' if missing else error}")
            continue
        key = spot(item)
        if key in seen:
            errors.append(f"{path}:{number}: {name(item)} already judged on line {seen[key]}; "
                          "this line is skipped")
            continue
        seen[key] = number
        read.append(item)
    return read, errors


def notice_lines(sections: Sequence[tuple[str, Sequence[str]]]) -> Iterable[str]:
    """Each non-empty list as `Title: N` and its items, for the end of a report."""
    for title, items in sections:
        if items:
            yield ""
            yield f"{title}: {len(items)}"
            yield ""
            yield from (f"- {item}" for item in items)


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
