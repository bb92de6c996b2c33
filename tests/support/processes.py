"""`watcher` as a separate OS process, for tests that signal, kill or race it.

The environment's WATCHER_* variables are left out, so only the test's own
configuration file counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def start_watcher(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`python -m watcher ARGS` in `cwd`, its output captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", *args], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")},
    )
