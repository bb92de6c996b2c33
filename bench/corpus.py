"""The benchmark corpus: FA-KES (804 news articles on the Syrian war) as watcher Articles.

The CSV has some mojibake, so it is read with errors="replace"; see data/SOURCE.txt.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.paths import DATA
from watcher.model import Article

DATA_FILE = DATA / "FA-KES-Dataset.csv"


@dataclass(frozen=True)
class Corpus:
    """The articles and the `location` column (one governorate-level place per article)."""

    articles: tuple[Article, ...]
    locations: tuple[str, ...]

    def field_texts(self) -> list[str]:
        """Every title and every body, in the order analysis reads them."""
        return [text for a in self.articles for text in (a.title, a.body)]

    def raw_texts(self) -> list[str]:
        """Title and body as one string per article, for the regex baseline."""
        return [f"{a.title}\n{a.body}" for a in self.articles]


def load_corpus(limit: int | None = None, path: Path = DATA_FILE) -> Corpus:
    """The first `limit` articles (all when None), in the file's order."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.DictReader(handle))
    articles = tuple(
        Article(id=row["unit_id"], title=row["article_title"], body=row["article_content"],
                published=fakes_published(row["date"]))
        for row in rows[:limit]
    )
    return Corpus(articles=articles, locations=tuple(row["location"] for row in rows[:limit]))


def fakes_published(column: str) -> datetime | None:
    """FA-KES's `date` column (M/D/YYYY) as a UTC midnight; None when it is not a date.
    Context labels resolve dates in the text against it."""
    try:
        return datetime.strptime(column.strip(), "%m/%d/%Y").replace(tzinfo=UTC)
    except ValueError:
        return None
