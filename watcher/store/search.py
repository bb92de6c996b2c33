"""Full-text search over stored articles (migration 0010): SQLite's FTS5 table, or
PostgreSQL's English text search through its GIN index.

What a user types is never query syntax on SQLite: its words become quoted FTS5 strings
(all must occur), so `"`, `*`, `-`, `NEAR(`, `AND` or an unbalanced parenthesis search
for words or for nothing, never fail. PostgreSQL's websearch_to_tsquery reads the input
as a web search box does (quotes, OR, -word) and has no syntax errors.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from watcher.store.tables import articles

MAX_TERMS = 16  # a search box, not a document: bounds the query's work
MAX_QUERY_CHARS = 500
_WORD = re.compile(r"[^\W_]+")
# The expression of PostgreSQL's index ix_articles_search, character for character: the
# planner uses the index only for this very expression.
PG_DOCUMENT = sa.literal_column("to_tsvector('english', articles.title || ' ' || articles.body)")


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


def matching_story_ids(dialect: str, text: str) -> sa.Select[Any] | None:
    """A SELECT of the stories with an article matching `text`; None when `text` has no
    word to search for (the search then narrows nothing)."""
    if not search_words(text):
        return None
    if dialect == "sqlite":
        found = sa.select(sa.literal_column("rowid")).select_from(
            sa.table("articles_search")).where(
            sa.literal_column("articles_search").op("MATCH")(fts5_query(text)))
        return sa.select(articles.c.story_id).where(articles.c.id.in_(found))
    query = sa.func.websearch_to_tsquery(sa.literal_column("'english'"), _clean(text))
    return sa.select(articles.c.story_id).where(PG_DOCUMENT.op("@@")(query))
