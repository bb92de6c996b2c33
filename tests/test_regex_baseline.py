"""The matching benchmark's naive baseline (bench/baseline.py): a query as one regex."""

from __future__ import annotations

import pytest

from bench.baseline import RegexTranslator
from watcher.rules.grammar import parse_query
from watcher.text.lexicon import Lexicon


@pytest.mark.parametrize("query", ['fighting NOT IN "fighting position"',
                                   'Raqqa NEAR/5 fighting NOT IN "fighting position"',
                                   'siege AND NOT (fighting NOT IN "fighting position")'])
def test_not_in_is_refused_with_a_clear_error(query):
    """A regex cannot leave out the occurrences of A inside B: no rule is mistranslated."""
    with pytest.raises(ValueError, match=r"^NOT IN has no regex translation: NotIn\("):
        RegexTranslator(Lexicon({}, frozenset())).translate("r", parse_query(query))
