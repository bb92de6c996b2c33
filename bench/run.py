"""`python -m bench.run`: every measurement in one process, then the table and RESULTS.md.

Order matters: the tokenizer's cold pass must come first, before anything fills its cache.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import Counter
from pathlib import Path

from bench.baseline import BUDGET_SECONDS, REPEAT_UNDER_SECONDS, RegexRule, RegexTranslator
from bench.context_bench import (
    CONTEXT_HEADING,
    measure_context,
    render_context_markdown,
    render_context_table,
)
from bench.context_bench import main as main_context_only
from bench.corpus import Corpus, load_corpus
from bench.feeds_bench import measure_feeds
from bench.feeds_report import FEEDS_HEADING, render_feeds_markdown, render_feeds_table
from bench.measure import (
    Passes,
    best_of,
    best_of_many,
    machine,
    paired_best,
    progress,
    rss_bytes,
    timed,
)
from bench.notify_bench import (
    NOTIFY_HEADING,
    measure_notify,
    render_notify_markdown,
    render_notify_table,
)
from bench.quality import (
    QUALITY_HEADING,
    measure_quality,
    render_held_markdown,
    render_quality_markdown,
    render_quality_table,
)
from bench.report import render_markdown, render_table
from bench.results import (
    EngineRun,
    Load,
    NotFiring,
    ProfileLine,
    RegexRun,
    Results,
    replace_section,
)
from bench.rulegen import (
    GeneratedRule,
    Vocabulary,
    build_vocabulary,
    generate_elsewhere_rules,
    generate_rules,
)
from bench.stages import measure_stages
from bench.store_bench import GENERATED_RULES, measure_store
from bench.store_report import STORE_HEADING, render_store_markdown, render_store_table
from bench.workers_bench import (
    WORKERS_HEADING,
    measure_workers,
    render_workers_markdown,
    render_workers_table,
)
from watcher.engine.core import Engine
from watcher.model import CONTEXT_LABELS, Article
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler, RuleIndex
from watcher.rules.grammar import parse_query
from watcher.text.analysis import AnalysedText, Analyzer

RULE_COUNTS = (10, 100, 1_000, 10_000)
REGEX_RULE_COUNTS = (10, 100, 1_000)  # always measured
REGEX_OPTIONAL_COUNTS = (10_000,)  # measured only if projected under BUDGET_SECONDS
PROFILE_TOP = 10
RESULTS_FILE = Path(__file__).parent / "RESULTS.md"
OTHER_HEADINGS = (STORE_HEADING, FEEDS_HEADING, NOTIFY_HEADING, WORKERS_HEADING,
                  QUALITY_HEADING, CONTEXT_HEADING)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--only", help="run only this part",
                        choices=["matching", "store", "feeds", "notify", "workers", "quality",
                                 "context"])
    only = parser.parse_args(argv).only
    if only == "store":
        main_store_only()
        return
    if only == "feeds":
        main_feeds_only()
        return
    if only == "notify":
        main_notify_only()
        return
    if only == "workers":
        main_workers_only()
        return
    if only == "matching":
        main_matching_only()
        return
    if only == "quality":
        main_quality_only()
        return
    if only == "context":
        main_context_only()  # rewrites only its section of RESULTS.md
        return
    corpus, analyzer, rules, results = measure_matching()
    print(render_table(results))
    store = measure_store(corpus, analyzer, rules[:GENERATED_RULES])
    print(render_store_table(store))
    feeds = measure_feeds(corpus)
    print(render_feeds_table(feeds))
    alerts = measure_notify(corpus)
    print(render_notify_table(alerts))
    workers = measure_workers(corpus)
    print(render_workers_table(workers))
    quality = measure_quality()
    print(render_quality_table(quality))
    held = measure_quality(exclude=CONTEXT_LABELS)
    context_machine, context = measure_context()
    print(render_context_table(context))
    markdown = (render_markdown(results) + "\n" + render_store_markdown(store) + "\n"
                + render_feeds_markdown(feeds) + "\n" + render_notify_markdown(alerts)
                + "\n" + render_workers_markdown(workers)
                + "\n" + render_quality_markdown(quality)
                + "\n" + render_held_markdown(quality, held)
                + "\n" + render_context_markdown(context_machine, context))
    RESULTS_FILE.write_text(markdown, encoding="utf-8")
    progress(f"wrote {RESULTS_FILE}")


def main_matching_only() -> None:
    """The matching part alone; rewrites RESULTS.md up to the first other part's section."""
    results = measure_matching()[3]
    print(render_table(results))
    existing = RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else ""
    others = [existing.find("\n" + h + "\n") for h in OTHER_HEADINGS]
    cut = min((i for i in others if i >= 0), default=len(existing))
    rest = existing[cut + 1 :]
    RESULTS_FILE.write_text(
        render_markdown(results) + ("\n" + rest if rest else ""), encoding="utf-8"
    )
    progress(f"wrote the matching part of {RESULTS_FILE}")


