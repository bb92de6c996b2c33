"""What context labels cost: finding the sentences that state each match and labelling its
words there, against the tokenizer.

`python -m bench.run --only context`. Over FA-KES, in one process: the warm tokenizer pass
over every title and body, and what `Engine.match` adds for context once rules have
matched: each match's stating sentences (Evaluator.evidence: only context reads them,
handed to the labels as the search, as Engine.match_of does, so a match whose words lie
in one sentence never runs it) and the labels of its words read in them (a ContextReader
per article with a match), the passes taken in turns so all see the same machine. What
the engine has at hand without context is made before the passes: each match's earliest
terms, sorted for its spans (build_match), and each article's evaluator as matching left
it (its memos: extents, sentence numbers), restored untimed before every turn, since
evidence adds to them; each field's own page furniture lead words (FieldText.lead_at's:
its share of the leads the analyser found, which only context asks for and the field then
keeps) are dropped then too, so every turn asks for them as the engine does once per
article.
Labelling alone (the evidence found before the passes, and the sentence numbers the
evaluator read for it kept) is timed beside. The target (issue 17): context costs at
most 0.3x the tokenizer on top of analysis and matching: evidence and labelling together.
Beside it, as a reference only, the same work with the shipped rules on unseen text
(bench/context_unseen.py), since the daemon reads each article once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from bench.context_compiled import compiled_lines
from bench.context_unseen import UnseenContext, measure_unseen_context
from bench.corpus import Corpus
from bench.measure import Machine, machine, progress, turns_best
from bench.paths import SHIPPED_RULES
from bench.rulegen import build_vocabulary, generate_rules
from bench.sizes import Sizes
from bench.tables import Column, markdown
from bench.targets import TARGET_COLUMNS, Target
from bench.unseen_bench import UNSEEN_PASSES
from watcher.engine.core import MAX_SPANS, Engine
from watcher.engine.evaluation import Evaluator, Plans, Sentence, TermRange
from watcher.engine.occurrences import Occurrences
from watcher.rules.ast import Rule
from watcher.rules.compile import CNode, Compiler
from watcher.rules.grammar import parse_query
from watcher.rules.load import load_rules
from watcher.text.analysis import AnalysedText, Analyzer

CONTEXT_HEADING = "## Context labels"
GENERATED_RULES = 1_000  # the first of the matching benchmark's generated rules
TARGET = 0.3  # evidence and labelling / warm tokenizer

# Each matched article: its text, its evaluator as matching left it, the sentence numbers
# it holds once it has found the evidence, and per match its query, its earliest term
# ranges and the sentences stating it.
@dataclass(frozen=True)
class Matched:
    text: AnalysedText
    evaluator: Evaluator
    sentence_numbers: dict[int, list[int]]
    matches: list[tuple[CNode, list[TermRange], frozenset[Sentence]]]


@dataclass(frozen=True)
class ContextRun:
    """One rule set's labelling pass against the tokenizer's, and what it labelled."""

    rules: str
    articles: int  # articles with a match: only they are read
    matches: int
    tokenizer: float  # best seconds of a warm tokenizer pass
    context: float  # best seconds of an evidence and labelling pass
    labelling: float  # best seconds of a labelling pass, the evidence found before
    labels: Counter[str]

    @property
    def ratio(self) -> float:
        return self.context / self.tokenizer

    @property
    def labelling_ratio(self) -> float:
        return self.labelling / self.tokenizer


@dataclass(frozen=True)
class ContextReport:
    machine: Machine
    runs: list[ContextRun]
    unseen: UnseenContext  # the shipped rules on unseen text: a reference, not the verdict


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
    progress("context labels: the shipped rules on unseen text")
    passes = 1 if sizes.repeats.most == 1 else UNSEEN_PASSES
    unseen = measure_unseen_context(corpus, shipped, _unseen_pass, passes)
    return ContextReport(machine(), runs, unseen)


def _measure(
    name: str, engine: Engine, analysed: Sequence[AnalysedText], texts: Sequence[str],
    sizes: Sizes,
) -> ContextRun:
    held = [matched for text in analysed if (matched := _matched(engine, text)) is not None]
    tokenizer = engine.analyzer.nlp.tokenizer
    evaluators: list[Evaluator] = []

    def restore() -> None:
        evaluators[:] = [_as_left(matched.evaluator) for matched in held]
        for matched in held:
            _forget_leads(matched.text)

    def tokenize() -> None:
        for text in texts:
            tokenizer(text)

    def context() -> list:
        return _evidence_and_labels(engine, held, evaluators)

    def label() -> list:
        labelled = []
        for matched in held:
            numbers = partial(_numbers, matched.text, matched.sentence_numbers)
            reader = engine.context_reader(matched.text, numbers)
            labelled.extend(reader.labels(terms, lambda found=evidence: found)
                            for _, terms, evidence in matched.matches)
        return labelled

    restore()
    given = context()
    if given != label():
        raise AssertionError(f"{name}: labelling with the evidence found before differs")
    counts = Counter(label.label for labels in given for label in labels)
    tokenizing, both, labelling = turns_best((tokenize, context, label), sizes.repeats, restore)
    return ContextRun(
        rules=name, articles=len(held), matches=sum(len(m.matches) for m in held),
        tokenizer=tokenizing.best, context=both.best, labelling=labelling.best, labels=counts,
    )


def _evidence_and_labels(
    engine: Engine, held: Sequence[Matched], evaluators: Sequence[Evaluator]
) -> list:
    """The timed work: each match's stating sentences and its labels, as Engine.match
    finds them, each article's evaluator as matching left it."""
    labelled = []
    for matched, evaluator in zip(held, evaluators, strict=True):
        numbers = partial(evaluator.unit_numbers, sentence=True)
        reader = engine.context_reader(matched.text, numbers)
        labelled.extend(reader.labels(terms, partial(evaluator.evidence, query))
                        for query, terms, _ in matched.matches)
    return labelled


