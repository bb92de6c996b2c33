"""The fetch defaults the settings take (watcher/config/settings.py) without loading httpx."""

from __future__ import annotations

# The largest body read (decoded) unless a fetch says otherwise: most feeds are well under
# 1 MB; a source's `max_size` raises it for a full-content feed.
DEFAULT_MAX_BYTES = 10 * 2**20
DEFAULT_TIMEOUT = 20.0
# Connections one fetcher's pool opens at once (httpx's default): fetch.concurrency's
# ceiling, so no poll waits for a connection another poll holds.
MAX_CONNECTIONS = 100
