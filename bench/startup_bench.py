"""`python -m bench.startup_bench`: how long a `watcher` command takes to start.

Issue 20 asks `watcher --version` under 0.3 s and `watcher rules check` on the shipped
rules under 1.5 s. Each command runs as users run it, a fresh `python -m watcher` process
in an empty directory (no watcher.yaml), this checkout first on the path; measured: its wall
time and CPU time (user + system, from the children's rusage), median and worst of `runs`
processes, the commands taking turns so a busy moment of the machine is shared out. The
baseline is `python -c pass` in the same run: the interpreter's own start, which no change
to watcher can remove. `python -m bench.run --only startup` writes it to bench/RESULTS.md
("Start-up").
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from bench.measure import Machine, machine
from bench.paths import ROOT
from bench.sections import head
from bench.tables import Column, markdown

STARTUP_HEADING = "## Start-up"
BEFORE = "git 324bde0, measured 2026-12-06 beside 445fde2"  # the figures quoted in the section

# (label, arguments after the interpreter, limit in seconds or None)
COMMANDS = (
    ("python -c pass (baseline)", ("-c", "pass"), None),
    ("watcher --version", ("-m", "watcher", "--version"), 0.3),
    ("watcher --help", ("-m", "watcher", "--help"), None),
    ("watcher rules check rules/", ("-m", "watcher", "rules", "check", str(ROOT / "rules")), 1.5),
)


def _run_once(arguments: tuple[str, ...], cwd: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure_startup(runs: int = 10) -> list[dict]:
    """Per command: median and worst wall seconds, median CPU seconds over `runs` processes,
    and the median's ratio to the baseline's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    walls: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
    with tempfile.TemporaryDirectory(prefix="startup-") as empty:
        for _label, arguments, _ in COMMANDS:  # a warm-up each: files in the page cache
            _run_once(arguments, empty, env)
        for _ in range(runs):
            for label, arguments, _ in COMMANDS:
                wall, cpu = _run_once(arguments, empty, env)
                walls[label].append(wall)
                cpus[label].append(cpu)
    baseline = statistics.median(walls[COMMANDS[0][0]])
    return [
        {
            "command": label,
            "seconds": statistics.median(walls[label]),
            "worst_seconds": max(walls[label]),
            "cpu_seconds": statistics.median(cpus[label]),
            "ratio": statistics.median(walls[label]) / baseline,
            "limit": limit,
        }
        for label, _, limit in COMMANDS
    ]


def _verdict(row: dict) -> str:
    if row["limit"] is None:
        return ""
    return "met" if row["seconds"] < row["limit"] else "EXCEEDED"


COLUMNS = (
    Column("command", lambda r: f"`{r['command']}`"),
    Column("wall s (median)", lambda r: f"{r['seconds']:.3f}"),
    Column("worst s", lambda r: f"{r['worst_seconds']:.3f}"),
    Column("CPU s (median)", lambda r: f"{r['cpu_seconds']:.3f}"),
    Column("x baseline", lambda r: f"{r['ratio']:.1f}"),
    Column("limit s", lambda r: "" if r["limit"] is None else f"{r['limit']}"),
    Column("verdict", _verdict),
)


@dataclass
class StartupReport:
    machine: Machine
    runs: int
    rows: list[dict]


def measure_startup_part(runs: int = 10) -> StartupReport:
    return StartupReport(machine(), runs, measure_startup(runs))


def render_startup_table(report: StartupReport) -> str:
    return "\n".join(markdown(COLUMNS, report.rows))


def render_startup_markdown(report: StartupReport) -> str:
    return "\n".join([
        *head(STARTUP_HEADING, "start-up", "startup", report.machine,
              f"{report.runs} fresh processes per command, taking turns (after one warm-up "
              "each); wall time by the parent, CPU time from the children's rusage"),
        "How long a command takes before it does anything: each command imports only its",
        "own module (watcher/cli/lazy.py, the command table in watcher/cli/main.py), and",
        "spaCy, SQLAlchemy, datasketch, apprise and FastAPI only where they are used.",
        "`rules check` with the default pipeline (blank:en) loads the rules and the",
        "gazetteer (about 0.45 s of it, \"Gazetteer\" above), no spaCy. Issue 20's limits",
        "are on the median wall time; the baseline is the interpreter alone, in the same run.",
        f"Before the command table ({BEFORE}), every",
        "command imported every command's modules: `watcher --version` took 2.46 s (median",
        "of 6 fresh processes, worst 3.14 s) and `watcher rules check rules/` 2.49 s (worst",
        "3.51 s) on this machine.",
        "",
        render_startup_table(report),
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    report = measure_startup_part(args.runs)
    print(render_startup_table(report))
    return 0 if all(_verdict(r) != "EXCEEDED" for r in report.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
