"""What every command shares: exit statuses, loading rules and the store, one-line errors.

Used by every command module in cli/; no command lives here. What it builds (matcher,
store, pipeline, outbox) is imported inside the function that builds it: importing this
module costs no spaCy, SQLAlchemy or apprise (watcher/cli/lazy.py).
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from watcher.errors import ConfigError, InputError, RuleSetError, StoreError, WorkspaceError

if TYPE_CHECKING:
    from watcher.config.settings import Settings
    from watcher.engine.matcher import Matcher
    from watcher.ingest.pipeline import Pipeline
    from watcher.model import Match
    from watcher.notify.outbox import Destination, Outbox
    from watcher.notify.render import Renderer
    from watcher.rules.ast import RuleSet
    from watcher.rules.load import RuleCache
    from watcher.store import Store

EXIT_OK, EXIT_FAILED, EXIT_RULES = 0, 1, 2
BATCH = 32  # articles analysed together: cheaper, and little waiting on stdin
T = TypeVar("T")


@contextmanager
def errors_exit(prefix: str = "") -> Iterator[None]:
    """The one place that maps an error to exit status 2: broken rules (their problems, one
    line each), a configuration problem or an unusable database (one `watcher: ` line per
    line of the error). `prefix` says what the error stopped, e.g. `not stored: `."""
    try:
        yield
    except RuleSetError as error:
        print_rule_errors(error)
        sys.exit(EXIT_RULES)
    except (ConfigError, StoreError) as error:
        for line in str(error).splitlines():
            click.echo(f"watcher: {prefix}{line}", err=True)
        sys.exit(EXIT_RULES)


@contextmanager
def refused_exit() -> Iterator[None]:
    """A workspace request that cannot be carried out as asked (a taken user name, a
    silence without a comment): its one line, status 1."""
    try:
        yield
    except WorkspaceError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_FAILED)


def wall_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = wall_clock


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Set the commands' clock for this invocation: the wall clock, unless the caller of
    `cli` passed another as click's `obj` (tests move it on instead of waiting)."""
    global _clock
    _clock = clock or wall_clock


def utc_now() -> datetime:
    """The commands' clock (the engine and store take it as a parameter)."""
    return _clock()


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """`watcher match … | head`: a reader that closed the pipe has all it wanted, so stop
    quietly with status 0 (click would report status 1, which means unreadable input)."""
    try:
        yield
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)


def load_matcher(
    settings: Settings, path: str | None, rule_cache: RuleCache | None = None
) -> Matcher:
    from watcher.engine.matcher import Matcher

    with errors_exit():  # ConfigError: e.g. a trained pipeline named but not installed
        return Matcher.from_path(
            path or settings.rules, pipeline=settings.pipeline, channels=settings.channel_names,
            context_triggers=settings.context.triggers,
            context_exclude=settings.context.exclude, rule_cache=rule_cache,
        )


def chosen_rules(
    settings: Settings, path: str | None, rule_ids: Sequence[str] = (), query: str | None = None
) -> RuleSet:
    """The rules a command works on: the rule set under PATH (default the configured one),
    only `rule_ids` of it when given, or a rule of `query` alone (which may use the rule
    set's @lists: the rules are loaded for them when PATH was given or exists). Broken
    rules, an unknown id or a bad query end the command with status 2."""
    from watcher.rules.ast import RuleSet
    from watcher.rules.load import load_rules, query_rule

    with errors_exit():
        root = path or settings.rules
        if query is not None:
            known = path is not None or os.path.exists(root)
            lists = load_rules(root, channels=settings.channel_names).lists if known else {}
            return RuleSet((query_rule(query, lists),), lists)
        ruleset = load_rules(root, channels=settings.channel_names)
        unknown = [i for i in dict.fromkeys(rule_ids) if i not in {r.id for r in ruleset.rules}]
        if unknown:
            raise ConfigError("\n".join(_unknown_rule(i, root, ruleset) for i in unknown))
        if rule_ids:
            ruleset = replace(ruleset, rules=tuple(r for r in ruleset.rules if r.id in rule_ids))
        return ruleset


