"""Loading rules holds the cycle collector off (watcher/rules/gc_pause.py), and gives it
back as it was, however loads overlap."""

from __future__ import annotations

import gc
import sys

import pytest

from watcher.engine.matcher import Matcher
from watcher.rules.gc_pause import collector_paused
from watcher.rules.load import load_rules

LOADING = {"load_rules", "from_rules"}  # the functions that load or compile a rule set


@pytest.fixture
def collections_while_loading():
    """Every run of the collector that starts while a rule set loads or compiles (one of
    LOADING on the stack), as gc.callbacks reports it."""
    runs: list[str] = []

    def count(phase: str, info: dict) -> None:
        frame = sys._getframe(1)
        while frame is not None and phase == "start":
            if frame.f_code.co_name in LOADING:
                runs.append(frame.f_code.co_name)
                break
            frame = frame.f_back

    gc.callbacks.append(count)
    yield runs
    gc.callbacks.remove(count)


def _rules(tmp_path, count: int = 400):
    lines = ["rules:"]
    for n in range(count):
        lines += [f"  - id: r{n}", f"    title: Rule {n}",
                  f"    query: '(siege{n} OR blockade) NEAR/5 ~Homs'", "    tags: [a, b]"]
    (tmp_path / "r.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_no_collection_runs_while_rules_load_and_compile(tmp_path, collections_while_loading):
    """One run each at most: the one the objects made start once the collector is back."""
    assert gc.isenabled()
    Matcher.from_rules(load_rules(_rules(tmp_path)))
    assert collections_while_loading.count("load_rules") <= 1, collections_while_loading
    assert collections_while_loading.count("from_rules") <= 1, collections_while_loading
    assert gc.isenabled()


def test_overlapping_loads_give_the_collector_back_once_both_are_done():
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first load ends while the second goes on
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_already_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
