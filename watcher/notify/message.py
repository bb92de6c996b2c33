"""The values notification code passes around: a rendered message and its format.

The alert it tells of is watcher.model.Alert, which the store builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from watcher.model import Severity

Format = Literal["text", "markdown", "html"]
"""How a channel renders a message body: apprise's TEXT, MARKDOWN or HTML."""


@dataclass(frozen=True)
class Message:
    """A rendered notification: a short subject and a body in one format, and the
    severity it tells of (its highest), which sets the service's notification type."""

    subject: str
    body: str
    format: Format
    severity: Severity = Severity.INFO


@dataclass(frozen=True)
class Payload:
    """watcher's own JSON document (notify/payload.py), for a `watcher://` webhook."""

    document: Mapping[str, Any]
