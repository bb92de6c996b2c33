"""The matching benchmark's measured values, as plain frozen records.

Only numbers and labels live here; measuring is matching_bench.py's job, presenting is
matching_report.py's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.measure import Machine, Passes
from bench.profiling import ProfileLine
from bench.sizes import Sizes
from bench.stages import Stages
from bench.unseen_bench import UnseenComparison


@dataclass(frozen=True)
class Load:
    """Parsing and compiling one rule set, and the resident memory it added."""

    rules: int
    parse_seconds: float
    compile_seconds: float
    rss_bytes: int

    @property
    def seconds(self) -> float:
        return self.parse_seconds + self.compile_seconds


@dataclass(frozen=True)
class EngineRun:
    rules: int
    matches: int
    candidates_per_article: float
    first_pass: float  # engine alone, first pass: learns every word type's atoms
    engine: Passes  # engine alone on pre-analysed texts
    full: Passes  # analysis + engine


@dataclass(frozen=True)
class NotFiring:
    """The smallest rule set against it plus rules for other theatres, timed in turns
    (bench.measure.paired_best): engine alone and analysis + engine."""

    engine_base: Passes
    engine_loaded: Passes
    full_base: Passes
    full_loaded: Passes


@dataclass(frozen=True)
class RegexRun:
    rules: int
    matches: int | None
    passes: Passes | None
    extrapolated_seconds: float | None = None

    @property
    def seconds(self) -> float:
        if self.passes is not None:
            return self.passes.best
        assert self.extrapolated_seconds is not None
        return self.extrapolated_seconds


@dataclass(frozen=True)
class Results:
    machine: Machine
    articles: int
    characters: int
    words: int
    vocabulary: str
    rule_mix: Counter[str]
    tokenizer_cold: float
    tokenizer: Passes
    analysis_first: float
    analysis: Passes
    load: Load
    engines: list[EngineRun]
    elsewhere: EngineRun  # the smallest set + rules for other theatres, as many as the largest
    not_firing: NotFiring  # the same two sets timed in turns, for the 1.3x target
    regexes: list[RegexRun]
    regex_translate_seconds: float
    profile: list[ProfileLine]
    profile_rules: int
    stages: Stages  # the engine's stages at profile_rules, timed apart
    unseen: UnseenComparison  # newer half after the older: this tree and a baseline
    examples: list[str]
    total_seconds: float
    sizes: Sizes

    def engine(self, rules: int) -> EngineRun:
        return next(e for e in self.engines if e.rules == rules)

    def regex(self, rules: int) -> RegexRun:
        return next(r for r in self.regexes if r.rules == rules)

    @property
    def top(self) -> int:
        return max(e.rules for e in self.engines)

    @property
    def bottom(self) -> int:
        return min(e.rules for e in self.engines)
