"""Building and driving the Lucene harness (bench/lucene/*.java) from Python.

The Java sources are compiled at bench time with the machine's `javac` against Debian's
Lucene jars (package liblucene8-java, installed by scripts/bench-packages.sh) into
bench/out/lucene/; nothing compiled is committed. The harness runs as one JVM per input
that answers `pass N` / `pairs N` on its stdin, so Python can alternate its passes with
watcher's. When Java or a jar is missing, or the harness fails, LuceneUnavailable says why
in one line and the benchmark goes on without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.paths import BENCH

SOURCES = BENCH / "lucene"
JAR_DIRECTORY = Path("/usr/share/java")
# What the harness is built from: core (analysis, span queries), memory (MemoryIndex) and
# analyzers-common (EnglishPossessiveFilter). Debian ships no lucene-monitor jar.
JARS = ("lucene-core", "lucene-memory", "lucene-analyzers-common")
MAIN_CLASS = "Harness"


class LuceneUnavailable(Exception):
    """The harness cannot run here; the message says why, in one line."""


@dataclass(frozen=True)
class Toolchain:
    java: str
    javac: str
    jars: tuple[Path, ...]


@dataclass(frozen=True)
class LucenePass:
    """One pass of the harness over every article with the first `rules` rules."""

    rules: int
    seconds: float
    cpu_seconds: float  # the whole JVM's, its compiler and collector threads included
    matches: int
    candidates: int


def find_toolchain(jar_directory: Path = JAR_DIRECTORY) -> Toolchain:
    """java, javac and the newest of each jar; LuceneUnavailable naming what is missing."""
    java, javac = shutil.which("java"), shutil.which("javac")
    jars = {name: newest_jar(jar_directory, name) for name in JARS}
    missing = [tool for tool, path in (("java", java), ("javac", javac)) if path is None]
    missing += [f"{jar_directory}/{name}-*.jar" for name, path in jars.items() if path is None]
    if missing:
        raise LuceneUnavailable(
            f"missing {', '.join(missing)} (Debian: apt-get install default-jdk-headless "
            "liblucene8-java; scripts/bench-packages.sh does it as root)"
        )
    assert java is not None and javac is not None
    return Toolchain(java, javac, tuple(p for p in jars.values() if p is not None))


def newest_jar(directory: Path, name: str) -> Path | None:
    """`name-<version>.jar` with the highest version (not `name-foo-1.jar`)."""
    found = [p for p in directory.glob(f"{name}-*.jar") if p.stem[len(name) + 1:][:1].isdigit()]
    return max(found, key=lambda p: _version(p.stem[len(name) + 1:]), default=None)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def compile_harness(toolchain: Toolchain, out: Path) -> Path:
    """The harness's classes, compiled into `out`/lucene/classes."""
    classes = out / "lucene" / "classes"
    shutil.rmtree(classes, ignore_errors=True)
    classes.mkdir(parents=True)
    sources = sorted(str(p) for p in SOURCES.glob("*.java"))
    done = subprocess.run(
        [toolchain.javac, "-encoding", "UTF-8", "-d", str(classes), "-cp",
         _classpath(toolchain.jars), *sources],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise LuceneUnavailable(f"javac failed on bench/lucene: {first}")
    return classes


def _classpath(paths: tuple[Path, ...]) -> str:
    return ":".join(str(p) for p in paths)


class Harness:
    """One running harness JVM over one articles file and one rules file."""

    def __init__(self, toolchain: Toolchain, classes: Path, articles: Path, rules: Path,
                 counts: tuple[int, ...]) -> None:
        self.toolchain = toolchain
        self._errors = (articles.parent / f"{articles.stem}.stderr").open("w+", encoding="utf-8")
        self._process = subprocess.Popen(
            [toolchain.java, "-cp", _classpath((classes, *toolchain.jars)), MAIN_CLASS,
             str(articles), str(rules), ",".join(str(n) for n in counts)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors,
            text=True, encoding="utf-8",
        )
        self.header = self._reply()

    @property
    def lucene_version(self) -> str:
        return str(self.header["lucene"])

    @property
    def java_version(self) -> str:
        return str(self.header["java"])

    @property
    def load_seconds(self) -> float:
        return float(self.header["load_seconds"])

    def run_pass(self, rules: int) -> LucenePass:
        reply = self._ask(f"pass {rules}")
        return LucenePass(rules, reply["seconds"], reply["cpu_seconds"], reply["matches"],
                          reply["candidates"])

    def pairs(self, rules: int) -> set[tuple[int, int]]:
        """(article number, rule number) of every match with the first `rules` rules."""
        return {(a, r) for a, r in self._ask(f"pairs {rules}")["pairs"]}

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._send("quit")
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._errors.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _ask(self, command: str) -> dict[str, Any]:
        self._send(command)
        reply = self._reply()
        if "error" in reply:
            raise LuceneUnavailable(f"harness: {reply['error']}")
        return reply

    def _send(self, command: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()

    def _reply(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait()
            self._errors.seek(0)
            said = (self._errors.read().strip().splitlines() or ["no message"])[0]
            raise LuceneUnavailable(
                f"the harness stopped (exit status {self._process.returncode}): {said}"
            )
        reply: dict[str, Any] = json.loads(line)
        return reply
