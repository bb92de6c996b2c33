"""Presenting the Lucene part: its target, both sides at every rule count, where their
matches differ and how they were measured; a plain table for the terminal and its section
of RESULTS.md."""

from __future__ import annotations

from bench.lucene_bench import (
    LEAST_FIRST_WARMUP,
    LEAST_PAIRS,
    LEAST_WARMUP,
    MOST_PAIRS,
    PAIR_SECONDS,
    RECORDED_LUCENE,
    RECORDED_WATCHER,
    STABLE_GAIN,
    STABLE_PASSES,
    WARMUP_MOST,
    CountRun,
    LuceneResults,
)
from bench.lucene_queries import PARAGRAPH_SLOP, SENTENCE_SLOP
from bench.sections import head
from bench.tables import Column, markdown, plain
from bench.targets import TARGET_COLUMNS, Target

LUCENE_HEADING = "## Lucene equivalent"


def lucene_seconds(r: LuceneResults, run: CountRun) -> float | None:
    """The harness's best pass, or without it issue 20's recorded figure (if any)."""
    if run.lucene is not None:
        return run.lucene.best
    return RECORDED_LUCENE.get(run.rules) if run.rules else None


def compared(r: LuceneResults) -> CountRun:
    """The most rules with a Lucene figure: the target's rule count."""
    return max((run for run in r.runs if lucene_seconds(r, run) is not None),
               key=lambda run: run.rules)


def targets(r: LuceneResults) -> list[Target]:
    run = compared(r)
    lucene = lucene_seconds(r, run)
    assert lucene is not None
    source = "" if run.lucene is not None else " (issue 20's recorded figure)"
    label = (f"(analysis + engine, {run.rules:,} rules) / Lucene Monitor equivalent, "
             f"{run.rules:,} rules")
    shown = [Target(label + source, run.watcher.best / lucene, "x", "<", 1.0)]
    if run.lucene_cpu is not None and run.lucene_cpu.best > 0:
        shown.append(Target(f"{label}, CPU time", run.watcher_cpu.best / run.lucene_cpu.best,
                            "x", "<", 1.0))
    return shown


def _rules(run: CountRun) -> str:
    return f"{run.rules:,}" if run.rules else "0 (analysis / indexing alone)"


def _lucene_cell(r: LuceneResults, run: CountRun) -> str:
    seconds = lucene_seconds(r, run)
    if seconds is None:
        return ""
    return f"{seconds:.3f}" + ("" if run.lucene is not None else " (issue 20)")


def _ratio(r: LuceneResults, run: CountRun) -> str:
    seconds = lucene_seconds(r, run)
    return "" if seconds is None else f"{run.watcher.best / seconds:.2f}x"


def _cpu_ratio(run: CountRun) -> str:
    if run.lucene_cpu is None or run.lucene_cpu.best <= 0:  # under the clock's 10 ms tick
        return ""
    return f"{run.watcher_cpu.best / run.lucene_cpu.best:.2f}x"


def columns(r: LuceneResults) -> tuple[Column, ...]:
    return (
        Column("rules", _rules),
        Column("watcher best s", lambda run: run.watcher.best, ".3f"),
        Column("Lucene best s", lambda run: _lucene_cell(r, run)),
        Column("watcher / Lucene", lambda run: _ratio(r, run)),
        Column("watcher CPU s", lambda run: run.watcher_cpu.best, ".3f"),
        Column("Lucene CPU s", lambda run: run.lucene_cpu and run.lucene_cpu.best, ".3f"),
        Column("CPU ratio", _cpu_ratio),
        Column("watcher matches", "watcher_matches", ","),
        Column("Lucene matches", "lucene_matches", ","),
        Column("Lucene cand./art.", "lucene_candidates", ",.1f"),
        Column("passes (warm-up + timed)", _passes),
    )


def _passes(run: CountRun) -> str:
    if run.lucene is None:
        return f"watcher {len(run.watcher.seconds)}"
    return f"{run.warmup} + {len(run.lucene.seconds)} pairs"


