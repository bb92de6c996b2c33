"""The `watcher` command group: global options, the table of commands (each imported only
when it runs, so `watcher --version` imports none), and `main()`, where any of our errors
left over becomes one line and status 1.

No logic lives here; exit codes follow ../shared/docs/interfaces.md.
"""

from __future__ import annotations

import sys

import click

from watcher.cli.common import EXIT_FAILED, errors_exit, use_clock
from watcher.cli.interrupts import (
    EXIT_INTERRUPTED,
    raise_keyboard_interrupt,
    second_interrupt_exits,
)
from watcher.cli.lazy import Lazy, LazyGroup
from watcher.cli.logs import use_command_logging
from watcher.errors import WatcherError

# Every command: where it is and its one-line help (`watcher --help` shows these without
# importing a command; tests/test_cli.py keeps them the same as the commands' own).
COMMANDS = {
    "rules": Lazy("watcher.cli.matching:rules", "Check and test watch rules."),
    "match": Lazy(
        "watcher.cli.matching:match",
        "Match articles from INPUT files against the rules; store and send nothing.",
    ),
    "explain": Lazy(
        "watcher.cli.explain:explain_command",
        "Explain, clause by clause, why a rule matches INPUT or not: INPUT as for `match` "
        "(files, a directory, - for JSON lines on stdin) or a stored article's id.",
    ),
    "replay": Lazy(
        "watcher.cli.replay:replay",
        "Ingest INPUT (default seeds/) as if it had just arrived: dedupe, store, match, "
        "queue alerts, then send them.",
    ),
    "articles": Lazy("watcher.cli.records:articles", "Stored articles, newest first."),
    "matches": Lazy("watcher.cli.records:matches", "Stored matches, newest first."),
    "db": Lazy(
        "watcher.cli.records:db",
        "The database: its schema, and pruning what is past the retention window.",
    ),
    "run": Lazy(
        "watcher.cli.run:run",
        "The daemon: poll the configured feeds on schedule, match, store and send alerts, "
        "until SIGTERM or SIGINT (then finish the article and alerts in hand and exit 0).",
    ),
    "sources": Lazy(
        "watcher.cli.run:sources",
        "Configured feeds with their last poll, last success, new items, errors, last error.",
    ),
    "deliveries": Lazy(
        "watcher.cli.alerts:deliveries",
        "The alert outbox: one line per (match, channel), newest first.",
    ),
    "notify": Lazy("watcher.cli.alerts:notify", "Channels."),
    "web": Lazy(
        "watcher.cli.web:web", "Serve the team's workspace over the database (docs/web.md)."
    ),
    "users": Lazy(
        "watcher.cli.web:users",
        "The workspace's people: viewers read, analysts triage and silence, admins manage.",
    ),
    "tokens": Lazy("watcher.cli.web:tokens", "API and feed tokens (Authorization: Bearer TOKEN)."),
    "silences": Lazy(
        "watcher.cli.silences:silences",
        "Silences: hold back the alerts they match (rule, tag, source, place, story).",
    ),
}


class Commands(LazyGroup):
    """The top command group: Ctrl-C in any command ends it with one line and status 130,
    the shell's code for an interrupt (click says `Aborted!` with 1, which here means
    unreadable input); a second Ctrl-C does not wait for threads (watcher/cli/interrupts.py).
    A command's module is imported when the command runs (COMMANDS), inside `invoke`: an
    interrupt while it loads ends the same way."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            with second_interrupt_exits(raise_keyboard_interrupt):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("watcher: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=Commands, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
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
    from watcher.config.settings import environment, load_settings  # pydantic: not for --help

    use_command_logging(verbose)
    use_clock(ctx.obj if callable(ctx.obj) else None)
    with errors_exit():
        ctx.obj = load_settings(config_path, {"db": db, "pipeline": pipeline}, environment())


def main() -> None:
    """Console entry point: our own errors become one line, never a traceback."""
    try:
        cli(standalone_mode=True)
    except WatcherError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_FAILED)

