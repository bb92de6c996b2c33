"""The one exception tree for errors users can cause; the CLI turns them into one line each.

    WatcherError
     ├── RuleError        one problem in a rule file, at FILE:LINE:COLUMN
     ├── RuleSetError     every RuleError of a rule set that failed to load
     ├── InputError       an input file that could not be read (path and reason)
     ├── ConfigError      a bad setting in watcher.yaml or the environment
     ├── FetchError       a feed that could not be fetched or parsed
     │    └── FetchTimeout     one cut off at its deadline (a stalled or trickling server)
     ├── StoreError       the database refused or is unusable
     └── NotifyError      a channel that did not accept an alert
"""

from __future__ import annotations


class WatcherError(Exception):
    """Base of every error a user can cause and fix."""


class RuleError(WatcherError):
    """One problem in a rule file, printed as `FILE:LINE:COLUMN: message` (1-based)."""

    def __init__(self, file: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{file}:{line}:{column}: {message}")
        self.file = file
        self.line = line
        self.column = column
        self.message = message


class RuleSetError(WatcherError):
    """A rule set that failed to load: every problem found, in file order."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.column, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))


class InputError(WatcherError):
    """An input file that could not be read; the other inputs still are."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ConfigError(WatcherError):
    """A bad configuration value, naming the key (and line when known)."""


class FetchError(WatcherError):
    """A feed or page that could not be fetched or parsed."""


class FetchTimeout(FetchError):
    """A fetch cut off at its deadline: the server stalled or sent too slowly."""


class StoreError(WatcherError):
    """The database is unusable (corrupt, locked, unreachable). `failure` is what went wrong
    without the database's URL: what /healthz shows, to anyone who can reach its port."""

    def __init__(self, message: str, *, failure: str | None = None) -> None:
        super().__init__(message)
        self.failure = message if failure is None else failure


class NotifyError(WatcherError):
    """A channel that did not accept an alert."""


class WorkspaceError(WatcherError):
    """A workspace request that cannot be carried out as asked (a taken user name, an
    unknown role, a silence without a comment): the CLI says it in one line, the web page
    beside the form, the API as 400 with {"error": ...}."""