def render_lucene_table(r: LuceneResults) -> str:
    lines = plain(columns(r), r.runs)
    if r.unavailable:
        lines.append(f"Lucene harness not run: {r.unavailable}")
    lines += ["", *plain(TARGET_COLUMNS, targets(r))]
    return "\n".join(lines)


def render_lucene_markdown(r: LuceneResults) -> str:
    lines = [
        *head(LUCENE_HEADING, "Lucene", "lucene", r.machine, *_facts(r)),
        "Watcher's analysis + engine against a Lucene equivalent of it (bench/lucene/, built "
        "at bench time from Debian's Lucene jars), over the same "
        f"{r.articles:,} FA-KES articles and the same generated rules (the matching part's), "
        "in one run with their passes taken in turns. Issue 20 recorded, in one run: Lucene "
        f"{_recorded(RECORDED_LUCENE)} s at {_recorded_counts()} rules against watcher's "
        f"{_recorded(RECORDED_WATCHER)} s.",
        "",
        "### Lucene target",
        "",
        *markdown(TARGET_COLUMNS, targets(r)),
        "",
        "### Throughput, watcher against Lucene",
        "",
        "Seconds for all articles; watcher: `analyse_many` then `Engine.match` on each "
        "(at 0 rules analysis alone), Lucene: per article a MemoryIndex, the presearcher and "
        "the candidate queries (at 0 rules the MemoryIndex alone). Best wall seconds, and "
        "apart the best CPU seconds of the same passes (watcher: `time.process_time`; "
        "Lucene: the JVM's process CPU time, its compiler and collector threads included), "
        "which a busy machine disturbs less: a pass that waits for a core takes wall time "
        "but no CPU time.",
        "",
        *markdown(columns(r), r.runs),
        "",
        *_agreement(r),
        *_method(r),
    ]
    return "\n".join(lines) + "\n"


def _facts(r: LuceneResults) -> list[str]:
    if r.harness is None:
        return [f"Lucene harness not run: {r.unavailable}. The Lucene figures are issue 20's "
                "recorded ones, marked so"]
    return [
        f"Lucene {r.harness.lucene} (Debian liblucene8-java: {', '.join(r.harness.jars)}), "
        f"{r.harness.java}",
        f"harness load: {r.harness.load_seconds:.2f} s to read every rule and build its "
        "query and presearcher entries (not in the passes)",
    ]


def _recorded(figures: dict[int, float]) -> str:
    return " / ".join(f"{s:.3f}" if s < 1 else f"{s:.2f}" for s in figures.values())


def _recorded_counts() -> str:
    return " / ".join(f"{n:,}" for n in RECORDED_LUCENE)


def _agreement(r: LuceneResults) -> list[str]:
    if r.agreement is None:
        return []
    rows = [(name, *counts) for name, counts in r.agreement.by_template.items()]
    total = tuple(sum(row[i] for row in rows) for i in (1, 2, 3))
    table = (
        Column("template", lambda row: row[0]),
        Column("both", lambda row: row[1], ","),
        Column("watcher only", lambda row: row[2], ","),
        Column("Lucene only", lambda row: row[3], ","),
    )
    return [
        f"### Matches, watcher against Lucene, {r.agreement.rules:,} rules",
        "",
        "(article, rule) pairs by rule template (bench/rulegen.py). They differ where the "
        "two do different work: `~Name` is the name as written in Lucene (watcher also finds "
        "its transliteration variants: the templates with a place), NEAR/s is a SpanNear of "
        f"{SENTENCE_SLOP} words in Lucene (watcher reads sentences), and the tokenizers "
        "split some words differently (UAX#29 makes *U.S.-led* the words *u.s* and *led*, "
        "a form of `lead`, where spaCy keeps *U.S.-led* one word). No context: "
        "watcher's engine here holds nothing back (`exclude` empty, as in the matching "
        "part), so context labels cost time but remove no match. `word_pair` (two words "
        "within n: no place, no NEAR/s) is the like-for-like check.",
        "",
        *markdown(table, [*rows, ("all", *total)]),
        "",
    ]


