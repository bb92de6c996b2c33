"""`python -m bench.units`: what boilerplate text units change on FA-KES, and what they cost.

A boilerplate lead word (`Related`, `Tags`, `Read more` ...) or a list bar (`|`) starts a
sentence of its own (watcher/text/analysis.py, `lead_positions`). This compares the sentences
and the alerts of the shipped rules with and without that rule, in one process: "without"
is the sentencizer rule alone (full stops and line breaks), the analysis before it.

It reports the sentences split and by what, the NEAR/s alerts lost or gained with their
snippets before and after, the same for the shipped rules with every NEAR/n read as NEAR/s
(many more sentence pairs to judge), and the cost of the rule next to the tokenizer's.
`python -m bench.run --only units` puts the report in RESULTS.md as its "Text units"
section; `python -m bench.units` prints it.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.corpus import Corpus, load_corpus
from bench.measure import best_of_many, paired_best
from bench.quality import LABELS_FILE, Tally, load_labels, measure_quality
from watcher.engine.core import Engine
from watcher.model import Article
from watcher.rules.compile import Compiler
from watcher.rules.load import load_rules
from watcher.text import analysis
from watcher.text.analysis import (
    FIELD_SEPARATOR,
    LIST_SEPARATORS,
    TWEET_LINK,
    AnalysedText,
    Analyzer,
    FieldText,
    Tokens,
)

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"
UNITS_HEADING = "## Text units"
EXAMPLES = 4  # cuts shown per kind
# A "Title Case run" (the heuristic not taken): at least this many capitalised words or
# numbers in a row inside one sentence, lower-case function words allowed between them.
TITLE_RUN_WORDS = 8
TITLE_RUN_MINOR = frozenset({
    "a", "after", "against", "al", "an", "and", "as", "at", "by", "ez", "for", "from", "in",
    "into", "near", "of", "on", "over", "s", "the", "to", "with",
})
NOT_JUDGED = "not in the quality set"
Alert = tuple[str, str]  # (article id, rule id)


@dataclass(frozen=True)
class Split:
    """Where a sentence of the sentencizer rule is now cut, and the text around it."""

    article: str
    cause: str  # the lead word or the bar
    before: str
    after: str


@dataclass(frozen=True)
class Changed:
    """An alert (article, rule) that the units took away or added, with its snippets."""

    article: str
    rule: str
    snippet_before: str
    snippet_after: str
    judged: str  # the analyst's judgement of this alert in the quality set, if any


@dataclass(frozen=True)
class UnitsReport:
    sentences_before: int
    sentences_after: int
    sentences_split: int
    splits: tuple[Split, ...]
    lost_starts: tuple[Split, ...]  # sentence starts of the sentencizer rule gone now
    lost: tuple[Changed, ...]
    gained: tuple[Changed, ...]
    lost_all_near_s: tuple[Changed, ...]
    gained_all_near_s: tuple[Changed, ...]
    title_case_runs: int  # runs of TITLE_RUN_WORDS capitalised words inside a sentence
    quality_before: Tally  # the quality set (bench.quality), over all rules
    quality_after: Tally
    tokenizer_seconds: float
    markers_seconds: float
    leads_seconds: float
    articles: int


def _sentences(text: AnalysedText) -> list[tuple[str, int, int]]:
    """(field, start, end) of every sentence of both fields."""
    found = []
    for field in text.fields():
        if len(field):
            found += [(field.name, *field.sentence_bounds(i))
                      for i in range(len(field.sentence_starts))]
    return found


def _splits(
    before: AnalysedText, after: AnalysedText
) -> tuple[int, list[Split], list[Split]]:
    """Sentences of `before` that `after` cuts, each cut, and the sentence starts of
    `before` that `after` lacks (the text around each)."""
    cut_sentences = 0
    splits, lost_starts = [], []
    for old, new in zip(before.fields(), after.fields(), strict=True):
        if not len(old):
            continue
        old_starts, new_starts = set(old.sentence_starts), set(new.sentence_starts)
        cuts = sorted(new_starts - old_starts)
        lost_starts += [
            Split(before.article.id, "moved", old.text[max(0, start - 60):start],
                  old.text[start:start + 60])
            for start in sorted(old_starts - new_starts)
        ]
        cut_sentences += len({np.searchsorted(old.sentence_starts, c, side="right") for c in cuts})
        for cut in cuts:
            after_bar = new.text[:cut].rstrip().endswith(tuple(LIST_SEPARATORS))
            cause = "|" if after_bar else _cause(new.text[cut:].split(maxsplit=1)[0])
            splits.append(Split(before.article.id, cause,
                                new.text[max(0, cut - 60):cut], new.text[cut:cut + 60]))
    return cut_sentences, splits, lost_starts


def _cause(word: str) -> str:
    """The kind of lead a cut starts at: its word, a tweet's picture link by its site."""
    return TWEET_LINK if word.lower().startswith(TWEET_LINK) else word


