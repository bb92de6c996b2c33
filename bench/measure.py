"""Timing, memory and machine facts for the benchmark: perf_counter passes, VmRSS, /proc.

A pass is timed after a full garbage collection, with the collector left on as in production.
"""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import spacy

from bench.paths import ROOT

T = TypeVar("T")


@dataclass(frozen=True)
class Passes:
    """Seconds of each timed pass over the corpus; `best` is what the tables report."""

    seconds: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def first(self) -> float:
        return self.seconds[0]


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """Seconds one call takes, and its result."""
    gc.collect()
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def best_of(work: Callable[[], object], repeats: int = 3) -> Passes:
    return Passes(tuple(timed(work)[0] for _ in range(repeats)))


@dataclass(frozen=True)
class Repeats:
    """How many passes a measurement takes.

    Short passes are repeated until about `seconds` have been measured (at least
    `least`, at most `most` passes): a 20 ms pass is at the mercy of one scheduler
    hiccup. Two works compared by a ratio are timed in turns (A B A B …) for about
    `paired_seconds`, at most `paired_most` pairs: a machine that slows down or speeds
    up meanwhile weighs on both alike, which separate series minutes apart do not (their
    20 ms passes swung the ratio between 0.8 and 1.3 on this shared machine)."""

    seconds: float = 1.0
    least: int = 3
    most: int = 25
    paired_seconds: float = 3.0
    paired_most: int = 60


FULL_REPEATS = Repeats()
ONCE = Repeats(seconds=0.0, least=1, most=1, paired_seconds=0.0, paired_most=1)


def best_of_many(work: Callable[[], object], repeats: Repeats = FULL_REPEATS) -> Passes:
    """Best of at least `repeats.least` passes, more for short ones (see Repeats)."""
    first = timed(work)[0]
    wanted = max(repeats.least, min(repeats.most, int(repeats.seconds / max(first, 1e-6))))
    return Passes((first, *(timed(work)[0] for _ in range(wanted - 1))))


def paired_best(first: Callable[[], object], second: Callable[[], object],
                repeats: Repeats = FULL_REPEATS) -> tuple[Passes, Passes]:
    """Passes of two works taken in turns; compare their `best`."""
    a, b = [timed(first)[0]], [timed(second)[0]]
    wanted = max(repeats.least, min(repeats.paired_most,
                                    int(repeats.paired_seconds / max(a[0] + b[0], 1e-6))))
    for _ in range(wanted - 1):
        a.append(timed(first)[0])
        b.append(timed(second)[0])
    return Passes(tuple(a)), Passes(tuple(b))


def turns_best(works: Sequence[Callable[[], object]], repeats: Repeats = FULL_REPEATS,
               prepare: Callable[[], object] | None = None) -> list[Passes]:
    """Passes of several works taken in turns (A B C A B C …), as `paired_best` takes two;
    `prepare`, untimed, runs before each turn (fresh inputs for works that use them up)."""
    def turn() -> list[float]:
        if prepare is not None:
            prepare()
        return [timed(work)[0] for work in works]

    rounds = [turn()]
    wanted = max(repeats.least, min(repeats.paired_most,
                                    int(repeats.paired_seconds / max(sum(rounds[0]), 1e-6))))
    rounds.extend(turn() for _ in range(wanted - 1))
    return [Passes(tuple(seconds)) for seconds in zip(*rounds, strict=True)]


def rss_bytes() -> int:
    """Resident memory of this process (VmRSS), after a full garbage collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Machine:
    date: str
    cpus: int
    cpu_model: str
    ram_gib: float
    python: str
    spacy: str
    load_average: str
    code: str

    def describe(self) -> list[str]:
        return [
            f"date: {self.date}",
            f"machine: {self.cpus} CPUs (nproc), {self.cpu_model}, {self.ram_gib:.1f} GiB RAM",
            f"software: Python {self.python}, spaCy {self.spacy}, {platform.platform()}",
            f"load average when the run started: {self.load_average}",
            f"code measured: {self.code}",
        ]


def machine() -> Machine:
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=_cpuinfo_field("model name"),
        ram_gib=_meminfo_kib("MemTotal") / 1024**2,
        python=platform.python_version(),
        spacy=spacy.__version__,
        load_average=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        code=code_version(),
    )


def code_version() -> str:
    """The commit measured, and whether watcher/ had uncommitted changes (the code moves)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (no git)"
    dirty = git("status", "--porcelain", "--", "watcher")
    return f"git {commit}" + (" + uncommitted changes under watcher/" if dirty else "")


def _cpuinfo_field(name: str) -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return "unknown"


def _meminfo_kib(name: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0
