"""Context labels on unseen text, a reference beside the warm measure of the "Context labels"
section: the daemon reads each article once, so its tokenizer meets most of an article's
words for the first time, and context meets its new word types (ContextLexicon.learn).

Measured as bench/unseen_bench.py defines unseen text: FA-KES split by date, each pass
starts a fresh analyser and engine (with the shipped rules) and warms them on the older
half (analysis and `Engine.match`, which lets context learn the older half's word types),
and a tokenizer of its own warmed on the older half's titles and bodies. Untimed, the
newer half is analysed and matched up to context (bench/context_bench.py's `_matched`);
then the tokenizer's pass over the newer half's titles and bodies and context's pass over
its matched articles (evidence and labelling, learning the newer half's word types as the
engine would) are timed, once each per pass. Every pass repeats the whole warm-up; the
best pass of each counts. The target's verdict stays on the warm tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from bench.corpus import Corpus
from bench.measure import progress, timed
from bench.unseen_bench import UNSEEN_PASSES, split_by_date
from watcher.engine.core import Engine
from watcher.model import Article
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.text.analysis import Analyzer
from watcher.text.lexicon import Lexicon


@dataclass(frozen=True)
class UnseenContext:
    """Best seconds over the newer half: the tokenizer's, and context's."""

    older: int  # articles warmed on
    newer: int  # articles timed
    articles: int  # newer articles with a match: only they are read
    matches: int
    tokenizer: float
    context: float

    @property
    def ratio(self) -> float:
        return self.context / self.tokenizer


# What one pass of the warm measure needs: an engine, the newer half analysed and matched
# up to context, and what times context over them (bench/context_bench.py gives both).
ContextPass = Callable[[Engine, Sequence[Article]], tuple[int, int, Callable[[], object]]]


def measure_unseen_context(
    corpus: Corpus, rules: list[Rule], context_pass: ContextPass, passes: int = UNSEEN_PASSES
) -> UnseenContext:
    """The best of `passes` fresh passes (module docstring); `context_pass` prepares an
    engine's context pass over articles: (articles with a match, matches, the timed work)."""
    older, newer = split_by_date(corpus.articles)
    lexicon = Analyzer().lexicon
    tokenizer_best = context_best = float("inf")
    articles = matches = 0
    for number in range(passes):
        tokenizer = _warm_tokenizer(lexicon, older)
        analyzer = Analyzer(lexicon=lexicon)
        engine = Engine(Compiler(analyzer).compile(rules), analyzer)
        for text in analyzer.analyse_many(older):
            engine.match(text)
        articles, matches, context = context_pass(engine, analyzer.analyse_many(newer))
        tokenizing = timed(partial(_tokenize, tokenizer, _fields(newer)))[0]
        labelling = timed(context)[0]
        tokenizer_best, context_best = min(tokenizer_best, tokenizing), min(context_best, labelling)
        progress(f"  context on unseen text, pass {number + 1}: tokenizer {tokenizing:.4f} s, "
                 f"context {labelling:.4f} s ({labelling / tokenizing:.3f}x)")
    return UnseenContext(len(older), len(newer), articles, matches, tokenizer_best, context_best)


def _warm_tokenizer(lexicon: Lexicon, older: Sequence[Article]) -> Callable[[str], object]:
    """A fresh analyser's tokenizer that has read the older half's titles and bodies."""
    tokenizer = Analyzer(lexicon=lexicon).nlp.tokenizer
    for text in _fields(older):
        tokenizer(text)
    return tokenizer


def _tokenize(tokenizer: Callable[[str], object], texts: list[str]) -> None:
    for text in texts:
        tokenizer(text)


def _fields(articles: Sequence[Article]) -> list[str]:
    return [text for article in articles for text in (article.title, article.body)]

