"""SQLite's full-text index is written once per transaction, not by a trigger per article.

The trigger `articles_search_insert` indexed each article as it was inserted, and FTS5
flushes its pending index at every savepoint: a batch of 32 articles wrote 32 index
segments. The ingest now indexes the articles its transaction stored in one statement just
before its commit (watcher/store/search.py, `index_new_articles`). The rows stored so far
were indexed by the trigger and stay indexed; the delete and update triggers stay.
PostgreSQL's GIN index is untouched.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSERT_TRIGGER = (
    "CREATE TRIGGER articles_search_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_search(rowid, title, body) VALUES (new.id, new.title, new.body); END"
)


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER articles_search_insert")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(INSERT_TRIGGER)
