"""Alembic, configured in code: the schema revision of a database, and moving it up or down.

Every migration runs in one write transaction, so two processes never migrate at once.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from watcher.store.db import database_error, read_transaction, write_transaction

SCRIPT_LOCATION = "watcher.store:migrations"
PG_MIGRATION_LOCK = 0x77617463  # any constant; "watc"
log = logging.getLogger("watcher.store")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config without alembic.ini; env.py takes the connection from it."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = scripts().get_current_head()
    assert head is not None, "watcher ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    with read_transaction(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with write_transaction(engine, rebuilds_tables=True) as connection:
        _one_migrator_at_a_time(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with write_transaction(engine, rebuilds_tables=True) as connection:
        _one_migrator_at_a_time(connection)
        command.downgrade(alembic_config(connection), revision)


def migrate_if_needed(engine: Engine) -> None:
    """Bring the schema to head; a database from a newer watcher is refused, not touched."""
    current = current_revision(engine)
    if current == head_revision():
        return
    known = {script.revision for script in scripts().walk_revisions()}
    if current is not None and current not in known:
        raise database_error(
            engine.url,
            f"schema revision {current!r} is unknown to this watcher (written by a newer version?)",
        )
    upgrade(engine)
    log.info("event=schema_migrated from=%s to=%s", current or "empty", head_revision())


def _one_migrator_at_a_time(connection: Connection) -> None:
    """SQLite's BEGIN IMMEDIATE already serialises migrators; PostgreSQL needs a lock."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
