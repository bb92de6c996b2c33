"""The workers part's reading of what limits scaling, on passes too short to read CPU."""

from __future__ import annotations

from bench.measure import Machine
from bench.workers_bench import CpuUse, Stored, WorkersRun, _limits


def _run(workers: int, cpu: CpuUse) -> WorkersRun:
    stored = Stored(story_sets=frozenset(), first_pairs=frozenset(), digest="")
    return WorkersRun(label="PostgreSQL", code="this tree", workers=workers, articles=10,
                      window_articles=10, ingest_seconds=1.0, wall_seconds=2.0,
                      failing_sources=0, stored=stored, cpu=cpu)


def _results_machine() -> object:
    class Results:  # what _limits reads: the machine's cores and a run's passes
        machine = Machine(date="", cpus=2, cpu_model="", ram_gib=0.0, python="", spacy="",
                          load_average="", code="")

        def passes(self, run: WorkersRun) -> list[WorkersRun]:
            return [run]
    return Results()


def test_a_window_with_no_cpu_read_says_so_instead_of_dividing_by_zero() -> None:
    """A quick run on a busy machine can end its window before /proc counts a tick: the
    section is still written (the quick bench test runs it), saying nothing was read."""
    idle = CpuUse(seconds=0.0, workers=0.0, postgres=0.0, feeds=0.0)
    lines = _limits(_results_machine(), _run(1, idle), _run(4, idle))  # type: ignore[arg-type]
    assert lines == ["- What limits the scaling: not read, a pass's window held no CPU time."]
    assert idle.busy(2) == 0.0


def test_a_window_with_cpu_gives_the_ceiling_of_the_cores() -> None:
    one = CpuUse(seconds=10.0, workers=5.0, postgres=5.0, feeds=0.0)
    most = CpuUse(seconds=10.0, workers=8.0, postgres=6.0, feeds=0.0)
    lines = _limits(_results_machine(), _run(1, one), _run(4, most))  # type: ignore[arg-type]
    assert "could do at most 2.00x one worker" in lines[0]
