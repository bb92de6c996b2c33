"""Full-text search over stored articles (migration 0010): SQLite's FTS5 table, or
PostgreSQL's English text search through its GIN index.

On SQLite an ingest indexes the articles its transaction stored in one statement, just
before its commit (`index_new_articles`, migration 0011): an article rolled back by its
savepoint is never indexed, a stored one always is, and a crash loses both or neither.

What a user types is never query syntax on SQLite: its words become quoted FTS5 strings
(all must occur), so `"`, `*`, `-`, `NEAR(`, `AND` or an unbalanced parenthesis search
for words or for nothing, never fail. PostgreSQL's websearch_to_tsquery reads the input
as a web search box does (quotes, OR, -word) and has no syntax errors.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.store.tables import articles, stories

FTS = sa.table("articles_search")
COMMON_WORD_SHARE = 10  # a word in more than a tenth of the articles is searched story by story
MAX_TERMS = 16  # a search box, not a document: bounds the query's work
MAX_QUERY_CHARS = 500
_WORD = re.compile(r"[^\W_]+")
# The expression of PostgreSQL's index ix_articles_search, character for character: the
# planner uses the index only for this very expression.
PG_DOCUMENT = sa.literal_column("to_tsvector('english', articles.title || ' ' || articles.body)")


def index_new_articles(connection: Connection) -> None:
    """Index the articles stored since the index was last written (SQLite), in one
    statement, just before the transaction commits: FTS5 writes an index segment at each
    flush, and the trigger per article this replaced (migration 0011) flushed at each
    article's savepoint. Every committed article is indexed and SQLite gives a new row the
    largest id + 1, so the new articles are those above the largest indexed id (the FTS5
    table's `_docsize` rows, one per indexed article): a savepoint rolled back left no
    row to index, and a crash before the commit loses both."""
    connection.exec_driver_sql(_INDEX_NEW_ARTICLES)


def has_search_table(connection: Connection) -> bool:
    """Whether the FTS5 table exists: SQLite at migration 0010 or later."""
    return connection.dialect.name == "sqlite" and connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'articles_search'"
    ).first() is not None


_INDEX_NEW_ARTICLES = (
    "INSERT INTO articles_search(rowid, title, body) SELECT id, title, body FROM articles "
    "WHERE id > (SELECT coalesce(max(id), 0) FROM articles_search_docsize)"
)


def _clean(text: str) -> str:
    """At most MAX_QUERY_CHARS, without NUL (PostgreSQL refuses it in any text)."""
    return text[:MAX_QUERY_CHARS].replace("\x00", "")


def search_words(text: str) -> list[str]:
    """The words of a search, at most MAX_TERMS: letters and digits, nothing else."""
    return _WORD.findall(_clean(text))[:MAX_TERMS]


def fts5_query(text: str) -> str | None:
    """An FTS5 MATCH expression finding articles with every word of `text`; None if it has
    no words. Each word is a quoted string, so no character of it is syntax."""
    words = search_words(text)
    return " ".join(f'"{word}"' for word in words) if words else None


def story_has_match(connection: Connection, text: str) -> sa.ColumnElement[bool] | None:
    """A condition on `stories`: one of its articles matches `text`; None when `text` has
    no word to search for (the search then narrows nothing).

    SQLite answers a word found in many articles fastest story by story (newest first,
    each story's articles looked up in the index: the page fills after a few stories) and
    a rarer word by collecting its articles' stories first; counting the hits in the index
    first (milliseconds, even for 70,000) chooses. PostgreSQL's planner chooses itself.
    """
    if not search_words(text):
        return None
    if connection.dialect.name != "sqlite":
        query = sa.func.websearch_to_tsquery(sa.literal_column("'english'"), _clean(text))
        found = sa.select(articles.c.story_id).where(PG_DOCUMENT.op("@@")(query))
        return stories.c.id.in_(found)
    match = sa.literal_column("articles_search").op("MATCH")(fts5_query(text))
    rowid = sa.literal_column("articles_search.rowid")
    hits = connection.scalar(sa.select(sa.func.count()).select_from(FTS).where(match)) or 0
    stored = connection.scalar(sa.select(sa.func.max(articles.c.id))) or 0
    if hits * COMMON_WORD_SHARE > stored:
        indexed = sa.select(sa.literal(1)).select_from(FTS).where(rowid == articles.c.id, match)
        return sa.exists().where(articles.c.story_id == stories.c.id, indexed.exists())
    found = sa.select(rowid).select_from(FTS).where(match)
    return stories.c.id.in_(sa.select(articles.c.story_id).where(articles.c.id.in_(found)))
