"""NEAR on word ranges: which pairs of hits in one field are close enough.

Hits are (first, last) word positions (extents) or runs of them; right-hand ones are
sorted. A pair is close enough when at most `distance` words lie between them, or when
both lie wholly in one sentence (paragraph) given each word's unit number; ONEAR also
wants left before right.

Pairs can be quadratic in the hits (a long text without a full stop, repeating its
words, under NEAR/s), so: truth needs one pair (`any_pair`), highlights need only which
hits take part (`used_hits`), and only NEAR chains list pairs (`chain_pairs`), falling
back past PAIR_LIMIT to the few pairs that decide every NEAR around them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate

import numpy as np

Extent = tuple[int, int]
# A node's hits in one field as sorted starts and their ends; for single words the ends
# list *is* the starts list, which lets the common case skip work.
Run = tuple[list[int], list[int]]
Units = list[int] | None  # each word's sentence (paragraph) number, None for a word distance

# Past this many close pairs for one NEAR in one field, a chain's inner NEAR keeps only
# representative pairs (see `representative_pairs`).
PAIR_LIMIT = 50_000


def pairs(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool, units: Units
) -> Iterator[tuple[Extent, Extent]]:
    """Every (left, right) pair that satisfies the NEAR; `units` None for a word distance."""
    if not left or not right:
        return iter(())
    if units is None:
        return pairs_within(left, right, distance, ordered)
    return pairs_in_unit(left, right, units, ordered)


def any_pair(left: Run, right: Run, distance: int, ordered: bool, units: Units) -> bool:
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
    latest = _latest_start_per_unit(zip(*right, strict=True), units)
    for start, end in zip(*left, strict=True):
        unit = units[start]
        if units[end] == unit and end < latest.get(unit, -1):
            return True
    return False


def _latest_start_per_unit(hits: Iterable[Extent], units: list[int]) -> dict[int, int]:
    """Unit -> start of the last hit wholly inside it (ONEAR: a left hit ending before it
    pairs with it)."""
    latest: dict[int, int] = {}
    for start, end in hits:
        unit = units[start]
        if units[end] == unit and start > latest.get(unit, -1):
            latest[unit] = start
    return latest


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


def units_with_pair(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool, units: Units,
    sentences: list[int],
) -> set[int]:
    """The sentences (numbered per word in `sentences`) that wholly hold some close pair,
    i.e. where the pair's joined range lies in one sentence, without listing the pairs.

    Sentence numbers grow with position, so that is both hits wholly inside the sentence:
    only sentences wholly holding hits of both sides are asked, each for one pair among
    its own hits (under NEAR/s any two of them pair up, bar ONEAR's order)."""
    if not left or not right:
        return set()
    if units is None:
        return _units_with_pair_within(left, right, distance, ordered, sentences)
    if units is sentences and not ordered:
        return _units_holding(left, sentences) & _units_holding(right, sentences)
    lefts, rights = _runs_by_unit(left, sentences), _runs_by_unit(right, sentences)
    return {unit for unit, run in lefts.items()
            if unit in rights and any_pair(run, rights[unit], distance, ordered, units)}


def _units_with_pair_within(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool, sentences: list[int]
) -> set[int]:
    """`units_with_pair` for a word distance in one pass over the left hits, each looking
    only at the right hits in reach (a bisection) and none once its sentence has a pair:
    most sentences hold a hit or two, so grouping every hit by sentence first cost more
    than the pairs asked."""
    reach = distance + 1
    right_starts = [start for start, _ in right]
    longest = max(end - start for start, end in right)
    found: set[int] = set()
    for first, last in left:
        sentence = sentences[first]
        if sentence in found or sentences[last] != sentence:
            continue
        for start, end in right[bisect_left(right_starts, first - reach - longest):
                                bisect_right(right_starts, last + reach)]:
            if end >= first - reach and sentences[start] == sentence == sentences[end] \
                    and (not ordered or last < start):
                found.add(sentence)
                break
    return found


def _units_holding(hits: list[Extent], units: list[int]) -> set[int]:
    """The units that wholly hold some of the hits."""
    return {units[start] for start, end in hits if units[start] == units[end]}


def _runs_by_unit(hits: list[Extent], units: list[int]) -> dict[int, Run]:
    """The hits wholly inside each unit, as runs in the hits' order."""
    found: dict[int, Run] = {}
    for start, end in hits:
        unit = units[start]
        if units[end] == unit:
            run = found.get(unit)
            if run is None:
                found[unit] = ([start], [end])
            else:
                run[0].append(start)
                run[1].append(end)
    return found


def used_hits(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool, units: Units
) -> tuple[set[Extent], set[Extent]]:
    """The left and the right hits that take part in some close pair, without listing
    the pairs; `right` sorted."""
    if not left or not right:
        return set(), set()
    if units is None:
        return _used_within(left, right, distance, ordered)
    return _used_in_unit(left, right, units, ordered)


def _used_within(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool
) -> tuple[set[Extent], set[Extent]]:
    reach = distance + 1
    if ordered:  # a pair is a left end shortly before a right start
        starts = [b[0] for b in right]
        lefts_by_end = sorted(left, key=lambda a: a[1])
        ends = [a[1] for a in lefts_by_end]
        used_left = {a for a in left if _has_in(starts, a[1] + 1, a[1] + reach)}
        used_right = {b for b in right if _has_in(ends, b[0] - reach, b[0] - 1)}
        return used_left, used_right
    return _reaching(left, right, reach), _reaching(right, sorted(left), reach)


def _has_in(values: list[int], low: int, high: int) -> bool:
    """Whether the sorted `values` hold one in [low, high]."""
    i = bisect_left(values, low)
    return i < len(values) and values[i] <= high


def _reaching(hits: list[Extent], others: list[Extent], reach: int) -> set[Extent]:
    """Hits with some of the sorted `others` at most `reach` - 1 words away."""
    starts = [b[0] for b in others]
    furthest_end = list(accumulate((b[1] for b in others), max))  # among others[: i + 1]
    found = set()
    for first, last in hits:
        i = bisect_right(starts, last + reach)  # others starting in reach or before
        if i and furthest_end[i - 1] >= first - reach:
            found.add((first, last))
    return found


def _used_in_unit(
    left: list[Extent], right: list[Extent], units: list[int], ordered: bool
) -> tuple[set[Extent], set[Extent]]:
    whole_left = [a for a in left if units[a[0]] == units[a[1]]]
    whole_right = [b for b in right if units[b[0]] == units[b[1]]]
    if not ordered:
        shared = {units[a[0]] for a in whole_left} & {units[b[0]] for b in whole_right}
        return (
            {a for a in whole_left if units[a[0]] in shared},
            {b for b in whole_right if units[b[0]] in shared},
        )
    last_start = _latest_start_per_unit(whole_right, units)
    first_end: dict[int, int] = {}  # unit -> earliest left end
    for a in whole_left:
        unit = units[a[0]]
        first_end[unit] = min(first_end.get(unit, a[1]), a[1])
    return (
        {a for a in whole_left if a[1] < last_start.get(units[a[0]], -1)},
        {b for b in whole_right if first_end.get(units[b[0]], b[0]) < b[0]},
    )


def chain_pairs(
    left: list[Extent],
    right: list[Extent],
    distance: int,
    ordered: bool,
    units: Units,
    limit: int | None = None,
) -> list[tuple[Extent, Extent]]:
    """The pairs whose joined ranges a NEAR chain passes on: every close pair, or past
    `limit` (default PAIR_LIMIT) of them the representative ones."""
    if not left or not right:
        return []
    if _pair_count(left, right, distance, units) <= (PAIR_LIMIT if limit is None else limit):
        return list(pairs(left, right, distance, ordered, units))
    return representative_pairs(left, right, distance, ordered, units)


def _pair_count(left: list[Extent], right: list[Extent], distance: int, units: Units) -> int:
    """How many pairs `pairs` would look at, at most (ignoring order)."""
    if units is not None:
        per_unit: dict[int, int] = {}
        for b in right:
            per_unit[units[b[0]]] = per_unit.get(units[b[0]], 0) + 1
        return sum(per_unit.get(units[a[0]], 0) for a in left)
    starts = [b[0] for b in right]
    reach = distance + 1
    longest = max(b[1] - b[0] for b in right)
    return sum(
        bisect_right(starts, last + reach) - bisect_left(starts, first - reach - longest)
        for first, last in left
    )


def representative_pairs(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool, units: Units
) -> list[tuple[Extent, Extent]]:
    """For each hit, its close pairs with the partners that start latest and earliest
    among those ending no later than it, and with the partners that end earliest and
    latest among those starting no earlier than it.

    A chain joins a pair into the range (first start, last end). These pairs give, for
    every last word and for every first word, the shortest and the longest joined range,
    and those decide every NEAR taken of the chain: word distance holds for a longer
    range whenever for a shorter, ONEAR before (after) the chain looks only at its first
    (last) word, and "same sentence" holds for a shorter whenever for a longer. At most
    eight pairs per hit, found by range queries.
    """
    found = set(_ending_no_later(left, right, distance, ordered, units))
    # Starting no earlier is ending no later read backwards: mirror every position (and
    # swap the sides, so ONEAR's order holds in the mirror), ask the same, mirror back.
    size = len(units) if units is not None else 1 + max(e for _, e in (*left, *right))

    def mirror(hit: Extent) -> Extent:
        return size - 1 - hit[1], size - 1 - hit[0]

    mirrored_units = None if units is None else [-u for u in reversed(units)]
    mirrored = _ending_no_later(
        sorted(map(mirror, right)), sorted(map(mirror, left)), distance, ordered, mirrored_units
    )
    found.update((mirror(b), mirror(a)) for a, b in mirrored)
    return sorted(found)


def _ending_no_later(
    left: list[Extent], right: list[Extent], distance: int, ordered: bool, units: Units
) -> list[tuple[Extent, Extent]]:
    """For each hit, its close pairs with the partners that start latest and earliest
    among those ending no later than it does (with ONEAR, right hits' left partners)."""
    found: list[tuple[Extent, Extent]] = []
    sides = [(right, left, False)]  # (hits, their partners, whether partners are right)
    if not ordered:
        sides.append((left, right, True))
    for hits, partners, partners_right in sides:
        if units is not None:  # only hits wholly inside one unit pair up
            hits = [h for h in hits if units[h[0]] == units[h[1]]]
            partners = [p for p in partners if units[p[0]] == units[p[1]]]
        if not hits or not partners:
            continue
        by_end = sorted(partners, key=lambda p: (p[1], p[0]))
        ends = [p[1] for p in by_end]
        # Keys that order partners by start and still say which one: start * n + index.
        count = len(by_end)
        keys = np.array([p[0] for p in by_end], dtype=np.int64) * count + np.arange(count)
        low, high = _partner_windows(hits, ends, distance, ordered, units)
        has = low < high
        latest = _range_extreme(keys, low[has], high[has], np.maximum) % count
        earliest = _range_extreme(keys, low[has], high[has], np.minimum) % count
        chosen = [h for h, ok in zip(hits, has.tolist(), strict=True) if ok]
        for hit, a, b in zip(chosen, latest.tolist(), earliest.tolist(), strict=True):
            for partner in (by_end[a], by_end[b]):
                found.append((hit, partner) if partners_right else (partner, hit))
    return found


def _partner_windows(
    hits: list[Extent], ends: list[int], distance: int, ordered: bool, units: Units
) -> tuple[np.ndarray, np.ndarray]:
    """For each hit, the slice of partners (sorted by end) that end no later than it
    and close enough to it: [low, high)."""
    low, high = [], []
    for first, last in hits:
        latest_end = first - 1 if ordered else last
        # A word distance reaches back `distance` words; a unit back to its first word.
        earliest_end = first - distance - 1 if units is None else bisect_left(units, units[first])
        low.append(bisect_left(ends, earliest_end))
        high.append(bisect_right(ends, latest_end))
    return np.array(low, dtype=np.int64), np.array(high, dtype=np.int64)


def _range_extreme(
    values: np.ndarray, low: np.ndarray, high: np.ndarray, pick: Callable[..., np.ndarray]
) -> np.ndarray:
    """pick (np.maximum or np.minimum) of values[low:high] for each non-empty slice, from
    a sparse table: level k holds the pick of every slice of 2**k values."""
    levels = [values]
    while 2 ** len(levels) <= len(values):
        prev, step = levels[-1], 2 ** (len(levels) - 1)
        levels.append(pick(prev[:-step], prev[step:]))
    # The level of a slice: the largest k with 2**k <= its size, i.e. bit_length - 1.
    level = np.array([int(n).bit_length() - 1 for n in (high - low).tolist()], dtype=np.int64)
    result = np.empty(len(low), dtype=values.dtype)
    for k in np.unique(level).tolist():
        rows = level == k
        table = levels[k]
        result[rows] = pick(table[low[rows]], table[high[rows] - 2**k])
    return result
