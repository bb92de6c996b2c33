"""What context labels cost: labelling the matches' words, against the tokenizer.

`python -m bench.context_bench` (or `bench.run --only context`). Over FA-KES, in one
process: the warm tokenizer pass over every title and body, and the labelling that
`Engine.match` adds once rules have matched (a ContextReader per article with a match,
the labels of every match's words), taken in turns so both see the same machine. The
target (issue 17): labelling costs at most 0.3x the tokenizer on top of analysis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import load_corpus
from bench.measure import Machine, machine, paired_best, progress
from bench.results import replace_section
from bench.rulegen import build_vocabulary, generate_rules
from watcher.engine.context import ContextReader
from watcher.engine.core import MAX_SPANS, Engine
from watcher.engine.evaluation import TermRange
from watcher.rules.ast import Rule
from watcher.rules.compile import CompiledRule, Compiler
from watcher.rules.grammar import parse_query
from watcher.rules.load import load_rules
from watcher.text.analysis import AnalysedText, Analyzer

CONTEXT_HEADING = "## Context labels"
SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
GENERATED_RULES = 1_000  # the first of the matching benchmark's generated rules
TARGET = 0.3  # labelling / warm tokenizer
RESULTS_FILE = Path(__file__).parent / "RESULTS.md"

Held = list[tuple[AnalysedText, list[tuple[CompiledRule, set[TermRange]]]]]


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


def measure_context() -> tuple[Machine, list[ContextRun]]:
    """The machine and one run per rule set (the shipped rules, 1,000 generated)."""
    progress("context labels: loading FA-KES and the spaCy pipeline")
    corpus = load_corpus()
    analyzer = Analyzer()
    analysed = analyzer.analyse_many(corpus.articles)
    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    generated = [
        Rule(id=g.id, title=g.template, query_text=g.query, query=parse_query(g.query))
        for g in generate_rules(vocabulary, GENERATED_RULES)
    ]
    shipped = list(load_rules(SHIPPED_RULES).enabled())
    texts = corpus.field_texts()
    runs = []
    for name, rules in ((f"shipped rules/ ({len(shipped)})", shipped),
                        (f"{len(generated):,} generated", generated)):
        progress(f"context labels: {name}")
        engine = Engine(Compiler(analyzer).compile(rules), analyzer)
        runs.append(_measure(name, engine, analysed, texts))
    return machine(), runs


def _measure(
    name: str, engine: Engine, analysed: Sequence[AnalysedText], texts: Sequence[str]
) -> ContextRun:
    held: Held = []
    for text in analysed:
        occurrences = engine.find_occurrences(text)
        found = engine.evaluate(text, occurrences, engine.candidate_rules(occurrences))
        if found:
            held.append((text, found))
    tokenizer = engine.analyzer.nlp.tokenizer

    def tokenize() -> None:
        for text in texts:
            tokenizer(text)

    def label() -> list:
        labelled = []
        for text, found in held:
            reader = ContextReader(engine.context, text)
            labelled.extend(reader.labels(sorted(set(t))[:MAX_SPANS]) for _, t in found)
        return labelled

    counts = Counter(label.label for labels in label() for label in labels)
    tokenizing, labelling = paired_best(tokenize, label)
    return ContextRun(
        rules=name, articles=len(held), matches=sum(len(f) for _, f in held),
        tokenizer=tokenizing.best, labelling=labelling.best, labels=counts,
    )


def render_context_table(runs: Sequence[ContextRun]) -> str:
    lines = ["rules | articles | matches | tokenizer s | labelling s | ratio | labels"]
    for run in runs:
        labels = ", ".join(f"{k} {v}" for k, v in sorted(run.labels.items()))
        lines.append(f"{run.rules} | {run.articles} | {run.matches} | {run.tokenizer:.3f} | "
                     f"{run.labelling:.4f} | {run.ratio:.3f}x | {labels}")
    return "\n".join(lines)


def render_context_markdown(info: Machine, runs: Sequence[ContextRun]) -> str:
    worst = max(run.ratio for run in runs)
    verdict = "PASS" if worst <= TARGET else "FAIL"
    rows = "\n".join(
        f"| {run.rules} | {run.articles:,} | {run.matches:,} | {run.labelling:.4f} | "
        f"{run.ratio:.3f}x | {', '.join(f'{k} {v}' for k, v in sorted(run.labels.items()))} |"
        for run in runs
    )
    machine_lines = "\n".join(f"- {line}" for line in info.describe())
    return f"""{CONTEXT_HEADING}

Labelling matches by the context of their words (`historical`, `ended`, `negated`,
`hypothetical`; watcher/engine/context.py) over FA-KES, against the warm tokenizer pass
over every title and body ({runs[0].tokenizer:.3f} s), in the same process, the two timed
in turns (best pass of each). Only the articles a rule matched are read, each sentence
holding a match's words once per article.

{machine_lines}

| target | measured | limit | result |
|---|---|---|---|
| labelling / tokenizer (warm), worst rule set | {worst:.3f}x | <= {TARGET}x | {verdict} |

| rules | articles with a match | matches | labelling s | / tokenizer | labels given |
|---|---|---|---|---|---|
{rows}

`python -m bench.context_bench` (or `python -m bench.run --only context`) rewrites this
section.
"""


def main() -> None:
    info, runs = measure_context()
    print(render_context_table(runs))
    existing = RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else ""
    section = render_context_markdown(info, runs)
    RESULTS_FILE.write_text(replace_section(existing, CONTEXT_HEADING, section),
                            encoding="utf-8")
    progress(f"wrote the Context labels section of {RESULTS_FILE}")


if __name__ == "__main__":
    main()
