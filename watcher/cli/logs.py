"""Log lines for the daemon: one event per line, `key=value` pairs after the level.

Configured once by the CLI; modules log with `logging.getLogger("watcher.<module>")`.
"""

from __future__ import annotations

import logging
import sys
import time

from watcher.notify.constants import REPORTED

FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def _unreported(record: logging.LogRecord) -> bool:
    """Not a line logged with `extra=REPORTED` (notify/constants.py): its news is in the
    one-shot command's own report, so it is logged for the daemon only."""
    return not any(getattr(record, key, False) for key in REPORTED)


def _command_handler() -> logging.StreamHandler:  # type: ignore[type-arg]
    """Until the daemon configures logging, warnings reach stderr as `watcher: …` lines,
    with their tracebacks, except what the command reports itself."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("watcher: %(message)s"))
    handler.addFilter(_unreported)
    return handler


COMMAND_HANDLER = _command_handler()


def use_command_logging(verbose: bool = False) -> None:
    """For every command: warnings on stderr until `configure_logging` (the daemon's), and
    with `verbose` the events too (`event=sent ...`: when a one-shot command's sends are
    recorded). The stream is taken now: click's test runner swaps sys.stderr per invocation."""
    COMMAND_HANDLER.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("watcher").setLevel(logging.INFO if verbose else logging.NOTSET)
    COMMAND_HANDLER.setStream(sys.stderr)
    logging.getLogger("watcher").addHandler(COMMAND_HANDLER)  # once, however often called


def configure_logging(level: int = logging.INFO) -> None:
    """UTC ISO 8601 timestamps on stderr; the libraries' own lines (httpx's requests,
    Alembic's migration steps) only at debug level: watcher logs their events itself."""
    formatter = logging.Formatter(FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logging.getLogger("watcher").removeHandler(COMMAND_HANDLER)  # the root's handler says all
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