def measure_matching() -> tuple[Corpus, Analyzer, list[Rule], Results]:
    """Tokenizer, analysis, engine at every rule count, loaded rules, regex baseline."""
    started = time.perf_counter()
    info = machine()
    progress("loading FA-KES and the spaCy pipeline")
    corpus = load_corpus()
    analyzer = Analyzer()
    tokenizer_cold, tokenizer_warm, words = measure_tokenizer(analyzer, corpus.field_texts())
    analysis_first, analysis, analysed = measure_analysis(analyzer, corpus.articles)
    analysed_words = sum(len(f) for text in analysed for f in text.fields())
    if analysed_words != words:
        progress(f"warning: tokenizer counted {words} words, analysis {analysed_words}")

    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    generated = generate_rules(vocabulary, max(RULE_COUNTS))
    progress(f"load: parse + compile {len(generated)} rules")
    load, rules, full_index = measure_load(analyzer, generated)

    engines = []
    for count in RULE_COUNTS:
        index = full_index if count == len(rules) else Compiler(analyzer).compile(rules[:count])
        engines.append(measure_engine(analyzer, index, corpus.articles, analysed, count))
    elsewhere, not_firing = measure_elsewhere(
        analyzer, vocabulary, rules, corpus.articles, analysed
    )
    progress(f"profiling one engine pass at {len(rules)} rules")
    profile = profile_engine(Engine(full_index, analyzer), analysed)
    progress(f"timing the engine's stages apart at {len(rules)} rules")
    stages = measure_stages(Engine(full_index, analyzer), analysed)
    del full_index

    regexes, translate_seconds = measure_regex(analyzer, generated, corpus)
    results = Results(
        machine=info,
        articles=len(corpus.articles),
        characters=sum(len(t) for t in corpus.field_texts()),
        words=words,
        vocabulary=_describe_vocabulary(vocabulary),
        rule_mix=Counter(r.template for r in generated),
        tokenizer_cold=tokenizer_cold,
        tokenizer=tokenizer_warm,
        analysis_first=analysis_first,
        analysis=analysis,
        load=load,
        engines=engines,
        elsewhere=elsewhere,
        not_firing=not_firing,
        regexes=regexes,
        regex_translate_seconds=translate_seconds,
        profile=profile,
        profile_rules=len(rules),
        stages=stages,
        examples=[r.query for r in generated[:12]],
        total_seconds=time.perf_counter() - started,
    )
    return corpus, analyzer, rules, results


def main_store_only() -> None:
    """The storage part alone; rewrites only the Store section of RESULTS.md."""
    progress("loading FA-KES and the spaCy pipeline")
    corpus = load_corpus()
    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    rules = parse_rules(generate_rules(vocabulary, GENERATED_RULES))
    store = measure_store(corpus, Analyzer(), rules)
    print(render_store_table(store))
    existing = RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else ""
    section = render_store_markdown(store)
    RESULTS_FILE.write_text(replace_section(existing, STORE_HEADING, section), encoding="utf-8")
    progress(f"wrote the Store section of {RESULTS_FILE}")


def main_feeds_only() -> None:
    """The feeds part alone; rewrites only the Feeds section of RESULTS.md."""
    feeds = measure_feeds(load_corpus())
    print(render_feeds_table(feeds))
    existing = RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else ""
    section = render_feeds_markdown(feeds)
    RESULTS_FILE.write_text(replace_section(existing, FEEDS_HEADING, section), encoding="utf-8")
    progress(f"wrote the Feeds section of {RESULTS_FILE}")


def main_notify_only() -> None:
    """The alerts part alone; rewrites only the Alerts section of RESULTS.md."""
    alerts = measure_notify(load_corpus())
    print(render_notify_table(alerts))
    existing = RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else ""
    section = render_notify_markdown(alerts)
    RESULTS_FILE.write_text(replace_section(existing, NOTIFY_HEADING, section), encoding="utf-8")
    progress(f"wrote the Alerts section of {RESULTS_FILE}")


