"""What the settings and the command line's logging take from the outbox
(watcher/notify/outbox.py) without loading it (apprise, the store)."""

from __future__ import annotations

DEFAULT_LEASE = 600  # a sender's claim on the deliveries it sends (notify.lease)
# `extra=` for a log line whose news the one-shot commands print themselves (a send
# failure is in their report): logged for the daemon, not said twice by `watcher replay`.
REPORTED = {"reported": True}
