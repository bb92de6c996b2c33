"""Command groups that import a command's module only when that command runs.

click's "lazy loading subcommands" pattern: a table of command name -> where the command
is ("module:attribute") and its one-line help. `watcher --help` lists the table without
importing anything; `watcher rules check` imports watcher.cli.matching and nothing of the
other commands (the store, the pipeline, apprise, the web app). tests/test_cli.py keeps
each table's help line the same as its command's own.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import click


class Lazy(NamedTuple):
    """Where a command is ("module:attribute") and its one-line help, as `--help` shows it:
    the first sentence of its docstring."""

    target: str
    help: str


def load_command(target: str) -> click.Command:
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands in `lazy` are imported on first use (`get_command`), while
    `--help` lists them from the table alone."""

    def __init__(self, *args: Any, lazy: Mapping[str, Lazy] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(load_command(self.lazy[cmd_name].target), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, with the table's help line for each command not loaded yet (in a
        stand-in command, so it is shortened as click shortens the command's own)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name) or click.Command(name, help=self.lazy[name].help)
            if not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in rows])
