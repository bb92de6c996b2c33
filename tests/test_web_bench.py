"""bench.web_bench in small: a workspace database filled, the inbox's requests answered
through the served app and reported (the numbers mean nothing at this size: none is checked)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bench.corpus import load_corpus
from bench.web_bench import WEB_HEADING, measure_web, render_web_markdown
from watcher.store import Store
from watcher.store.inbox import Inbox, StoryFilter


def test_the_workspace_part_fills_a_database_and_times_every_request(tmp_path: Path) -> None:
    report = measure_web(load_corpus(40).articles, 600, 1, tmp_path)
    assert report.articles == 600 and report.stories_with_matches > 10
    assert report.timings[0].stories == 50  # a full first page
    assert all(t.stories > 0 for t in report.timings)
    assert all(t.median_ms > 0 and t.baseline_ms > 0 for t in report.timings)
    section = render_web_markdown(report)
    assert section.startswith(WEB_HEADING + "\n")
    assert "| inbox, first page | `/` | 50 |" in section
    assert len(report.targets) == len(report.timings)


def test_the_filled_database_is_searchable_and_keeps_the_migrations_triggers(
    tmp_path: Path,
) -> None:
    measure_web(load_corpus(40).articles, 200, 1, tmp_path)
    with Store.open(f"sqlite:///{tmp_path / 'workspace.db'}") as store:
        assert Inbox(store).stories(StoryFilter(q="Syria")).stories
        with store.reading() as connection:
            triggers = connection.scalars(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
    assert sorted(triggers) == ["articles_search_delete", "articles_search_update"]
