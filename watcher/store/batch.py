"""Storing articles a batch at a time on SQLite: one transaction, a savepoint per article.

A COMMIT per article was 44% of the store's time on SQLite (bench/RESULTS.md, "Store write
path"). A batch commits once; each article is still all-or-nothing inside its savepoint,
and one the database refuses (a constraint, a bad value) is rolled back alone while the
others commit. The batch is bounded (BatchBound) so the write lock it holds does not keep
a web process or another command waiting long (docs/storage.md, "Each article all or nothing").

The refusal of one article (ARTICLE_FAILURES, ArticleFailure), its one-line report
(`unstorable_text`) and the result of one not stored (NOT_STORED) are here too, and serve
both databases: repo.py uses them for PostgreSQL's transaction per article as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.model import Article
from watcher.store.driver import driver_execute
from watcher.store.ingest import DuplicateArticle, UnknownSource, store_article
from watcher.store.records import IngestItem, IngestResult

# At most this many articles per transaction, and no article begun once the transaction
# has held the write lock this long: ~50 ms at the measured 1-2 ms an article.
BATCH_ARTICLES = 32
BATCH_SECONDS = 0.1

# What the database says of one article's rows, not of the database, and text no database
# can hold (a lone surrogate: a Python string and JSON allow one, UTF-8 does not; the driver
# refuses to encode it): that article alone is rolled back (its savepoint), reported, and
# the others are stored.
ARTICLE_FAILURES = (sa.exc.IntegrityError, sa.exc.DataError, UnicodeEncodeError)
ArticleFailure = sa.exc.DBAPIError | UnicodeEncodeError

NOT_STORED = IngestResult(stored=False, story_id=None, new_matches=())

ArticleResult = IngestResult | ArticleFailure
"""What became of one article of a batch: its result, or the refusal of it."""


@dataclass(frozen=True)
class BatchBound:
    """How much one transaction of a batch takes on: at most `articles` articles, and none
    begun after `seconds` of holding the write lock (the first is always stored)."""

    articles: int = BATCH_ARTICLES
    seconds: float = BATCH_SECONDS


DEFAULT_BATCH = BatchBound()


def store_batch(
    connection: Connection,
    items: Sequence[IngestItem],
    source_ids: MutableMapping[str, int],
    bound: BatchBound,
    clock: Callable[[], float],
    until: Callable[[], bool] = lambda: False,
) -> tuple[list[ArticleResult], dict[str, int]]:
    """Store `items` from the first on, each in its own savepoint, until `bound` or until
    `until()` says to stop (a shutdown: the article in hand is finished, the rest left):
    the results of those tried (at least one), and the source ids the stored ones used, to
    be cached once the transaction commits (a cached id found stale is dropped from
    `source_ids`)."""
    started = clock()
    results: list[ArticleResult] = []
    used: dict[str, int] = {}
    for item in items:
        if results and (len(results) >= bound.articles
                        or clock() - started >= bound.seconds or until()):
            break
        results.append(_store_one(connection, item, used, source_ids))
    return results, used


def _store_one(
    connection: Connection, item: IngestItem, used: dict[str, int],
    cached: MutableMapping[str, int],
) -> ArticleResult:
    """One article in a savepoint, with its source's id as this transaction used it or as
    cached; the id it stored with goes into `used`."""
    name = item.new.article.source
    known = used.get(name, cached.get(name))
    for source_id in (known, None) if known is not None else (None,):
        try:
            with _savepoint(connection):
                result, used[name] = store_article(connection, item.new, item.matches,
                                                   item.pick_story, item.now, source_id)
        except UnknownSource:  # the id names no row: again, looking the source up
            used.pop(name, None)
            cached.pop(name, None)
            continue
        except DuplicateArticle:
            return NOT_STORED
        except ARTICLE_FAILURES as error:
            return error
        return result
    raise AssertionError("unreachable: an article stored without a source id looks it up")


@contextmanager
def _savepoint(connection: Connection) -> Iterator[None]:
    """The article's savepoint, rolled back to when storing it raises. Its statements go
    to the driver as they are: SQLAlchemy's `begin_nested` builds and compiles a statement
    for each, which cost a replay more than SQLite running them. A failed rollback ends
    the whole transaction (the error leaves `store_batch`), so nothing is half-written."""
    driver_execute(connection, f"SAVEPOINT {_SAVEPOINT}")
    try:
        yield
    except BaseException:
        driver_execute(connection, f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        driver_execute(connection, f"RELEASE SAVEPOINT {_SAVEPOINT}")
        raise
    driver_execute(connection, f"RELEASE SAVEPOINT {_SAVEPOINT}")


_SAVEPOINT = "watcher_article"


def unstorable_text(article: Article, error: UnicodeEncodeError) -> str:
    """Which text of the article cannot be stored, and where, in one line that can itself
    be written anywhere (the character escaped): the article is named, as nothing else
    tells which one it was."""
    field = next((f"its {name}" for name in _TEXT_FIELDS
                  if getattr(article, name) == error.object), "a text of its matches")
    return (f"article {article.id!r} of {article.source!r} not stored: {field} holds "
            f"{ascii(error.object[error.start])} at character {error.start + 1}, a lone "
            "surrogate, not valid Unicode")


_TEXT_FIELDS = ("title", "body", "url", "guid", "id", "source")
