"""cProfile for the benchmark: one piece of work profiled, its functions named as a reader
finds them (path from the repository root or the installed package, line, name)."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.measure import timed
from bench.paths import shown


@dataclass(frozen=True)
class ProfileLine:
    """A function (or a library: functions grouped) in a profile."""

    function: str
    calls: int
    own_seconds: float
    cumulative_seconds: float
    share: float  # of the whole profiled pass's time


Stats = dict[tuple[str, int, str], tuple[Any, int, float, float, Any]]


def profiled(work: Callable[[], object]) -> tuple[float, Stats]:
    """Seconds `work` took under the profiler (inflated by it), and the profile."""
    profiler = cProfile.Profile()

    def run() -> None:
        profiler.enable()
        try:
            work()
        finally:
            profiler.disable()

    seconds = timed(run)[0]
    return seconds, pstats.Stats(profiler).stats  # type: ignore[attr-defined]


def own_total(stats: Stats) -> float:
    return sum(own for _, _, own, _, _ in stats.values())


def top_by_own(stats: Stats, top: int) -> list[ProfileLine]:
    """The `top` functions by own (exclusive) time, each with its share of all own time."""
    total = own_total(stats)
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return [ProfileLine(function_name(key), calls, own, cumulative, own / total)
            for key, (_, calls, own, cumulative, _) in rows]


def function_name(key: tuple[str, int, str]) -> str:
    path, line, name = key
    if path == "~":
        return name
    return f"{shown(path)}:{line}({name})"
