"""Python's cycle collector held off while a rule set is built.

Loading 10,000 rules makes about a million objects that all stay alive (YAML nodes and
their marks, query trees, rules, the term index). Every 700 new objects the collector
runs, and each run of its older generations walks everything made so far: a third of
the load time went to finding no garbage (bench/RESULTS.md, "Rule loading"). Nothing a
load makes is cyclic garbage worth collecting before it ends, so the collector waits until
the last of the loads under way (the daemon's reload and the workspace's rule book may
overlap) is done; reference counting frees everything else as always.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0  # loads under way
_was_enabled = False  # whether the collector ran before the first of them


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside; the collector as it was once every load that
    paused it is done (so two overlapping loads never leave it off)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