def main_workers_only() -> None:
    """The workers part alone; rewrites only the Workers section of RESULTS.md."""
    workers = measure_workers(load_corpus())
    print(render_workers_table(workers))
    existing = RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else ""
    section = render_workers_markdown(workers)
    RESULTS_FILE.write_text(replace_section(existing, WORKERS_HEADING, section),
                            encoding="utf-8")
    progress(f"wrote the Workers section of {RESULTS_FILE}")


def main_quality_only() -> None:
    """The quality part alone; rewrites only the Quality section of RESULTS.md."""
    quality = measure_quality()
    print(render_quality_table(quality))
    held = measure_quality(exclude=CONTEXT_LABELS)
    existing = RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.exists() else ""
    section = render_quality_markdown(quality) + "\n" + render_held_markdown(quality, held)
    RESULTS_FILE.write_text(replace_section(existing, QUALITY_HEADING, section),
                            encoding="utf-8")
    progress(f"wrote the Quality section of {RESULTS_FILE}")


# -- measurements -------------------------------------------------------------------------


def measure_tokenizer(analyzer: Analyzer, texts: list[str]) -> tuple[float, Passes, int]:
    """Cold first pass (empty cache), then the best of three warm passes; and the word count.

    Each Doc is dropped at once, as analysis drops its own: keeping them would move their
    deallocation out of the timed pass (about a third of a warm pass here).
    """
    progress(f"tokenizer alone: {len(texts)} titles and bodies, cold then 3 warm passes")
    tokenizer = analyzer.nlp.tokenizer

    def tokenize_all() -> None:
        for text in texts:
            tokenizer(text)

    cold = timed(tokenize_all)[0]
    words = sum(
        1 for text in texts for token in tokenizer(text) if any(c.isalnum() for c in token.text)
    )
    return cold, best_of_many(tokenize_all), words


def measure_analysis(
    analyzer: Analyzer, articles: tuple[Article, ...]
) -> tuple[float, Passes, list[AnalysedText]]:
    progress("full analysis: a first pass (fills the type table), then 3 warm passes")
    first, analysed = timed(lambda: analyzer.analyse_many(articles))
    warm = best_of_many(lambda: analyzer.analyse_many(articles))
    return first, warm, analysed


def parse_rules(generated: list[GeneratedRule]) -> list[Rule]:
    """What the loader does per rule once YAML is read: parse strictly, build the Rule."""
    return [
        Rule(id=g.id, title=g.template, query_text=g.query, query=parse_query(g.query, strict=True))
        for g in generated
    ]


def measure_load(
    analyzer: Analyzer, generated: list[GeneratedRule]
) -> tuple[Load, list[Rule], RuleIndex]:
    before = rss_bytes()
    parse_seconds, rules = timed(lambda: parse_rules(generated))
    compile_seconds, index = timed(lambda: Compiler(analyzer).compile(rules))
    grown = rss_bytes() - before
    progress(
        f"load: parse {parse_seconds:.2f} s, compile {compile_seconds:.2f} s, "
        f"+{grown / 2**20:.0f} MB"
    )
    return Load(len(rules), parse_seconds, compile_seconds, grown), rules, index


def measure_engine(
    analyzer: Analyzer,
    index: RuleIndex,
    articles: tuple[Article, ...],
    analysed: list[AnalysedText],
    count: int,
) -> EngineRun:
    progress(f"engine with {count} rules: first pass, 3 engine-only, 3 analysis+engine passes")
    engine = Engine(index, analyzer)
    first, matches = timed(lambda: sum(len(engine.match(text)) for text in analysed))
    candidates = sum(len(engine.candidate_rules(engine.find_occurrences(t))) for t in analysed)
    engine_only = best_of_many(lambda: [engine.match(text) for text in analysed])
    full = best_of_many(
        lambda: [engine.match(text) for text in analyzer.analyse_many(articles)]
    )
    progress(
        f"  {matches} matches, engine {engine_only.best:.2f} s, with analysis {full.best:.2f} s"
    )
    return EngineRun(count, matches, candidates / len(analysed), first, engine_only, full)


