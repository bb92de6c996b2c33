"""The matching benchmark: the tokenizer alone, the full analysis, the engine at every rule
count, rules loaded but not firing, the regex baseline, loading rules; the engine's stages
apart and under cProfile; unseen text against a baseline revision (bench/unseen_bench.py).

Order matters: the tokenizer's cold pass must come first, before anything fills its cache.
"""

from __future__ import annotations

import time
from collections import Counter

from bench.baseline import BUDGET_SECONDS, REPEAT_UNDER_SECONDS, RegexRule, RegexTranslator
from bench.corpus import Corpus
from bench.matching_results import EngineRun, Load, NotFiring, RegexRun, Results
from bench.measure import (
    Passes,
    Repeats,
    best_of,
    best_of_many,
    machine,
    paired_best,
    progress,
    rss_bytes,
    timed,
)
from bench.profiling import ProfileLine, profiled, top_by_own
from bench.rulegen import (
    GeneratedRule,
    Vocabulary,
    build_vocabulary,
    generate_elsewhere_rules,
    generate_rules,
    parse_rules,
)
from bench.sizes import Sizes
from bench.stages import measure_stages
from bench.unseen_bench import measure_unseen
from watcher.engine.core import Engine
from watcher.model import Article
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler, RuleIndex
from watcher.rules.grammar import parse_query
from watcher.text.analysis import AnalysedText, Analyzer

PROFILE_TOP = 10


def measure_matching(corpus: Corpus, analyzer: Analyzer, sizes: Sizes) -> Results:
    """Tokenizer, analysis, engine at every rule count, loaded rules, regex baseline."""
    started = time.perf_counter()
    info = machine()
    repeats = sizes.repeats
    texts = corpus.field_texts()
    tokenizer_cold, tokenizer_warm, words = measure_tokenizer(analyzer, texts, repeats)
    analysis_first, analysis, analysed = measure_analysis(analyzer, corpus.articles, repeats)
    analysed_words = sum(len(f) for text in analysed for f in text.fields())
    if analysed_words != words:
        progress(f"warning: tokenizer counted {words} words, analysis {analysed_words}")

    vocabulary = build_vocabulary(corpus.field_texts(), corpus.locations)
    generated = generate_rules(vocabulary, max(sizes.rule_counts))
    progress(f"load: parse + compile {len(generated)} rules")
    load, rules, full_index = measure_load(analyzer, generated)

    engines = []
    for count in sizes.rule_counts:
        index = full_index if count == len(rules) else Compiler(analyzer).compile(rules[:count])
        engines.append(measure_engine(analyzer, index, corpus.articles, analysed, count, repeats))
    elsewhere, not_firing = measure_elsewhere(
        analyzer, vocabulary, rules, corpus.articles, analysed, sizes
    )
    progress(f"profiling one engine pass at {len(rules)} rules")
    profile = profile_engine(Engine(full_index, analyzer), analysed)
    progress(f"timing the engine's stages apart at {len(rules)} rules")
    stages = measure_stages(Engine(full_index, analyzer), analysed, repeats)
    del full_index

    regexes, translate_seconds = measure_regex(analyzer, generated, corpus, sizes)
    unseen = measure_unseen(sizes.corpus_articles, max(sizes.rule_counts),
                            full=sizes.corpus_articles is None)
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
        unseen=unseen,
        examples=[r.query for r in generated[:12]],
        total_seconds=time.perf_counter() - started,
        sizes=sizes,
    )
    return results


# -- measurements -------------------------------------------------------------------------


def measure_tokenizer(
    analyzer: Analyzer, texts: list[str], repeats: Repeats
) -> tuple[float, Passes, int]:
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
    return cold, best_of_many(tokenize_all, repeats), words


def measure_analysis(
    analyzer: Analyzer, articles: tuple[Article, ...], repeats: Repeats
) -> tuple[float, Passes, list[AnalysedText]]:
    progress("full analysis: a first pass (fills the type table), then 3 warm passes")
    first, analysed = timed(lambda: analyzer.analyse_many(articles))
    warm = best_of_many(lambda: analyzer.analyse_many(articles), repeats)
    return first, warm, analysed


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
    repeats: Repeats,
) -> EngineRun:
    progress(f"engine with {count} rules: first pass, 3 engine-only, 3 analysis+engine passes")
    engine = Engine(index, analyzer)
    first, matches = timed(lambda: sum(len(engine.match(text)) for text in analysed))
    candidates = sum(len(engine.candidate_rules(engine.find_occurrences(t))) for t in analysed)
    engine_only = best_of_many(lambda: [engine.match(text) for text in analysed], repeats)
    full = best_of_many(
        lambda: [engine.match(text) for text in analyzer.analyse_many(articles)], repeats
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
    sizes: Sizes,
) -> tuple[EngineRun, NotFiring]:
    """The smallest rule set plus rules for other theatres up to the largest count: as
    many rules loaded as the largest set, as few firing as the smallest; then both sets
    timed in turns for the ratio."""
    smallest, largest = min(sizes.rule_counts), max(sizes.rule_counts)
    others = parse_rules(generate_elsewhere_rules(vocabulary, largest - smallest))
    progress(f"{smallest} rules + {len(others):,} for other theatres")
    index = Compiler(analyzer).compile(rules[:smallest] + others)
    run = measure_engine(analyzer, index, articles, analysed, largest, sizes.repeats)
    progress(f"{smallest} rules and {largest:,} loaded, timed in turns")
    base = Engine(Compiler(analyzer).compile(rules[:smallest]), analyzer)
    loaded = Engine(index, analyzer)
    for engine in (base, loaded):  # learn word types outside the timed passes
        [engine.match(text) for text in analysed]
    engine_base, engine_loaded = paired_best(
        lambda: [base.match(text) for text in analysed],
        lambda: [loaded.match(text) for text in analysed],
        sizes.repeats,
    )
    full_base, full_loaded = paired_best(
        lambda: [base.match(text) for text in analyzer.analyse_many(articles)],
        lambda: [loaded.match(text) for text in analyzer.analyse_many(articles)],
        sizes.repeats,
    )
    return run, NotFiring(engine_base, engine_loaded, full_base, full_loaded)


def profile_engine(engine: Engine, analysed: list[AnalysedText]) -> list[ProfileLine]:
    """Where one engine-only pass spends its time, by own (exclusive) time."""
    for text in analysed:  # learn word types outside the profile
        engine.match(text)
    return top_by_own(profiled(lambda: [engine.match(text) for text in analysed])[1], PROFILE_TOP)


def measure_regex(
    analyzer: Analyzer,
    generated: list[GeneratedRule],
    corpus: Corpus,
    sizes: Sizes,
) -> tuple[list[RegexRun], float]:
    """One pattern per rule over the raw text; the optional sizes only within the budget."""
    translator = RegexTranslator(analyzer.lexicon)
    compiled: list[RegexRule] = []
    texts = corpus.raw_texts()
    runs: list[RegexRun] = []
    translate_seconds = 0.0
    for count in sizes.regex_counts + sizes.regex_optional:
        last = runs[-1] if runs else None
        if count in sizes.regex_optional and last is not None:
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

