"""What every command shares: exit statuses, loading rules and the store, one-line errors.

Used by cli.py and cli_daemon.py; no command lives here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from watcher.config import Settings
from watcher.errors import ConfigError, RuleSetError, StoreError
from watcher.matcher import Matcher
from watcher.store import Store

EXIT_OK, EXIT_FAILED, EXIT_RULES = 0, 1, 2
T = TypeVar("T")


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """`watcher match … | head`: a reader that closed the pipe has all it wanted, so stop
    quietly with status 0 (click would report status 1, which means unreadable input)."""
    try:
        yield
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)


def load_matcher(settings: Settings, path: str | None) -> Matcher:
    try:
        return Matcher.from_path(
            path or settings.rules, pipeline=settings.pipeline, channels=settings.channel_names
        )
    except RuleSetError as error:
        print_rule_errors(error)
        sys.exit(EXIT_RULES)
    except ConfigError as error:  # e.g. a trained pipeline named but not installed
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_RULES)


@contextmanager
def open_store(settings: Settings, *, migrate: bool = True) -> Iterator[Store]:
    """The configured store, migrated; an unusable database ends the command with one line."""
    try:
        store = Store.open(settings.db, migrate_to_head=migrate)
    except StoreError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_RULES)
    with store:
        yield store


def or_exit(query: Callable[[], T]) -> T:
    """Run a store call; a database failure ends the command with one line (status 2)."""
    try:
        return query()
    except StoreError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_RULES)


def print_rule_errors(error: RuleSetError) -> None:
    for problem in error.errors:
        click.echo(str(problem), err=True)