def _alerts(engine: Engine, texts: Sequence[AnalysedText]) -> dict[Alert, str]:
    return {(t.article.id, m.rule_id): m.snippet for t in texts for m in engine.match(t)}


def _changes(before: dict[Alert, str], after: dict[Alert, str]) -> tuple[list[Changed], ...]:
    judged = _judgements()
    lost = [Changed(a, r, before[a, r], "", judged.get((a, r), NOT_JUDGED))
            for a, r in sorted(before.keys() - after.keys())]
    gained = [Changed(a, r, "", after[a, r], judged.get((a, r), NOT_JUDGED))
              for a, r in sorted(after.keys() - before.keys())]
    return lost, gained


def _judgements() -> dict[Alert, str]:
    """FA-KES pairs of the quality set (bench/data/quality), as `wanted` or `unwanted:
    reason`: shows whether an alert the units take away was one an analyst wanted."""
    judgements, _ = load_labels(LABELS_FILE)
    return {
        (j.article, j.rule): "judged wanted" if j.wanted else f"judged unwanted: {j.reason}"
        for j in judgements if j.corpus == "fakes"
    }


@contextmanager
def rules_with_near_s() -> Iterator[Path]:
    """The shipped rules with every NEAR/n (and ONEAR/n) read as NEAR/s."""
    with tempfile.TemporaryDirectory() as folder:
        for path in RULES_DIR.glob("*.yaml"):
            text = re.sub(r"\b(O?NEAR)/\d+", r"\1/s", path.read_text(encoding="utf-8"))
            (Path(folder) / path.name).write_text(text, encoding="utf-8")
        yield Path(folder)


def _engine(analyzer: Analyzer, rules: Path) -> Engine:
    return Engine(Compiler(analyzer).compile(load_rules(rules).rules), analyzer)


def measure_units(corpus: Corpus) -> UnitsReport:
    analyzer, sentencizer = Analyzer(), Analyzer(furniture=False)
    articles = list(corpus.articles)
    before = sentencizer.analyse_many(articles)
    after = analyzer.analyse_many(articles)
    sentences_before = sum(len(_sentences(t)) for t in before)
    sentences_after = sum(len(_sentences(t)) for t in after)
    split_count, splits, lost_starts = 0, [], []
    for old, new in zip(before, after, strict=True):
        count, found, lost = _splits(old, new)
        split_count += count
        splits += found
        lost_starts += lost
    lost, gained = _changes(_alerts(_engine(sentencizer, RULES_DIR), before),
                            _alerts(_engine(analyzer, RULES_DIR), after))
    with rules_with_near_s() as folder:
        lost_s, gained_s = _changes(_alerts(_engine(sentencizer, folder), before),
                                    _alerts(_engine(analyzer, folder), after))
    title_case_runs = sum(_title_case_runs(t.body) for t in after)
    quality_before = measure_quality(analyzer=Analyzer(furniture=False)).overall
    quality_after = measure_quality(analyzer=Analyzer()).overall
    tokenizer, markers, leads = _costs(analyzer, articles)
    return UnitsReport(sentences_before, sentences_after, split_count, tuple(splits),
                       tuple(lost_starts),
                       tuple(lost), tuple(gained), tuple(lost_s), tuple(gained_s),
                       title_case_runs, quality_before, quality_after, tokenizer, markers,
                       leads, len(articles))


