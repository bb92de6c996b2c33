"""Presenting the results: a plain table for the terminal and RESULTS.md, both from one set of rows.

Targets come from design.md's performance model; each is marked PASS or FAIL as measured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.baseline import BUDGET_SECONDS, REPEAT_UNDER_SECONDS
from bench.results import Results
from bench.rulegen import ELSEWHERE_PLACES, TEMPLATES

MIB = 2**20
REGEX_TARGET_RULES = 1_000  # design.md: the speed-up over regexes is judged at 1,000 rules
ENGINE_TARGET = 2.0  # (analysis + engine at the most rules) / tokenizer, at most
COLUMNS = ("stage", "rules", "best s", "words/s", "ns/word", "matches", "cand./art.")


@dataclass(frozen=True)
class Target:
    check: str
    measured: float
    unit: str
    limit: float
    passes: Callable[[float, float], bool]
    limit_text: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.passes(self.measured, self.limit) else "FAIL"


def _at_most(value: float, limit: float) -> bool:
    return value <= limit


def _below(value: float, limit: float) -> bool:
    return value < limit


def _at_least(value: float, limit: float) -> bool:
    return value >= limit


def targets(r: Results) -> list[Target]:
    top, bottom = max(e.rules for e in r.engines), min(e.rules for e in r.engines)
    regex_rules = REGEX_TARGET_RULES
    return [
        Target(
            "analysis / tokenizer (warm), time ratio",
            r.analysis.best / r.tokenizer.best,
            "x",
            1.5,
            _at_most,
            "<= 1.5x",
        ),
        Target(
            f"(analysis + engine, {top:,} rules) / tokenizer (warm)",
            r.engine(top).full.best / r.tokenizer.best,
            "x",
            ENGINE_TARGET,
            _at_most,
            f"<= {ENGINE_TARGET:g}x",
        ),
        Target(
            f"loaded, not firing: analysis + engine, {_elsewhere_label(r)} / {bottom:,} rules",
            r.not_firing.full_loaded.best / r.not_firing.full_base.best,
            "x",
            1.3,
            _at_most,
            "<= 1.3x",
        ),
        Target(
            f"loaded, not firing: engine alone, {_elsewhere_label(r)} / {bottom:,} rules",
            r.not_firing.engine_loaded.best / r.not_firing.engine_base.best,
            "x",
            1.3,
            _at_most,
            "<= 1.3x",
        ),
        Target(
            f"all on this theatre: engine alone, {top:,} rules / {bottom:,} rules "
            f"({r.engine(top).matches / max(1, r.engine(bottom).matches):,.0f}x the matches)",
            r.engine(top).engine.best / r.engine(bottom).engine.best,
            "x",
            1.3,
            _at_most,
            "<= 1.3x",
        ),
        Target(
            f"speed-up of analysis + engine over regex, {regex_rules:,} rules",
            r.regex(regex_rules).seconds / r.engine(regex_rules).full.best,
            "x",
            20.0,
            _at_least,
            ">= 20x",
        ),
        Target(
            f"load {r.load.rules:,} rules: parse + compile seconds",
            r.load.seconds,
            "s",
            5.0,
            _below,
            "< 5 s",
        ),
        Target(
            f"load {r.load.rules:,} rules: extra resident memory",
            r.load.rss_bytes / MIB,
            "MiB",
            300.0,
            _below,
            "< 300 MiB",
        ),
    ]


def _elsewhere_label(r: Results) -> str:
    bottom = min(e.rules for e in r.engines)
    return f"{bottom:,} + {r.elsewhere.rules - bottom:,} rules elsewhere"


def throughput_rows(r: Results) -> list[tuple[str, ...]]:
    def row(stage: str, rules: str, seconds: float, matches: str = "", cand: str = "") -> tuple:
        return (
            stage,
            rules,
            f"{seconds:.3f}",
            f"{r.words / seconds:,.0f}",
            f"{seconds / r.words * 1e9:,.0f}",
            matches,
            cand,
        )

    rows = [
        row("tokenizer, cold (first pass)", "", r.tokenizer_cold),
        row("tokenizer, warm", "", r.tokenizer.best),
        row("analysis, first pass", "", r.analysis_first),
        row("analysis, warm", "", r.analysis.best),
    ]
    for e in r.engines:
        rows.append(
            row(
                "analysis + engine",
                f"{e.rules:,}",
                e.full.best,
                f"{e.matches:,}",
                f"{e.candidates_per_article:,.1f}",
            )
        )
    for e in r.engines:
        rows.append(
            row(
                "engine alone (pre-analysed)",
                f"{e.rules:,}",
                e.engine.best,
                f"{e.matches:,}",
                f"{e.candidates_per_article:,.1f}",
            )
        )
    for stage, seconds in (
        ("analysis + engine", r.elsewhere.full.best),
        ("engine alone (pre-analysed)", r.elsewhere.engine.best),
    ):
        rows.append(
            row(
                stage,
                _elsewhere_label(r),
                seconds,
                f"{r.elsewhere.matches:,}",
                f"{r.elsewhere.candidates_per_article:,.1f}",
            )
        )
    for e in r.engines:
        rows.append(row("engine alone, first pass", f"{e.rules:,}", e.first_pass))
    for x in r.regexes:
        if x.passes is None:
            rows.append(row("regex baseline (EXTRAPOLATED)", f"{x.rules:,}", x.seconds, "n/a"))
        else:
            label = "regex baseline" + (" (1 pass)" if len(x.passes.seconds) == 1 else "")
            rows.append(row(label, f"{x.rules:,}", x.seconds, f"{x.matches:,}"))
    return rows


def target_rows(r: Results) -> list[tuple[str, ...]]:
    return [(t.check, f"{t.measured:,.2f} {t.unit}", t.limit_text, t.verdict) for t in targets(r)]


# -- terminal -----------------------------------------------------------------------------


def render_table(r: Results) -> str:
    lines = [
        f"FA-KES: {r.articles} articles, {r.words:,} words, {r.characters:,} characters "
        f"(title + body); best of 3 or more warm passes unless noted",
        "",
        *_plain(COLUMNS, throughput_rows(r)),
        "",
        f"load {r.load.rules:,} rules: parse {r.load.parse_seconds:.2f} s + compile "
        f"{r.load.compile_seconds:.2f} s, +{r.load.rss_bytes / MIB:.0f} MiB resident",
        "",
        *_plain(("target", "measured", "goal", "verdict"), target_rows(r)),
    ]
    return "\n".join(lines)


def _plain(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        )

    return [line(header), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


# -- RESULTS.md ---------------------------------------------------------------------------


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(r: Results) -> str:
    m = r.machine
    lines = [
        "# Matching benchmark",
        "",
        "Written by `make bench` (`python -m bench.run`; alone: `python -m bench.run --only "
        "matching`, which rewrites only this part, up to the Store section).",
        "",
        *(f"- {line}" for line in m.describe()),
        f"- corpus: FA-KES, {r.articles} articles (title + body), {r.words:,} words "
        f"(tokens with a letter or digit), {r.characters:,} characters; "
        "see `bench/data/SOURCE.txt`",
        f"- whole run: {r.total_seconds:.0f} s",
        "",
        "## Targets",
        "",
        *_markdown(("target", "measured", "goal", "verdict"), target_rows(r)),
        "",
        *_reference_ratios(r),
        "",
        *_loaded_reading(r),
        "",
        "## Throughput",
        "",
        "Cost = seconds per word (shown as ns/word); `matches` counts (article, rule) pairs; "
        "`cand./art.` is how many rules the index picked for evaluation per article.",
        "",
        *_markdown(COLUMNS, throughput_rows(r)),
        "",
        f"Load of {r.load.rules:,} rules: parse (`parse_query(strict=True)` + `Rule`) "
        f"{r.load.parse_seconds:.2f} s, compile (`Compiler.compile`) "
        f"{r.load.compile_seconds:.2f} s, +{r.load.rss_bytes / MIB:.0f} MiB VmRSS. "
        f"Translating rules to regexes for the baseline took {r.regex_translate_seconds:.1f} s "
        "(not in the baseline's times).",
        "",
        *_method(r),
        "",
        *_rule_mix(r),
        "",
        *_profile(r),
    ]
    return "\n".join(lines) + "\n"


def _reference_ratios(r: Results) -> list[str]:
    """Ratios with no target that put the targets in context."""
    top = max(e.rules for e in r.engines)
    regex_1k, engine_1k = r.regex(REGEX_TARGET_RULES), r.engine(REGEX_TARGET_RULES)
    regex_vs_engine = regex_1k.seconds / engine_1k.engine.best
    return [
        "For reference (no target): the cold tokenizer pass over this corpus takes "
        f"{r.tokenizer_cold / r.tokenizer.best:.1f}x the warm one; against the cold pass, "
        f"analysis (warm) is {r.analysis.best / r.tokenizer_cold:.2f}x and analysis + engine "
        f"with {top:,} rules {r.engine(top).full.best / r.tokenizer_cold:.2f}x. The regex "
        f"baseline at {REGEX_TARGET_RULES:,} rules is {regex_vs_engine:,.0f}x "
        "slower than the engine alone on pre-analysed texts.",
    ]


def _loaded_reading(r: Results) -> list[str]:
    """How the three rows of the 1.3x target differ, in numbers."""
    top, bottom = max(e.rules for e in r.engines), min(e.rules for e in r.engines)
    low, high = r.engine(bottom), r.engine(top)
    return [
        f"The target \"{top:,} rules cost at most 1.3x what {bottom:,} cost (cost follows the "
        "rules that fire, not the rules loaded)\" is measured three ways. *Loaded, not "
        f"firing*: the first {bottom:,} generated rules plus {r.elsewhere.rules - bottom:,} "
        "rules of the same templates and words about places of other theatres, which no "
        f"article here names: {r.elsewhere.rules:,} rules loaded, {r.elsewhere.matches:,} "
        f"matches against {low.matches:,}; this is the cost of loaded rules, the target's "
        "stated intent. Its two ratios come from the two engines timed in turns "
        f"({len(r.not_firing.engine_base.seconds)} pairs of engine-alone passes, "
        f"{len(r.not_firing.full_base.seconds)} with analysis; best of each), so the "
        "machine's drift weighs on both alike. *All on this theatre*: the generated mix, "
        "where every rule is about "
        f"Syria or Iraq, so {top:,} rules fire {high.matches:,} times against {low.matches:,}: "
        "its cost follows the rules that fire and cannot stay within 1.3x of ten rules "
        f"while doing {high.matches / max(1, low.matches):,.0f}x the work.",
    ]


def _method(r: Results) -> list[str]:
    return [
        "## Method",
        "",
        "One process, in this order, all timed with `time.perf_counter` after `gc.collect()` "
        "(the collector stays on, as in production):",
        "",
        "1. Tokenizer floor: `analyzer.nlp.tokenizer(text)` over every title and body "
        "separately (as analysis reads them), each Doc dropped at once as analysis drops its "
        "own. The first pass runs on an empty tokenizer cache "
        "(cold); warm is the best of the later passes, whose cache already holds every string "
        "of this corpus, so warm is an optimistic floor for unseen news.",
        "2. Analysis: `analyzer.analyse_many(articles)` over the corpus in order, as "
        "`watcher replay` and `watcher run` analyse (fields of up to 100 kB tokenized "
        "together): one first pass (fills the "
        "word-type table), then the best of the next passes.",
        "3. Engine: for each rule count, `Compiler(analyzer).compile(rules[:n])` and a fresh "
        "`Engine`; one first pass (it learns each word type's atoms), then the best of "
        "`engine.match` passes on pre-analysed texts (engine alone) and the best of "
        "`engine.match` over `analyzer.analyse_many(articles)` (analysis + engine). "
        "Smaller rule sets are "
        "prefixes of the 10,000. The same again for the smallest set plus rules about "
        "other theatres (see Rules); then the smallest set and that one are timed in turns "
        "(A B A B …, about 3 s, at most 60 pairs) for the two *loaded, not firing* ratios.",
        "4. Regex baseline: one `re.compile(..., re.IGNORECASE)` pattern per rule over "
        "`title + '\\n' + body`. A word is `\\b(?:form|...)\\b` over its inflected forms (the "
        "same lemma table the engine uses), an OR-group one alternation, `A NEAR/n B` is "
        "`A\\W+(?:\\w+\\W+){0,n}?B|B\\W+(?:\\w+\\W+){0,n}?A`, NEAR/s allows no `.!?` between, "
        "AND/NOT/`title:`/`body:` are lookaheads from the start, and `~Name` is the name as "
        "spelled (optional al-/el-, hyphen or space), so the baseline finds fewer variant "
        "spellings than the engine and its match counts differ. Best of 3 when one pass takes "
        f"under {REPEAT_UNDER_SECONDS:.0f} s, otherwise one pass (no warm-up matters: "
        "patterns are compiled beforehand). 10, 100 and 1,000 rules always run; 10,000 only "
        f"if extrapolating linearly from 1,000 stays under {BUDGET_SECONDS:.0f} s, otherwise "
        "that row is the extrapolation and is marked so.",
        "5. Load: VmRSS from `/proc/self/status` (after `gc.collect()`) before and after "
        f"parsing and compiling {r.load.rules:,} rules, with the rules and index still alive. "
        "This is the process's first query parse, so it includes building the lark parser.",
        "",
        "Ratios are time ratios over the same words (cost per word). This machine is shared: "
        "other jobs may run at the same time, so single passes vary by tens of percent; the "
        "best-of figures are the ones to compare. \"Best of\" is over at least 3 passes, and "
        "over as many as fit in about a second (at most 25) when a pass is shorter, so a "
        "20 ms pass is not at the mercy of one scheduler hiccup.",
    ]


def _rule_mix(r: Results) -> list[str]:
    total = sum(r.rule_mix.values())
    rows = [
        (t.name, f"`{t.example}`", f"{t.weight}%", f"{r.rule_mix[t.name]:,}") for t in TEMPLATES
    ]
    with_place = sum(r.rule_mix[t.name] for t in TEMPLATES if "~" in t.example)
    return [
        "## Rules",
        "",
        "Generated by `bench/rulegen.py` (fixed seed). Vocabulary from the corpus itself: "
        "words seen in lower case (so not names), at least 4 letters, not spaCy stop words; "
        "the 150 most frequent skipped, the next 3,000 used; phrases are bigrams of such words "
        "seen at least 3 times. Places: a gazetteer of Syrian and Iraqi governorates, towns "
        "and districts plus the corpus's `location` spellings (`Deir Ezzor`, `Hasakeh`, "
        f"`Lattakia`, `Tartous`); {r.vocabulary}. n is drawn from 3, 5, 8, 10, 15, 20.",
        "",
        f"{with_place:,} of {total:,} rules ({with_place / total:.0%}) name a place, so most "
        "rules are indexed by a place name.",
        "",
        "Rules elsewhere (`generate_elsewhere_rules`, another seed): the templates that name "
        "a place, the same words, and places of other theatres that FA-KES never names "
        f"({', '.join(ELSEWHERE_PLACES[:6])}, … {len(ELSEWHERE_PLACES)} in all).",
        "",
        *_markdown(("template", "form", "weight", f"rules in {total:,}"), rows),
        "",
        "First rules:",
        "",
        *(f"    {q}" for q in r.examples),
    ]


def _profile(r: Results) -> list[str]:
    total = r.engine(r.profile_rules).engine.best
    rows = [
        (
            f"`{p.function}`",
            f"{p.calls:,}",
            f"{p.own_seconds:.2f}",
            f"{p.share:.0%}",
            f"{p.cumulative_seconds:.2f}",
        )
        for p in r.profile
    ]
    return [
        "## Where the engine's time goes",
        "",
        *_stages(r),
        "",
        f"cProfile of one engine-only pass with {r.profile_rules:,} rules (best unprofiled "
        f"pass: {total:.2f} s; profiling inflates times), top functions by own time:",
        "",
        *_markdown(("function", "calls", "own s", "own %", "cumulative s"), rows),
    ]


def _stages(r: Results) -> list[str]:
    """The engine's stages timed apart, and what the 2x target leaves for the ones that
    depend on the rules once analysis and match building are paid."""
    stages, floor = r.stages, r.tokenizer.best
    rows = [
        ("finding terms (`find_occurrences`)", stages.scan),
        ("choosing rules (`candidate_rules`)", stages.candidates),
        ("evaluating them (`evaluate`)", stages.evaluation),
        (f"building {stages.matches:,} matches (`build_match`: spans, snippet)", stages.building),
        ("all four", stages.total),
    ]
    table = [
        (name, f"{seconds:.3f}", f"{seconds / floor:.2f}x", f"{seconds / stages.total:.0%}")
        for name, seconds in rows
    ]
    analysis = r.analysis.best / floor
    building = stages.building / floor
    left = ENGINE_TARGET - analysis - building
    matching = (stages.total - stages.building) / floor
    paid = (
        f"What the {ENGINE_TARGET:g}x target leaves: analysis costs {analysis:.2f}x the "
        f"tokenizer and building the matches {building:.2f}x, together "
        f"{analysis + building:.2f}x"
    )
    budget = (
        f"{paid}, so finding terms, choosing rules and evaluating them must fit in "
        f"{left:.2f}x ({left * floor * 1e6 / r.articles:.0f} µs per article); they take "
        f"{matching:.2f}x now."
        if left > 0
        else f"{paid}: over the target before a single term is found. Finding terms, "
        f"choosing rules and evaluating them add {matching:.2f}x."
    )
    return [
        f"Each stage of `Engine.match` with {r.profile_rules:,} rules, timed apart over the "
        "corpus (best of several unprofiled passes), against the warm tokenizer:",
        "",
        *_markdown(("stage", "best s", "/ tokenizer", "share"), table),
        "",
        budget,
    ]
