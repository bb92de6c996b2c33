"""Trees timed in turns: one worker process per tree, each pass asked of each in turn, so a
machine that slows down or speeds up meanwhile weighs on every tree alike.

A worker prints one JSON line once ready (what it found: every tree must find the same),
then, per line read from stdin, one JSON line of seconds by name.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def best_in_turns(
    workers: dict[str, subprocess.Popen[str]], passes: int
) -> tuple[dict[str, object], dict[str, dict[str, float]]]:
    """What every worker found (its ready line) and its best seconds by name over `passes`
    turns; SystemExit if the ready lines differ (the trees found different things)."""
    ready = {label: json.loads(w.stdout.readline()) for label, w in workers.items()}  # type: ignore[union-attr]
    if len({json.dumps(r, sort_keys=True) for r in ready.values()}) != 1:
        raise SystemExit(f"the trees' matches differ: {ready}")
    best: dict[str, dict[str, float]] = {label: {} for label in workers}
    for _ in range(passes):
        for label, worker in workers.items():
            worker.stdin.write("go\n")  # type: ignore[union-attr]
            worker.stdin.flush()  # type: ignore[union-attr]
            for name, value in json.loads(worker.stdout.readline()).items():  # type: ignore[union-attr]
                best[label][name] = min(value, best[label].get(name, value))
    for worker in workers.values():
        worker.stdin.close()  # type: ignore[union-attr]
        worker.wait()
    return next(iter(ready.values())), best


def trees_in_turns(
    module: str, passes: int, roots: dict[str, str]
) -> dict[str, dict[str, float]]:
    """Each tree's best seconds by name: `python -m MODULE --serve` started in each root
    (PYTHONPATH the root, so each imports its own watcher), its passes in turns."""
    workers = {
        label: subprocess.Popen(
            [sys.executable, "-m", module, "--serve"], cwd=root, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": root},
        )
        for label, root in roots.items()
    }
    return best_in_turns(workers, passes)[1]


def prepared_engine(rule_count: int) -> tuple[Any, Any, Any, list[Any]]:
    """A worker's engine over FA-KES with `rule_count` generated rules, after one untimed
    pass (word types, plans, the gazetteer), and the ready line saying what it found: the
    corpus, the analyser, the engine and the analysed articles. Imported from the worker's
    own tree (bench/, watcher/), which may be another revision's."""
    from bench.corpus import load_corpus
    from bench.rulegen import build_vocabulary, generate_rules, parse_rules
    from watcher.engine.core import Engine
    from watcher.rules.compile import Compiler
    from watcher.text.analysis import Analyzer

    corpus = load_corpus()
    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    rules = parse_rules(generate_rules(vocabulary, rule_count))
    analyzer = Analyzer()
    engine = Engine(Compiler(analyzer).compile(rules), analyzer)
    analysed = list(analyzer.analyse_many(corpus.articles))
    digest, matches = hashlib.sha256(), 0
    for text in analysed:
        for m in engine.match(text):
            matches += 1
            digest.update(repr(m).encode())  # every field, places included
    print(json.dumps({"matches": matches, "digest": digest.hexdigest()[:16]}), flush=True)
    return corpus, analyzer, engine, analysed


def cpu_seconds(works: dict[str, Callable[[], object]]) -> dict[str, float]:
    """One pass of each work, after a full collection, in CPU seconds (a busy machine
    disturbs them less than wall time)."""
    seconds = {}
    for name, work in works.items():
        gc.collect()
        started = time.process_time()
        work()
        seconds[name] = time.process_time() - started
    return seconds


def main(
    serve: Callable[[], None],
    compare: Callable[[int, dict[str, str]], dict[str, dict[str, float]]],
    names: tuple[str, ...],
) -> None:
    """`--serve`: be a worker; else `PASSES LABEL=ROOT...`: time the trees in turns and
    print each one's best seconds, with the first tree's over its own, and all as JSON."""
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    passes, roots = int(sys.argv[1]), dict(a.split("=", 1) for a in sys.argv[2:])
    best = compare(passes, roots)
    first = next(iter(best))
    for label, seconds in best.items():
        print(f"{label}: " + ", ".join(
            f"{name} {seconds[name]:.3f} s ({best[first][name] / seconds[name]:.2f}x)"
            for name in names))
    print(json.dumps(best))
