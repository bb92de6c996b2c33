"""watcher: conflict-tracking alert daemon."""

import logging

# The daemon configures logging (watcher/logs.py); the one-shot commands report what went
# wrong themselves, so without it watcher's log lines must not reach Python's last-resort
# handler and say each failure a second time, bare.
logging.getLogger("watcher").addHandler(logging.NullHandler())
