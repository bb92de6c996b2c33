"""The `watcher` command group: global options, the commands of each group module, and
`main()`, where any of our errors left over becomes one line and status 1.

No logic lives here; exit codes follow ../shared/docs/interfaces.md.
"""

from __future__ import annotations

import sys

import click

from watcher.cli.alerts import deliveries, notify
from watcher.cli.backtest import backtest
from watcher.cli.common import EXIT_FAILED, errors_exit, use_clock
from watcher.cli.explain import explain_command
from watcher.cli.interrupts import (
    EXIT_INTERRUPTED,
    raise_keyboard_interrupt,
    second_interrupt_exits,
)
from watcher.cli.logs import use_command_logging
from watcher.cli.matching import match, rules
from watcher.cli.records import articles, db, matches
from watcher.cli.replay import replay
from watcher.cli.run import run, sources
from watcher.cli.silences import silences
from watcher.cli.web import tokens, users, web
from watcher.config.settings import environment, load_settings
from watcher.errors import WatcherError


class Commands(click.Group):
    """The top command group: Ctrl-C in any command ends it with one line and status 130,
    the shell's code for an interrupt (click says `Aborted!` with 1, which here means
    unreadable input); a second Ctrl-C does not wait for threads (watcher/cli/interrupts.py)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            with second_interrupt_exits(raise_keyboard_interrupt):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("watcher: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", default=None,
              help="Configuration file [env WATCHER_CONFIG; default ./watcher.yaml when present].")
@click.option("--db", default=None, help="SQLAlchemy database URL [env WATCHER_DB].")
@click.option("--pipeline", default=None,
              help="spaCy pipeline: 'blank:en' (default) or an installed trained pipeline "
                   "such as en_core_web_sm [env WATCHER_PIPELINE; config key pipeline].")
@click.option("-v", "--verbose", is_flag=True,
              help="Also print what the command does as it does it (`event=sent ...` lines, "
                   "as the daemon logs them) on stderr.")
@click.version_option(package_name="watcher")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, db: str | None, pipeline: str | None,
    verbose: bool,
) -> None:
    """watcher: hear once, fast, when something specific happens in a specific place."""
    use_command_logging(verbose)
    use_clock(ctx.obj if callable(ctx.obj) else None)
    with errors_exit():
        ctx.obj = load_settings(config_path, {"db": db, "pipeline": pipeline}, environment())


for command in (
    rules, match, explain_command, replay, articles, matches, db, run, sources, deliveries, notify,
    web, users, tokens, silences,
):
    cli.add_command(command)


rules.add_command(backtest)


def main() -> None:
    """Console entry point: our own errors become one line, never a traceback."""
    try:
        cli(standalone_mode=True)
    except WatcherError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_FAILED)