def _unknown_rule(rule_id: str, root: str, ruleset: RuleSet) -> str:
    close = difflib.get_close_matches(rule_id, [r.id for r in ruleset.rules], n=1)
    return f"no rule {rule_id!r} under {root}" + (
        f" (did you mean {close[0]!r}?)" if close else ""
    )


def matcher_of(settings: Settings, ruleset: RuleSet, *, enable: bool = False) -> Matcher:
    """A matcher of these rules with the configured pipeline and context; `enable` compiles
    disabled rules too (to explain their query)."""
    from watcher.engine.matcher import Matcher

    if enable:
        ruleset = replace(ruleset, rules=tuple(replace(r, enabled=True) for r in ruleset.rules))
    with errors_exit():
        return Matcher.from_rules(
            ruleset, pipeline=settings.pipeline, context_triggers=settings.context.triggers,
            context_exclude=settings.context.exclude,
        )


@contextmanager
def open_store(settings: Settings, *, migrate: bool = True) -> Iterator[Store]:
    """The configured store, migrated; an unusable database ends the command with one line."""
    from watcher.store import Store

    with errors_exit():
        store = Store.open(settings.db, migrate_to_head=migrate)
    with store:
        yield store


def new_pipeline(
    settings: Settings, store: Store, matcher: Matcher, *, notify: bool = True
) -> Pipeline:
    """The ingest pipeline over this store for the configured channels: the one way
    `watcher replay` and `watcher run` build it (the daemon swaps reloaded rules into it).
    `notify=False` stores and prints matches but routes them to no channel."""
    from watcher.ingest.pipeline import Pipeline

    return Pipeline(
        matcher=matcher, store=store, channels=settings.channels, notify=notify, now=utc_now
    )


def destinations(settings: Settings) -> dict[str, Destination]:
    """The configured channels, ready to send to; a URL apprise cannot use ends the
    command with one line (status 2), never showing the URL."""
    from watcher.notify.channels import Channel
    from watcher.notify.outbox import Destination

    with errors_exit():
        return {
            name: Destination(Channel.from_urls(name, channel.urls), channel.digest)
            for name, channel in (settings.channels or {}).items()
        }


def renderer(settings: Settings) -> Renderer:
    """Message templates (the user's overrides checked now, not at the first alert)."""
    from watcher.notify.render import Renderer

    with errors_exit():
        templates = settings.notify.templates
        return Renderer(Path(templates) if templates else None)


def open_outbox(
    settings: Settings, store: Store, stopping: threading.Event | None = None,
    rules: str | None = None,
) -> Outbox:
    """The sender for the configured channels over this store; the rule files at `rules`
    (default the configured ones) give the rules' tags, for silences that match on one."""
    from watcher.notify.outbox import Outbox, RetryPolicy
    from watcher.notify.silencing import RuleTags

    notify = settings.notify
    return Outbox(
        store=store,
        destinations=destinations(settings),
        renderer=renderer(settings),
        policy=RetryPolicy(notify.max_attempts, notify.retry_delay, notify.max_retry_delay),
        now=utc_now,
        concurrency=notify.concurrency,
        timeout=notify.timeout,
        lease=timedelta(seconds=notify.lease),
        stopping=stopping,
        rule_tags=RuleTags(rules or settings.rules),
    )


def or_exit(query: Callable[[], T]) -> T:
    """Run a store call; a database failure ends the command with one line (status 2)."""
    with errors_exit():
        return query()


def print_rule_errors(error: RuleSetError) -> None:
    for problem in error.errors:
        click.echo(str(problem), err=True)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def print_unreadable(items: Iterable[object]) -> int:
    """Print each unreadable input's one line; returns how many there were."""
    errors = [item for item in items if isinstance(item, InputError)]
    for error in errors:
        click.echo(f"watcher: {error}", err=True)
    return len(errors)


def print_matches(
    matches: Iterable[Match], source: str, output_format: str, *, held: bool = False
) -> None:
    """Print the matches; held-back ones (their context excluded) only when `held`."""
    from watcher.cli.output import match_text
    from watcher.ingest.shapes import match_json

    for found in matches:
        if found.held and not held:
            continue
        if output_format == "jsonl":
            click.echo(json.dumps(match_json(found), ensure_ascii=False))
        else:
            click.echo(match_text(found, source))
