"""Loading rules holds the cycle collector off (watcher/rules/gc_pause.py), and gives it
back as it was, however loads overlap.

The collector is the process's: a thread an earlier test left loading rules (a workspace's
rule book, a daemon's reload) holds it off too. Each check runs in a fresh interpreter of
its own, so only its own loads touch it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _isolated(code: str, tmp_path: Path) -> dict:
    """What `code` (run in a fresh interpreter, in `tmp_path`) prints as its last line, as
    JSON."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=environment,
        capture_output=True, text=True, timeout=600,  # hang guard
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _rules(tmp_path: Path, count: int = 400) -> Path:
    lines = ["rules:"]
    for n in range(count):
        lines += [f"  - id: r{n}", f"    title: Rule {n}",
                  f"    query: '(siege{n} OR blockade) NEAR/5 ~Homs'", "    tags: [a, b]"]
    (tmp_path / "r.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_no_collection_runs_while_rules_load_and_compile(tmp_path):
    """One run each at most: the one the objects made start once the collector is back.
    Every run of the collector that starts while a rule set loads or compiles (one of the
    loading functions on the stack) is counted, as gc.callbacks reports it."""
    _rules(tmp_path)
    found = _isolated("""
        import gc, json, sys
        from watcher.engine.matcher import Matcher
        from watcher.rules.load import load_rules

        LOADING = {"load_rules", "from_rules"}
        runs = []

        def count(phase, info):
            frame = sys._getframe(1)
            while frame is not None and phase == "start":
                if frame.f_code.co_name in LOADING:
                    runs.append(frame.f_code.co_name)
                    break
                frame = frame.f_back

        before = gc.isenabled()
        gc.callbacks.append(count)
        Matcher.from_rules(load_rules("."))
        gc.callbacks.remove(count)
        print(json.dumps({"before": before, "after": gc.isenabled(),
                          "load_rules": runs.count("load_rules"),
                          "from_rules": runs.count("from_rules")}))
    """, tmp_path)
    assert found["before"] and found["after"], found
    assert found["load_rules"] <= 1, found
    assert found["from_rules"] <= 1, found


def test_overlapping_loads_give_the_collector_back_once_both_are_done(tmp_path):
    found = _isolated("""
        import gc, json
        from watcher.rules.gc_pause import collector_paused

        first, second = collector_paused(), collector_paused()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)  # the first load ends while the second goes on
        between = gc.isenabled()
        second.__exit__(None, None, None)
        print(json.dumps({"between": between, "after": gc.isenabled()}))
    """, tmp_path)
    assert found == {"between": False, "after": True}


def test_a_collector_already_off_stays_off(tmp_path):
    found = _isolated("""
        import gc, json
        from watcher.rules.gc_pause import collector_paused

        gc.disable()
        with collector_paused():
            pass
        print(json.dumps({"after": gc.isenabled()}))
    """, tmp_path)
    assert found == {"after": False}
