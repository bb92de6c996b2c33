"""Full-text search over stored articles, and the inbox's order of stories.

SQLite: an FTS5 table `articles_search` over articles(title, body), external content (the
text stays in `articles` alone), kept in step by triggers and filled from the stored rows
here. PostgreSQL: a GIN index on the articles' English tsvector, which the search's
`@@ websearch_to_tsquery` uses (watcher/store/search.py writes the same expression).
Both: an index on stories(first_seen, id), the inbox's newest-first order and its pages.

A later migration that rebuilds `articles` on SQLite (batch mode) drops its triggers with
the old table: it must create them again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = (
    "CREATE VIRTUAL TABLE articles_search USING fts5(title, body, content='articles', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_search_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_search(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER articles_search_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_search(articles_search, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER articles_search_update AFTER UPDATE OF title, body ON articles BEGIN "
    "INSERT INTO articles_search(articles_search, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO articles_search(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "INSERT INTO articles_search(articles_search) VALUES ('rebuild')",  # the stored rows
)
SQLITE_DOWN = (
    "DROP TRIGGER articles_search_update",
    "DROP TRIGGER articles_search_delete",
    "DROP TRIGGER articles_search_insert",
    "DROP TABLE articles_search",
)
POSTGRESQL_UP = (
    "CREATE INDEX ix_articles_search ON articles "
    "USING gin (to_tsvector('english', title || ' ' || body))",
)
POSTGRESQL_DOWN = ("DROP INDEX ix_articles_search",)


def upgrade() -> None:
    op.create_index("ix_stories_first_seen_id", "stories", ["first_seen", "id"])
    for statement in SQLITE_UP if op.get_context().dialect.name == "sqlite" else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for statement in SQLITE_DOWN if sqlite else POSTGRESQL_DOWN:
        op.execute(statement)
    op.drop_index("ix_stories_first_seen_id", table_name="stories")