def _title_case_runs(field: FieldText) -> int:
    """Runs of TITLE_RUN_WORDS or more capitalised words (or numbers) inside one sentence."""
    runs = capitals = 0
    previous_sentence = None
    pairs = zip(field.starts.tolist(), field.ends.tolist(), field.sentence.tolist(), strict=True)
    for start, end, sentence in pairs:
        word = field.text[start:end]
        if sentence != previous_sentence or not (
            word[0].isupper() or word[0].isdigit() or word.lower() in TITLE_RUN_MINOR
        ):
            runs += capitals >= TITLE_RUN_WORDS
            capitals = 0
        if word[0].isupper() or word[0].isdigit():
            capitals += 1
        previous_sentence = sentence
    return runs + (capitals >= TITLE_RUN_WORDS)


def _costs(analyzer: Analyzer, articles: Sequence[Article]) -> tuple[float, float, float]:
    """Best seconds per FA-KES pass, one article at a time as `Analyzer.analyse` reads it
    (title and body as one text): the tokenizer alone, the whole sentence-marker step, and
    its lead-word part alone (what the units add; a bar is one more flag on a type, free)."""
    texts = [FIELD_SEPARATOR.join((a.title, a.body)) for a in articles]
    tokens = [analyzer._tokens(text, 0) for text in texts]

    def over_fields(function: Callable[[Tokens], np.ndarray]) -> Callable[[], object]:
        return lambda: [function(t) for t in tokens]

    # In turns, so a busy machine weighs on the ratio's two sides alike.
    tokenizer, leads = paired_best(lambda: [analyzer.nlp.tokenizer(text) for text in texts],
                                   over_fields(analysis.lead_positions))
    markers = best_of_many(over_fields(analysis._sentence_markers))
    return tokenizer.best, markers.best, leads.best


