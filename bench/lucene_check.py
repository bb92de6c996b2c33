"""The Lucene harness's check before it is timed: three articles, five rules, the matches
each must find.

The rules are of the generated templates' kinds (NEAR/n over inflected forms and a
hyphenated place, field scopes, a prefix within a sentence, NOT, NOT IN), written so that neither
variants nor the NEAR/s approximation matter: watcher's engine finds exactly EXPECTED
too (tests/test_lucene_bench.py), so a harness that finds anything else is broken.
"""

from __future__ import annotations

from watcher.model import Article

ARTICLES = (
    Article(id="check-1", title="Shelling resumes in Deir ez-Zor",
            body="Government forces shelled the eastern districts of Deir ez-Zor on Monday. "
                 "Residents were evacuated from Hajin."),
    Article(id="check-2", title="Talks in Geneva",
            body="Delegates agreed a ceasefire for Homs. No shelling was reported in the city."),
    Article(id="check-3", title="Aid convoy reaches Douma",
            body="The convoy carried food and medicine to families who had fled the fighting."),
)
RULES = (
    ("check-near", '(shell OR bomb) NEAR/5 ~"Deir ez-Zor"'),
    ("check-fields", "title:(talks) body:(~Homs OR ~Aleppo)"),
    ("check-sentence", "evacuat* NEAR/s ~Hajin"),
    ("check-not", "(ceasefire OR convoy) NOT shell"),
    ("check-not-in", 'body:(shell NOT IN "forces shelled")'),
)
EXPECTED = frozenset({
    ("check-1", "check-near"),
    ("check-2", "check-fields"),
    ("check-1", "check-sentence"),
    ("check-3", "check-not"),
    ("check-2", "check-not-in"),  # check-1's shelling is all "forces shelled"
})
