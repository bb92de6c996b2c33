"""The `watcher` console script: Ctrl-C while watcher starts ends it quietly.

Importing the commands (spaCy among them) takes a second or two, before any command can
handle a signal: an interrupt then exits with 130, the shell's code for it, instead of a
traceback. Once a command runs it handles signals itself (`run` stops cleanly, exit 0).
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # 128 + SIGINT, what shells report for a process stopped by Ctrl-C


def main() -> None:
    try:
        from watcher.cli import main as run_command
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
    run_command()
