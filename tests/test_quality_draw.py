"""bench.quality_draw: drawing a held-out sample the way the fresh sample was drawn."""

from __future__ import annotations

from pathlib import Path

from bench.quality import HELD_OUT, LABELS_FILE, load_labels
from bench.quality_draw import draw, judged_articles, judging_lines
from tests.test_quality import _write_set

# The current rules (tests/test_quality.py's RULES) match article 1 and 2 under
# aleppo-clashes and 3 under raqqa-strikes; the old rules matched 4 and 3 under raqqa-strikes.
BEFORE = {("fakes", "4", "raqqa-strikes"), ("fakes", "3", "raqqa-strikes")}


def test_articles_either_rule_set_matches_are_taken_until_they_hold_the_old_rules_pairs(
    tmp_path: Path,
) -> None:
    _write_set(tmp_path, [])
    sample = draw(tmp_path / "rules.yaml", (), target=2, seed=2028, before=BEFORE,
                  fakes=tmp_path / "fakes.csv")
    assert {"3", "4"} <= set(sample.articles)  # 4: matched by the old rules alone
    assert sample.articles[-1] in {"3", "4"}  # taken until they hold both old pairs
    assert len([pair for pair in sample.matched if pair in BEFORE]) == 2
    current = {pair for pair in sample.matched if pair not in BEFORE}
    assert current == {("fakes", article, "aleppo-clashes")
                       for article in sample.articles if article in {"1", "2"}}
    lines = {(line["article"], line["rule"]): line["matched"] for line in judging_lines(
        sample, BEFORE)}
    assert lines["1", "aleppo-clashes"] is False  # `matched` is what the old rules did
    assert lines["4", "raqqa-strikes"] is True and lines["3", "raqqa-strikes"] is True


def test_without_old_rules_the_draw_counts_the_current_rules_pairs(tmp_path: Path) -> None:
    _write_set(tmp_path, [])
    sample = draw(tmp_path / "rules.yaml", (), target=1, seed=2028,
                  fakes=tmp_path / "fakes.csv")
    assert len(sample.articles) == 1 and sample.articles[0] != "4"  # no rule matches 4
    assert [line["matched"] for line in judging_lines(sample)][:len(sample.matched)] == [
        True] * len(sample.matched)


def test_by_default_no_article_of_a_judged_set_is_drawn_again() -> None:
    """A new sample is held out from labels.jsonl and every held-out sample before it."""
    taken = judged_articles()
    for path in (LABELS_FILE, *(sample.path for sample in HELD_OUT)):
        articles = {j.article for j in load_labels(path)[0] if j.corpus == "fakes"}
        assert articles and articles <= taken, path
