"""Log lines for the daemon: one event per line, `key=value` pairs after the level.

Configured once by the CLI; modules log with `logging.getLogger("watcher.<module>")`.
"""

from __future__ import annotations

import logging
import sys
import time

FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    """UTC ISO 8601 timestamps on stderr; httpx's own request lines only at debug level."""
    formatter = logging.Formatter(FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
