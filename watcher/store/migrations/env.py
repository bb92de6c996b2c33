"""Alembic environment: runs the migrations on the connection watcher.store hands in.

There is no alembic.ini; watcher/store/migrate.py builds the Config in code.
"""

from __future__ import annotations

from alembic import context

from watcher.store.tables import metadata


def run_migrations_online() -> None:
    """Migrate on the caller's connection, inside the caller's transaction."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("watcher migrations run online only (watcher db upgrade)")
run_migrations_online()
