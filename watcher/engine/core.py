"""The matching engine: analysed text and a compiled rule index in, matches out.

Pure: no I/O, no clock. Per article it finds term occurrences through the index, picks
the rules whose required clauses all occur, and evaluates only those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from functools import partial

from watcher.engine.context import ContextReader, Evidence, no_evidence
from watcher.engine.context_lexicon import ContextLexicon
from watcher.engine.context_triggers import Triggers
from watcher.engine.context_triggers_load import shipped_triggers
from watcher.engine.evaluation import FIELDS, Evaluator, Plans, TermRange
from watcher.engine.locate import ArticleVariants, Locator, VariantTerms, variant_terms
from watcher.engine.occurrences import Occurrences, OccurrenceScanner, ScanMode
from watcher.engine.snippets import make_snippet
from watcher.model import ContextLabelName, Match, Span
from watcher.rules.compile import CompiledRule, RuleIndex
from watcher.text.analysis import AnalysedText, Analyzer, FieldText

# A match reports at most this many spans (the earliest): an article that repeats a
# phrase thousands of times needs no thousand highlights, and output stays bounded.
MAX_SPANS = 100


class Engine:
    """Matches analysed articles against one compiled rule index."""

    def __init__(
        self, index: RuleIndex, analyzer: Analyzer, *, scan: ScanMode = "auto",
        context: Triggers | None = None, exclude: tuple[ContextLabelName, ...] = (),
    ) -> None:
        """`scan`: how articles are scanned (watcher/engine/occurrences.py); every mode gives the
        same matches, "auto" the fastest. `context`: the trigger lists that label matches
        (watcher/engine/context.py), the shipped ones by default. `exclude`: the labels that
        hold back the matches of rules without their own `exclude:`."""
        self.index = index
        self.analyzer = analyzer
        self.exclude = exclude
        self.context = ContextLexicon(
            shipped_triggers(analyzer.words) if context is None else context, analyzer.types
        )
        self._scanner = OccurrenceScanner(index, analyzer, scan=scan)
        self.locator = Locator(analyzer.lexicon.is_english)
        self._excluded: dict[str, frozenset[int]] = {}
        self._variants: dict[int, VariantTerms] = {}  # by id of a compiled rule, when it held
        self.plans = Plans()
        # The clauses past the two the index uses, for the few rules that have them.
        self._extra_clauses = {
            n: compiled.requires[2:]
            for n, compiled in enumerate(index.rules)
            if len(compiled.requires) > 2
        }

    def match(self, text: AnalysedText, *, check_sources: bool = True) -> list[Match]:
        """Matches of every rule on the article; `check_sources=False` ignores the rules'
        `sources:` (a rule's own examples come from no feed)."""
        occurrences = self.find_occurrences(text)
        candidates = self.candidate_rules(occurrences)
        if check_sources:
            excluded = self._rules_excluded_for(text.article.source)
            candidates = [n for n in candidates if n not in excluded]
        evaluator = Evaluator(occurrences, text, self.plans)
        held = self.held_rules(evaluator, candidates)
        if not held:
            return []
        # Context is read only where a rule matched, each sentence once per article.
        reader = self.context_reader(text, partial(evaluator.unit_numbers, sentence=True))
        fields = text.fields()
        variants = ArticleVariants(evaluator.occurrences.occurring,
                                   lambda node: evaluator.truth(node, (0, 1)),
                                   partial(_span, fields))
        return self.locator.locate(
            {FIELDS[f]: fields[f].text for f in (0, 1)},
            [(self.match_of(compiled, text, terms, evaluator, reader),
              self._variant_spans(compiled, variants)) for compiled, terms in held],
        )

    def context_reader(
        self, text: AnalysedText, sentence_numbers: Callable[[int], list[int]] | None = None
    ) -> ContextReader:
        """The reader of the article's context, as `match` and `watcher explain` use it.
        `sentence_numbers`: each word's sentence number in a field, where the caller holds
        them (the article's Evaluator.unit_numbers: read for the NEAR/s it evaluated and
        for each match's evidence), so they are not read twice."""
        return ContextReader(self.context, text, self.locator.names_place, sentence_numbers)

    def match_of(
        self, compiled: CompiledRule, text: AnalysedText, terms: set[TermRange],
        evaluator: Evaluator, reader: ContextReader,
    ) -> Match:
        """The match of a rule that held, its context read in the sentences where its query
        holds: the one way `match` and `watcher explain` build it, so they never differ."""
        return build_match(compiled, text, terms, reader, self.exclude,
                           evidence=partial(evaluator.evidence, compiled.query))

    def evaluate(
        self, text: AnalysedText, occurrences: Occurrences, rule_numbers: list[int]
    ) -> list[tuple[CompiledRule, set[TermRange]]]:
        """The given rules that hold on the article, each with the term ranges that made it
        hold (the stages of `match` are public so the benchmark can time each)."""
        return self.held_rules(Evaluator(occurrences, text, self.plans), rule_numbers)

    def held_rules(
        self, evaluator: Evaluator, rule_numbers: list[int]
    ) -> list[tuple[CompiledRule, set[TermRange]]]:
        """`evaluate` with the caller's evaluator, whose memos then serve what follows
        (`match` finds each match's evidence with them)."""
        held = []
        for rule_no in rule_numbers:
            compiled = self.index.rules[rule_no]
            terms = evaluator.truth(compiled.query, (0, 1))
            if terms is not None:
                held.append((compiled, terms))
        return held

    def _variant_spans(self, compiled: CompiledRule, variants: ArticleVariants) -> dict[Span, str]:
        """The spans of a rule's `~Name` terms in the article, each with its Name (a
        spelling that names no place as written is located at the rule's Name); the rule's
        terms are found once and kept."""
        terms = self._variants.get(id(compiled))
        if terms is None:
            terms = self._variants[id(compiled)] = variant_terms(compiled.rule.query,
                                                                 compiled.query)
        return variants.spans(terms)

    def _rules_excluded_for(self, source: str) -> frozenset[int]:
        """Rules whose `sources:` (names or globs) do not cover this source; cached per name."""
        excluded = self._excluded.get(source)
        if excluded is None:
            excluded = frozenset(
                n
                for n, compiled in enumerate(self.index.rules)
                if compiled.rule.sources
                and not any(fnmatchcase(source, p) for p in compiled.rule.sources)
            )
            self._excluded[source] = excluded
        return excluded

    # -- term occurrences ------------------------------------------------------------

    def find_occurrences(self, text: AnalysedText) -> Occurrences:
        self._scanner.learn_new_types()
        return self._scanner.scan(text.title, text.body)

    def candidate_rules(self, occurrences: Occurrences) -> list[int]:
        """Rules every required clause of which has an occurring sequence.

        The index files each rule under a trigger (its cheapest clause) and, for rules
        with two or more clauses, the second clause. With the article scanned in full this
        is set operations; after a trigger scan, only the triggers that occur are followed
        and the second clauses they lead to looked up (few, or the scan would have been
        full). The few rules with more clauses are checked one by one after.
        """
        index = self.index
        found = set(index.always_rules)
        if occurrences.scanned:
            present = occurrences.present
            for seq_id in present & index.rules_by_trigger.keys():
                found.update(index.rules_by_trigger[seq_id])
            for seq_id in present & index.rules_by_pair.keys():
                by_second = index.rules_by_pair[seq_id]
                for second in present & by_second.keys():
                    found.update(by_second[second])
        else:
            for seq_id in occurrences.triggers:
                found.update(index.rules_by_trigger.get(seq_id, ()))
                for second, rules in index.rules_by_pair.get(seq_id, {}).items():
                    if occurrences.has(second):
                        found.update(rules)
        extra = self._extra_clauses
        return [
            n
            for n in sorted(found)
            if n not in extra or all(occurrences.has_any(c) for c in extra[n])
        ]


def build_match(
    compiled: CompiledRule, text: AnalysedText, terms: Iterable[TermRange],
    reader: ContextReader | None = None, exclude: tuple[ContextLabelName, ...] = (),
    evidence: Evidence = no_evidence,
) -> Match:
    """The match of a rule that held; `reader` labels its context (none without one), read
    in the `evidence` sentences where the query holds on its own (Evaluator.evidence), and
    the labels the rule excludes (its own `exclude:`, else `exclude`) hold it back."""
    fields = text.fields()
    earliest = sorted(set(terms))[:MAX_SPANS]
    spans = [_span(fields, term_range) for term_range in earliest]
    rule = compiled.rule
    excluded = exclude if rule.exclude is None else rule.exclude
    context = reader.labels(earliest, evidence, frozenset(excluded)) if reader is not None else ()
    return Match(
        rule_id=rule.id,
        article_id=text.article.id,
        title=text.article.title,
        severity=rule.severity,
        spans=tuple(spans),
        snippet=make_snippet(text, spans),
        tags=rule.tags,
        context=context,
        held=tuple(label.label for label in context if label.label in excluded),
    )


def _span(fields: tuple[FieldText, FieldText], term_range: TermRange) -> Span:
    """A term's word range as character offsets into its field."""
    f, first, last = term_range
    return Span(fields[f].starts.item(first), fields[f].ends.item(last), FIELDS[f])  # type: ignore[arg-type]


