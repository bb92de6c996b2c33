"""The `watcher` console script: Ctrl-C while watcher starts ends it quietly.

Importing the commands (spaCy among them) takes a second or two, before any command can
handle a signal: an interrupt then exits with 130, the shell's code for it, instead of a
traceback. Once a command runs it handles signals itself (watcher/cli/interrupts.py).
"""

from __future__ import annotations

import sys

from watcher.cli.interrupts import EXIT_INTERRUPTED


def main() -> None:
    try:
        from watcher.cli.main import main as run_command
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    run_command()
