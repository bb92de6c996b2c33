"""bench.units: the comparison with the sentencizer rule alone (an analyser without the
furniture units) finds each furniture cut and names its cause."""

from __future__ import annotations

from bench.units import _splits, _title_case_runs
from watcher.model import Article
from watcher.text.analysis import Analyzer

BODY = "Syrian forces held the city. ... 01 Related Daesh Shells Syrias Deir ez-Zor | Sputnik"


def test_cuts_are_found_and_named_by_what_starts_the_new_sentence() -> None:
    article = Article("a", "", BODY)
    before = Analyzer(furniture=False).analyse(article)
    assert before.body.sentence_starts == [0, BODY.index("...")]
    after = Analyzer().analyse(article)
    count, cuts, lost = _splits(before, after)
    assert (count, lost) == (1, [])
    assert [cut.cause for cut in cuts] == ["Related", "|"]
    assert after.body.sentence_starts == [
        0, BODY.index("..."), BODY.index("Related"), BODY.index("Sputnik"),
    ]


def test_title_case_runs_are_counted_inside_a_sentence(analyzer: Analyzer) -> None:
    text = ("Staff of the Armed Forces of the Russian Federation Said Today It Will Go. "
            "Four Five Six. Seven")
    assert _title_case_runs(analyzer.analyse(Article("a", "", text)).body) == 1
