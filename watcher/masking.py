"""Secrets shown as ****: the forms a secret takes in a message, and masking them there.

Channel URLs (watcher/notify/channels.py) and feed URLs (watcher/sources/secrets.py) differ
in what of a URL is secret; how a secret is then found in a message and masked is one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, unquote

MASK = "****"


def forms(secret: str) -> set[str]:
    """How a URL's secret may be quoted: as written, percent-decoded (a `+` kept, or read
    as a space) and fully percent-encoded."""
    decoded = unquote(secret)
    return {secret, decoded, unquote(secret.replace("+", " ")), quote(decoded, safe="")}


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret replaced by ****, the longest first (one may hold another)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text
