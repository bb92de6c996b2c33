"""What context labels cost: labelling the matches' words, against the tokenizer.

`python -m bench.run --only context`. Over FA-KES, in one
process: the warm tokenizer pass over every title and body, and the labelling that
`Engine.match` adds once rules have matched (a ContextReader per article with a match,
the labels of every match's words, read in the sentences that state it as the engine
finds them), taken in turns so both see the same machine. What the engine has at hand
without context is made before the passes: each match's earliest terms, sorted for its
spans (build_match), and the sentence numbers its evaluator read; the reader reads any
others at every pass. Finding the sentences that state each match (Evaluator.evidence)
is not timed. The target (issue 17): labelling costs at most 0.3x the tokenizer on top
of analysis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from bench.corpus import Corpus
from bench.measure import Machine, machine, paired_best, progress
from bench.paths import SHIPPED_RULES
from bench.rulegen import build_vocabulary, generate_rules
from bench.sizes import Sizes
from bench.tables import Column, markdown
from bench.targets import TARGET_COLUMNS, Target
from watcher.engine.core import MAX_SPANS, Engine
from watcher.engine.evaluation import Evaluator, Plans, Sentence, TermRange
from watcher.engine.occurrences import Occurrences
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query
from watcher.rules.load import load_rules
from watcher.text.analysis import AnalysedText, Analyzer

CONTEXT_HEADING = "## Context labels"
GENERATED_RULES = 1_000  # the first of the matching benchmark's generated rules
TARGET = 0.3  # labelling / warm tokenizer

# Each matched article with the sentence numbers its evaluator holds when the engine labels
# its matches, and its matches' earliest term ranges and the sentences stating them.
Held = list[tuple[AnalysedText, dict[int, list[int]],
                  list[tuple[list[TermRange], frozenset[Sentence]]]]]


@dataclass(frozen=True)
class ContextRun:
    """One rule set's labelling pass against the tokenizer's, and what it labelled."""

    rules: str
    articles: int  # articles with a match: only they are read
    matches: int
    tokenizer: float  # best seconds of a warm tokenizer pass
    labelling: float  # best seconds of a labelling pass
    labels: Counter[str]

    @property
    def ratio(self) -> float:
        return self.labelling / self.tokenizer


@dataclass(frozen=True)
class ContextReport:
    machine: Machine
    runs: list[ContextRun]


def measure_context(corpus: Corpus, analyzer: Analyzer, sizes: Sizes) -> ContextReport:
    """The machine and one run per rule set (the shipped rules, the first generated ones
    of the matching part: 1,000, or its largest set when smaller)."""
    analysed = analyzer.analyse_many(corpus.articles)
    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    count = min(GENERATED_RULES, max(sizes.rule_counts))
    generated = [
        Rule(id=g.id, title=g.template, query_text=g.query, query=parse_query(g.query))
        for g in generate_rules(vocabulary, count)
    ]
    shipped = list(load_rules(SHIPPED_RULES).enabled())
    texts = corpus.field_texts()
    runs = []
    for name, rules in ((f"shipped rules/ ({len(shipped)})", shipped),
                        (f"{len(generated):,} generated", generated)):
        progress(f"context labels: {name}")
        engine = Engine(Compiler(analyzer).compile(rules), analyzer)
        runs.append(_measure(name, engine, analysed, texts, sizes))
    return ContextReport(machine(), runs)


def _measure(
    name: str, engine: Engine, analysed: Sequence[AnalysedText], texts: Sequence[str],
    sizes: Sizes,
) -> ContextRun:
    held: Held = []
    for text in analysed:
        occurrences = engine.find_occurrences(text)
        found = engine.evaluate(text, occurrences, engine.candidate_rules(occurrences))
        if found:
            evaluator = _NumbersKept(occurrences, text, engine.plans)
            # The earliest terms, sorted as build_match sorts them for the spans anyway.
            matches = [(sorted(terms)[:MAX_SPANS], evaluator.evidence(compiled.query))
                       for compiled, terms in found]
            held.append((text, evaluator.sentence_numbers, matches))
    tokenizer = engine.analyzer.nlp.tokenizer

    def tokenize() -> None:
        for text in texts:
            tokenizer(text)

    def label() -> list:
        labelled = []
        for text, numbers, found in held:
            reader = engine.context_reader(text, partial(_numbers, text, numbers))
            labelled.extend(reader.labels(terms, evidence) for terms, evidence in found)
        return labelled

    counts = Counter(label.label for labels in label() for label in labels)
    tokenizing, labelling = paired_best(tokenize, label, sizes.repeats)
    return ContextRun(
        rules=name, articles=len(held), matches=sum(len(f) for _, _, f in held),
        tokenizer=tokenizing.best, labelling=labelling.best, labels=counts,
    )


class _NumbersKept(Evaluator):
    """An evaluator that keeps aside the sentence numbers it read (for the evidence): the
    engine's reader shares them, and each timed pass starts from them alone."""

    def __init__(self, occurrences: Occurrences, text: AnalysedText, plans: Plans) -> None:
        super().__init__(occurrences, text, plans)
        self.sentence_numbers: dict[int, list[int]] = {}

    def unit_numbers(self, field_no: int, sentence: bool) -> list[int]:
        numbers = super().unit_numbers(field_no, sentence)
        if sentence:
            self.sentence_numbers[field_no] = numbers
        return numbers


def _numbers(text: AnalysedText, kept: dict[int, list[int]], field_no: int) -> list[int]:
    """A field's sentence numbers as the engine's evaluator gives them to the reader: kept
    from the evidence, else read (at every pass, as the engine reads them per article)."""
    numbers = kept.get(field_no)
    return text.fields()[field_no].sentence.tolist() if numbers is None else numbers


COLUMNS = (
    Column("rules", "rules"),
    Column("articles with a match", "articles", ","),
    Column("matches", "matches", ","),
    Column("labelling s", "labelling", ".4f"),
    Column("/ tokenizer", lambda run: f"{run.ratio:.3f}x"),
    Column("labels given", lambda run: ", ".join(
        f"{k} {v}" for k, v in sorted(run.labels.items()))),
)


def _target(report: ContextReport) -> Target:
    worst = max(run.ratio for run in report.runs)
    return Target("labelling / tokenizer (warm), worst rule set", worst, "x", "<=", TARGET)


def render_context_table(report: ContextReport) -> str:
    return "\n".join(markdown(COLUMNS, report.runs)
                     + [""] + markdown(TARGET_COLUMNS, [_target(report)]))


def render_context_markdown(report: ContextReport) -> str:
    machine_lines = "\n".join(f"- {line}" for line in report.machine.describe())
    return f"""{CONTEXT_HEADING}

Labelling matches by the context of their words (`historical`, `ended`, `negated`,
`hypothetical`; watcher/engine/context.py) over FA-KES, against the warm tokenizer pass
over every title and body ({report.runs[0].tokenizer:.3f} s), in the same process, the two
timed in turns (best pass of each). Only the articles a rule matched are read, each
sentence holding a match's words once per article. What the engine has without context is
made before the passes: each match's earliest terms, sorted for its spans, and the sentence
numbers the article's evaluator read (the reader shares them); finding the sentences that
state each match (Evaluator.evidence) is not timed. `python -m bench.run --only context`
rewrites this section.

{machine_lines}

{chr(10).join(markdown(TARGET_COLUMNS, [_target(report)]))}

{chr(10).join(markdown(COLUMNS, report.runs))}
"""
