"""NEAR on word ranges: which pairs of hits in one field are close enough.

Hits are (first, last) word positions (extents) or runs of them; right-hand ones are
sorted. A pair is close enough when at most `distance` words lie between them, or when
both lie wholly in one sentence (paragraph) given each word's unit number; ONEAR also
wants left before right.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

Extent = tuple[int, int]
# A node's hits in one field as sorted starts and their ends; for single words the ends
# list *is* the starts list, which lets the common case skip work.
Run = tuple[list[int], list[int]]


def pairs(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool, units: list[int] | None
) -> Iterator[tuple[Extent, Extent]]:
    """Every (left, right) pair that satisfies the NEAR; `units` None for a word distance."""
    if not left or not right:
        return iter(())
    if units is None:
        return pairs_within(left, right, distance, ordered)
    return pairs_in_unit(left, right, units, ordered)


def any_pair(left: Run, right: Run, distance: int, ordered: bool, units: list[int] | None) -> bool:
    """Whether some pair of hits satisfies the NEAR: truth needs no more."""
    if not left[0] or not right[0]:
        return False
    if units is None:
        return any_within(left, right, distance, ordered)
    return any_in_unit(left, right, units, ordered)


def any_within(left: Run, right: Run, distance: int, ordered: bool) -> bool:
    """Whether a left and a right hit have at most `distance` words between them."""
    reach = distance + 1
    (left_starts, left_ends), (starts, ends) = left, right
    if starts is ends and not ordered:  # single words: the first right one in reach decides
        count = len(starts)
        for first, last in zip(left_starts, left_ends, strict=True):
            i = bisect_left(starts, first - reach)
            if i < count and starts[i] <= last + reach:
                return True
        return False
    longest = max(e - s for s, e in zip(starts, ends, strict=True))
    for first, last in zip(left_starts, left_ends, strict=True):
        lo = bisect_left(starts, first - reach - longest)
        hi = bisect_right(starts, last + reach)
        for j in range(lo, hi):
            if ends[j] >= first - reach and (not ordered or last < starts[j]):
                return True
    return False


def any_in_unit(left: Run, right: Run, units: list[int], ordered: bool) -> bool:
    """Whether a left and a right hit lie wholly inside one sentence (or paragraph)."""
    if not ordered:
        return not _whole_units(*right, units).isdisjoint(_whole_units(*left, units))
    latest: dict[int, int] = {}  # unit -> start of its last right hit
    for start, end in zip(*right, strict=True):
        unit = units[start]
        if units[end] == unit and start > latest.get(unit, -1):
            latest[unit] = start
    for start, end in zip(*left, strict=True):
        unit = units[start]
        if units[end] == unit and end < latest.get(unit, -1):
            return True
    return False


def _whole_units(starts: list[int], ends: list[int], units: list[int]) -> set[int]:
    """Units that hold some hit wholly."""
    if starts is ends:
        return set(map(units.__getitem__, starts))
    return {units[s] for s, e in zip(starts, ends, strict=True) if units[s] == units[e]}


def pairs_within(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool
) -> Iterator[tuple[Extent, Extent]]:
    """Pairs with at most `distance` words between them (overlapping pairs have none)."""
    starts = [b[0] for b in right]
    reach = distance + 1
    longest = max(b[1] - b[0] for b in right)
    for a in left:
        first, last = a
        lo = bisect_left(starts, first - reach - longest)
        hi = bisect_right(starts, last + reach)
        for b in right[lo:hi]:
            if b[1] >= first - reach and (not ordered or last < b[0]):
                yield a, b


def pairs_in_unit(
    left: list[Extent], right: list[Extent], units: list[int], ordered: bool
) -> Iterator[tuple[Extent, Extent]]:
    """Pairs inside one sentence (or paragraph); `units` numbers each word's.

    Unit numbers grow with position, so a pair shares a unit exactly when both hits
    lie wholly inside the same one.
    """
    by_unit: dict[int, list[Extent]] = {}
    for b in right:
        unit = units[b[0]]
        if units[b[1]] == unit:
            by_unit.setdefault(unit, []).append(b)
    for a in left:
        unit = units[a[0]]
        if units[a[1]] != unit:
            continue
        for b in by_unit.get(unit, ()):
            if not ordered or a[1] < b[0]:
                yield a, b