def _method(r: LuceneResults) -> list[str]:
    return [
        "### Method (Lucene)",
        "",
        "1. Rules: the first n of the matching part's generated rules (bench/rulegen.py), "
        "translated by bench/lucene_queries.py into a query file (JSON lines) the harness "
        "builds Lucene queries from (bench/lucene/Queries.java): a word is an OR of its "
        "inflected forms (the lemma table the engine uses, as the regex baseline), an exact "
        "term or `~Name` its text as written (no variants; a form the analyzer splits is a "
        "phrase), a prefix a PrefixQuery, a phrase an ordered SpanNear of slop 0, `A NEAR/n "
        "B` an unordered SpanNear of slop n (ONEAR ordered; Lucene's slop counts the words "
        f"between, as NEAR does), NEAR/s an unordered SpanNear of slop {SENTENCE_SLOP} and "
        f"NEAR/p of {PARAGRAPH_SLOP} (Lucene's analyzers know no sentences; FA-KES averages "
        "24 words a sentence), AND/OR/NOT a BooleanQuery, `title:`/`body:` the field, and "
        "a term with no field either field (an OR of the two).",
        "2. Harness (bench/lucene/Harness.java), per article: `MemoryIndex.reset()`, the "
        "title and the body as two fields, analysed by StandardAnalyzer's tokenizer and "
        "lower-casing plus EnglishPossessiveFilter (spaCy splits *'s* off a word; no stop "
        "words, no stemming); then the presearcher (bench/lucene/Presearcher.java) reads "
        "the index's terms and looks each up in hash maps of the rules' required terms and "
        "prefixes, as Lucene Monitor's MultipassTermFilteredPresearcher with 3 passes does: "
        "a conjunction (AND, NEAR, a phrase) stands for its operand of longest words in the "
        "first pass, the next in the second, a disjunction for all of its operands, so a "
        "rule is a candidate only when every pass finds one of its terms; then each "
        "candidate's query runs on the index (`IndexSearcher.count`, no query cache). "
        "Debian's liblucene8-java has no lucene-monitor jar, so Monitor itself is not used; "
        "its presearcher searches a Lucene index of the queries with the article's terms, "
        "which hash maps do at least as fast: the harness errs in Lucene's favour.",
        "3. Timing: one JVM (default flags). Before anything is timed the harness runs at "
        f"least {LEAST_FIRST_WARMUP} passes at the most rules, so the JIT has seen every "
        f"path; at each rule count it then runs at least {LEAST_WARMUP} passes and on "
        f"until {STABLE_PASSES} in a row gain under {STABLE_GAIN:.0%} on the best (at most "
        f"{WARMUP_MOST}: the JIT has settled; the warm-up column), then watcher's passes "
        "and the "
        f"harness's take turns for about {PAIR_SECONDS:.0f} s ({LEAST_PAIRS} to "
        f"{MOST_PAIRS} pairs); the best of each is compared. The harness times its own pass "
        "(`System.nanoTime`); watcher's is `time.perf_counter` after `gc.collect()`, over "
        "`analyse_many(articles)` and `Engine.match` with the rules compiled beforehand "
        "(one untimed first pass learns word types). Watcher's pass does more than "
        "Lucene's: variants, sentences, the spans, snippet, context labels and places of "
        "every match; Lucene's says only which rules match.",
        "4. Check: before timing, the harness runs on the three articles and four rules of "
        "bench/lucene_check.py and must find exactly their expected matches (which watcher's "
        "engine finds too: tests/test_lucene_bench.py); otherwise it is not timed and the "
        "section says why. Without Java or the jars (`scripts/bench-packages.sh` installs "
        "`default-jdk-headless liblucene8-java` as root), or with `--quick`, watcher alone "
        "is measured against issue 20's recorded Lucene figures, marked so.",
    ]