def _unseen_pass(
    engine: Engine, analysed: Sequence[AnalysedText]
) -> tuple[int, int, Callable[[], object]]:
    """One unseen pass's context work over freshly analysed articles (bench/context_unseen.py):
    the articles with a match, the matches, and the work (once: it learns the new types)."""
    held = [matched for text in analysed if (matched := _matched(engine, text)) is not None]
    evaluators = [_as_left(matched.evaluator) for matched in held]
    work = partial(_evidence_and_labels, engine, held, evaluators)
    return len(held), sum(len(matched.matches) for matched in held), work


def _matched(engine: Engine, text: AnalysedText) -> Matched | None:
    """An article's matches as the engine has them before context, or None without one."""
    occurrences = engine.find_occurrences(text)
    evaluator = _NumbersKept(occurrences, text, engine.plans)
    found = engine.held_rules(evaluator, engine.candidate_rules(occurrences))
    if not found:
        return None
    left = _as_left(evaluator)
    # The earliest terms, sorted as build_match sorts them for the spans anyway.
    matches = [(compiled.query, sorted(terms)[:MAX_SPANS], evaluator.evidence(compiled.query))
               for compiled, terms in found]
    return Matched(text, left, evaluator.sentence_numbers, matches)


def _forget_leads(text: AnalysedText) -> None:
    """Drop the fields' own boilerplate lead words (FieldText.lead_at's: their share of the
    analyser's), which only context asks for and each field keeps once found: every turn
    asks for them again, as the engine does once per article."""
    for field in text.fields():
        vars(field).pop("_lead_tokens", None)


def _as_left(evaluator: Evaluator) -> Evaluator:
    """A plain Evaluator holding copies of another's memos: they can grow without
    touching the original's."""
    fresh = Evaluator.__new__(Evaluator)
    for name, value in vars(evaluator).items():
        setattr(fresh, name, dict(value) if isinstance(value, dict) else value)
    return fresh


class _NumbersKept(Evaluator):
    """An evaluator that keeps aside the sentence numbers it read (while matching and for
    the evidence): labelling alone starts from them at each pass."""

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
    Column("evidence + labelling s", "context", ".4f"),
    Column("/ tokenizer", lambda run: f"{run.ratio:.3f}x"),
    Column("labelling alone s", "labelling", ".4f"),
    Column("/ tokenizer", lambda run: f"{run.labelling_ratio:.3f}x"),
    Column("labels given", lambda run: ", ".join(
        f"{k} {v}" for k, v in sorted(run.labels.items()))),
)


def _target(report: ContextReport) -> Target:
    worst = max(run.ratio for run in report.runs)
    return Target("evidence + labelling / tokenizer (warm), worst rule set",
                  worst, "x", "<=", TARGET)


def _unseen_line(report: ContextReport) -> str:
    """The reference on unseen text, said to be one (the verdict is the warm tokenizer's)."""
    unseen = report.unseen
    return (
        f"Reference, not the target: on unseen text (bench/context_unseen.py, as "
        f"bench/unseen_bench.py defines it: FA-KES split by date, a fresh tokenizer and "
        f"engine warmed on the older {unseen.older} articles, timed on the newer "
        f"{unseen.newer}), the shipped rules' evidence + labelling over the "
        f"{unseen.articles} newer articles with a match ({unseen.matches} matches, their "
        f"new word types learnt as the engine would) {unseen.context:.4f} s against the "
        f"tokenizer's {unseen.tokenizer:.4f} s: **{unseen.ratio:.3f}x** (best of each "
        f"over fresh passes)."
    )


def render_context_table(report: ContextReport) -> str:
    return "\n".join(markdown(COLUMNS, report.runs)
                     + [""] + markdown(TARGET_COLUMNS, [_target(report)])
                     + ["", _unseen_line(report)])


def render_context_markdown(report: ContextReport) -> str:
    machine_lines = "\n".join(f"- {line}" for line in report.machine.describe())
    return f"""{CONTEXT_HEADING}

Labelling matches by the context of their words (`historical`, `ended`, `negated`,
`hypothetical`; watcher/engine/context.py) over FA-KES, against the warm tokenizer pass
over every title and body ({report.runs[0].tokenizer:.3f} s), in the same process, the
passes timed in turns (best pass of each). What context adds once rules have matched is
timed: finding the sentences that state each match (Evaluator.evidence, which only context
reads; handed to the labels as the search, as the engine does, so it runs only for a match
whose words lie in more than one sentence) and labelling its words there, each sentence
holding a match's words read once per article, each field's share of the page furniture
leads the analyser found taken once per article; only the articles a rule matched are
read. What the engine has without context is made before the passes: each match's
earliest terms, sorted for its spans, and each article's evaluator as matching left it,
restored (untimed) before every turn with the fields' leads dropped. Labelling alone,
with the evidence found before the passes, is timed beside. The line after the tables is
a reference on unseen text (bench/context_unseen.py), not the target's measure.
`python -m bench.run --only context` rewrites this section.

{machine_lines}

{chr(10).join(markdown(TARGET_COLUMNS, [_target(report)]))}

{chr(10).join(markdown(COLUMNS, report.runs))}

{_unseen_line(report)}

{chr(10).join(compiled_lines())}
"""