def render_units_markdown(report: UnitsReport) -> str:
    lines = [UNITS_HEADING, ""]
    lines += [
        "Written by `make bench` (alone: `python -m bench.run --only units`, or "
        "`python -m bench.units` prints it). A boilerplate lead word (`Related`, "
        "`Tags`, `Category`, `Read more`, `See also`, `Follow us`; capitalised, spaced off "
        "the word before), an embedded tweet's picture link (`pic.twitter.com…`) or a list "
        "bar `|` starts a sentence of its own "
        "(docs/rule-language.md, Sentences and paragraphs). Compared on FA-KES "
        f"({report.articles} articles, titles and bodies) with the sentencizer rule alone "
        "(full stops and line breaks), in one process. Machine-independent except the costs.",
        "",
        f"- sentences: {report.sentences_before:,} before, {report.sentences_after:,} after; "
        f"{report.sentences_split:,} sentences cut ({len(report.splits):,} cuts, "
        f"{len(_distinct(report.splits))} distinct by the text around them, listed by "
        "`python -m bench.units --cuts`; read by hand for issue 17, each is at page "
        "furniture); sentence starts of the sentencizer rule that are no start now: "
        f"{len(report.lost_starts)} (listed below); every sentence neither cut nor next to "
        "one of those is unchanged, character for character",
        "- cuts by what starts the new sentence: " + ", ".join(
            f"`{cause}` {n}" for cause, n in Counter(s.cause for s in report.splits).most_common()),
        f"- shipped rules, alerts lost: {len(report.lost)}, gained: {len(report.gained)}",
        "- quality set (`python -m bench.quality`), before -> after: "
        + _quality(report.quality_before) + " -> " + _quality(report.quality_after),
        f"- shipped rules with every NEAR/n read as NEAR/s, alerts lost: "
        f"{len(report.lost_all_near_s)}, gained: {len(report.gained_all_near_s)}",
        f"- cost per FA-KES pass (one article at a time, as the daemon analyses): tokenizer "
        f"{report.tokenizer_seconds * 1000:.0f} ms; the whole sentence-marker step "
        f"{report.markers_seconds * 1000:.1f} ms, of which the lead words "
        f"{report.leads_seconds * 1000:.1f} ms ({_share(report):.1%} of the tokenizer's time)",
        "",
    ]
    if report.lost_starts:
        lines += [
            "Sentence starts of the sentencizer rule that are no start now (read by hand for "
            "issue 17: each was a closing quote after a full stop, which the sentencizer rule "
            "puts at the start of the next sentence; a lead word right after it now starts "
            "that sentence, and the quote stays with the sentence it closes):", "",
            *(f"- {s.article}: `…{_clean(s.before)} ‖ {_clean(s.after)}…`"
              for s in report.lost_starts),
            "",
        ]
    lines += _changed_lines("Alerts of the shipped rules lost", report.lost)
    lines += _changed_lines("Alerts of the shipped rules gained", report.gained)
    lines += _changed_lines("With every NEAR/n read as NEAR/s: alerts lost",
                            report.lost_all_near_s)
    lines += _changed_lines("With every NEAR/n read as NEAR/s: alerts gained",
                            report.gained_all_near_s)
    lines += [
        "Not taken: a run of Title Case words as a unit of its own. FA-KES bodies hold "
        f"{report.title_case_runs} runs of {TITLE_RUN_WORDS} or more capitalised words "
        "inside a sentence (function words such as `of`, `in`, `the` allowed between). In a "
        "sample of 40 read by hand for issue 17, 21 were furniture (datelines with the "
        "headline, photo credits with a related headline, bylines, related lists already cut "
        "at `Related`), but 7 were real prose (district lists such as \"Bab al-Faraj "
        "al-Midan ... and al-Neel Street while worshipers were leaving\", \"the General "
        "Staff of the Armed Forces of the Russian Federation announced\") and 12 ran on "
        "into the capitalised first words of the next real sentence (\"... MOSCOW "
        "(Sputnik) The number of victims\"), where no cut point can be told from the "
        "words. Cutting there would split real sentences and lose wanted NEAR/s alerts "
        "(a siege word before a district list), so Title Case alone starts nothing.",
        "",
        f"Cuts, the first {EXAMPLES} of each kind (`…before ‖ after…`):", "",
    ]
    shown: Counter[str] = Counter()
    for split in report.splits:
        if shown[split.cause] < EXAMPLES:
            shown[split.cause] += 1
            lines.append(f"- {split.article}: `…{_clean(split.before)} ‖ {_clean(split.after)}…`")
    return "\n".join(lines) + "\n"


def _distinct(splits: Sequence[Split]) -> list[Split]:
    """One cut of each kind of text around it (sites repeat their furniture verbatim)."""
    seen: dict[tuple[str, str], Split] = {}
    for split in splits:
        seen.setdefault((split.before[-30:], split.after[:30]), split)
    return list(seen.values())


def _quality(tally: Tally) -> str:
    return (f"{tally.alerts} alerts, precision {tally.precision or 0:.1%}, recall "
            f"{tally.recall or 0:.1%}, {tally.reasons['boilerplate']} unwanted as boilerplate")


def _share(report: UnitsReport) -> float:
    return report.leads_seconds / report.tokenizer_seconds if report.tokenizer_seconds else 0.0


def _changed_lines(title: str, changed: Sequence[Changed]) -> list[str]:
    if not changed:
        return [f"{title}: none.", ""]
    lines = [f"{title} ({len(changed)}):", ""]
    for change in changed:
        snippet = change.snippet_before or change.snippet_after
        lines.append(f"- {change.article} / {change.rule} ({change.judged}): "
                     f"`{_clean(snippet)}`")
    return [*lines, ""]


def _clean(text: str) -> str:
    return " ".join(text.replace("`", "'").split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", action="store_true", help="also list every distinct cut")
    options = parser.parse_args(argv)
    report = measure_units(load_corpus())
    section = render_units_markdown(report)
    print(section)
    if options.cuts:
        for split in _distinct(report.splits):
            print(f"{split.article}: …{_clean(split.before)} ‖ {_clean(split.after)}…")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