def measure_elsewhere(
    analyzer: Analyzer,
    vocabulary: Vocabulary,
    rules: list[Rule],
    articles: tuple[Article, ...],
    analysed: list[AnalysedText],
) -> tuple[EngineRun, NotFiring]:
    """The smallest rule set plus rules for other theatres up to the largest count: as
    many rules loaded as the largest set, as few firing as the smallest; then both sets
    timed in turns for the ratio."""
    smallest, largest = min(RULE_COUNTS), max(RULE_COUNTS)
    others = parse_rules(generate_elsewhere_rules(vocabulary, largest - smallest))
    progress(f"{smallest} rules + {len(others):,} for other theatres")
    index = Compiler(analyzer).compile(rules[:smallest] + others)
    run = measure_engine(analyzer, index, articles, analysed, largest)
    progress(f"{smallest} rules and {largest:,} loaded, timed in turns")
    base = Engine(Compiler(analyzer).compile(rules[:smallest]), analyzer)
    loaded = Engine(index, analyzer)
    for engine in (base, loaded):  # learn word types outside the timed passes
        [engine.match(text) for text in analysed]
    engine_base, engine_loaded = paired_best(
        lambda: [base.match(text) for text in analysed],
        lambda: [loaded.match(text) for text in analysed],
    )
    full_base, full_loaded = paired_best(
        lambda: [base.match(text) for text in analyzer.analyse_many(articles)],
        lambda: [loaded.match(text) for text in analyzer.analyse_many(articles)],
    )
    return run, NotFiring(engine_base, engine_loaded, full_base, full_loaded)


def profile_engine(engine: Engine, analysed: list[AnalysedText]) -> list[ProfileLine]:
    """Where one engine-only pass spends its time, by own (exclusive) time."""
    for text in analysed:  # learn word types outside the profile
        engine.match(text)
    profiler = cProfile.Profile()
    profiler.enable()
    for text in analysed:
        engine.match(text)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in stats.values())
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:PROFILE_TOP]
    return [
        ProfileLine(_function_name(key), calls, own, cumulative, own / total)
        for key, (_, calls, own, cumulative, _) in rows
    ]


def _function_name(key: tuple[str, int, str]) -> str:
    path, line, name = key
    if path == "~":
        return name
    short = path.split("/work/main/", 1)[-1]
    return f"{short}:{line}({name})"


def measure_regex(
    analyzer: Analyzer,
    generated: list[GeneratedRule],
    corpus: Corpus,
) -> tuple[list[RegexRun], float]:
    """One pattern per rule over the raw text; the optional sizes only within the budget."""
    translator = RegexTranslator(analyzer.lexicon)
    compiled: list[RegexRule] = []
    texts = corpus.raw_texts()
    runs: list[RegexRun] = []
    translate_seconds = 0.0
    for count in REGEX_RULE_COUNTS + REGEX_OPTIONAL_COUNTS:
        last = runs[-1] if runs else None
        if count in REGEX_OPTIONAL_COUNTS and last is not None:
            projected = last.seconds * count / last.rules
            if projected > BUDGET_SECONDS:
                progress(f"regex baseline at {count} rules: skipped, ~{projected:.0f} s projected")
                runs.append(RegexRun(count, None, None, projected))
                continue
        seconds, more = timed(lambda c=count: _translate(translator, generated[len(compiled) : c]))
        translate_seconds += seconds
        compiled.extend(more)
        runs.append(_regex_run(compiled[:count], texts))
    return runs, translate_seconds


def _translate(translator: RegexTranslator, generated: list[GeneratedRule]) -> list[RegexRule]:
    return [translator.translate(g.id, parse_query(g.query, strict=True)) for g in generated]


def _regex_run(patterns: list[RegexRule], texts: list[str]) -> RegexRun:
    progress(f"regex baseline with {len(patterns)} rules")

    def match_all() -> int:
        return sum(1 for text in texts for rule in patterns if rule.matches(text))

    first, matches = timed(match_all)
    seconds = [first]
    if first < REPEAT_UNDER_SECONDS:
        seconds += best_of(match_all, repeats=2).seconds
    progress(f"  {matches} matches, best {min(seconds):.2f} s")
    return RegexRun(len(patterns), matches, Passes(tuple(seconds)))


def _describe_vocabulary(vocabulary: Vocabulary) -> str:
    return (
        f"{len(vocabulary.words)} words, {len(vocabulary.bigrams)} bigrams, "
        f"{len(vocabulary.places)} place names"
    )


if __name__ == "__main__":
    main()
