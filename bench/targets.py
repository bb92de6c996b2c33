"""The issue's performance targets as data: what is checked, what was measured, the goal,
and PASS or FAIL; every part's report shows them through TARGET_COLUMNS."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from bench.tables import Column

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge,
}


@dataclass(frozen=True)
class Target:
    """`measured` must stand in relation `comparison` ("<=", "<" or ">=") to `limit`.

    `shown` replaces the measured value's usual text (`1.30 x`) where a report says more."""

    check: str
    measured: float
    unit: str
    comparison: str
    limit: float
    shown: str | None = None

    @property
    def verdict(self) -> str:
        return "PASS" if COMPARISONS[self.comparison](self.measured, self.limit) else "FAIL"

    @property
    def goal(self) -> str:
        unit = "x" if self.unit == "x" else f" {self.unit}"
        return f"{self.comparison} {self.limit:g}{unit}"

    @property
    def measured_text(self) -> str:
        return self.shown or f"{self.measured:,.2f} {self.unit}"


TARGET_COLUMNS = (
    Column("target", "check"),
    Column("measured", "measured_text"),
    Column("goal", "goal"),
    Column("verdict", "verdict"),
)
