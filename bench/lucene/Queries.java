import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.spans.SpanMultiTermQueryWrapper;
import org.apache.lucene.search.spans.SpanNearQuery;
import org.apache.lucene.search.spans.SpanNotQuery;
import org.apache.lucene.search.spans.SpanOrQuery;
import org.apache.lucene.search.spans.SpanQuery;
import org.apache.lucene.search.spans.SpanTermQuery;

/**
 * A query tree of bench/lucene_queries.py (one JSON object) as a Lucene query, and the terms
 * a presearcher needs to find it.
 *
 * <p>Nodes: {"terms": [form, ...]} any of these surface forms (a form the analyzer splits is
 * a phrase); {"prefix": text}; {"near": [a, b, ...], "slop": n, "ordered": bool} a SpanNear;
 * {"spannot": [include, exclude]} a SpanNot (the rule language's NOT IN);
 * {"or": [...]}, {"and": [...]}, {"not": node}; {"field": "title"|"body", "query": node}.
 * Positional nodes (terms, prefix, near, or of them) are span queries over one field;
 * without a field they are an OR of the title's and the body's, as watcher reads both.
 */
final class Queries {
    static final String[] FIELDS = {"title", "body"};
    /** Conjunctions a rule is filtered by (MultipassTermFilteredPresearcher's passes). */
    static final int PASSES = 3;

    final Analyzer analyzer = new WordsAnalyzer();

    /**
     * StandardAnalyzer's tokenizer and lower-casing (no stop words, as StandardAnalyzer has
     * none since Lucene 8), and the possessive "'s" removed, as spaCy splits it off a word
     * for watcher: "Aleppo's" is the token "aleppo". No stemming: queries carry the forms.
     */
    static final class WordsAnalyzer extends Analyzer {
        @Override
        protected TokenStreamComponents createComponents(String field) {
            StandardTokenizer source = new StandardTokenizer();
            TokenStream words = new LowerCaseFilter(new EnglishPossessiveFilter(source));
            return new TokenStreamComponents(source, words);
        }
    }

    /** Forms already analysed: rules share words, and weights ask for them again. */
    private final Map<String, List<String>> analysed = new HashMap<>();

    /** The words the analyzer makes of a form, in order. */
    List<String> tokens(String text) {
        return analysed.computeIfAbsent(text, this::analyse);
    }

    private List<String> analyse(String text) {
        List<String> tokens = new ArrayList<>();
        try (TokenStream stream = analyzer.tokenStream(FIELDS[1], text)) {
            CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
            stream.reset();
            while (stream.incrementToken()) {
                tokens.add(term.toString());
            }
            stream.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return tokens;
    }

    // -- the query ---------------------------------------------------------------------

    /** The Lucene query of a node; `field` null: either field. */
    Query query(Map<String, Object> node, String field) {
        if (isPositional(node)) {
            if (field != null) {
                return span(node, field);
            }
            BooleanQuery.Builder either = new BooleanQuery.Builder();
            for (String f : FIELDS) {
                either.add(span(node, f), Occur.SHOULD);
            }
            return either.build();
        }
        if (node.containsKey("field")) {
            return query(child(node, "query"), (String) node.get("field"));
        }
        if (node.containsKey("or")) {
            BooleanQuery.Builder any = new BooleanQuery.Builder();
            for (Map<String, Object> c : children(node, "or")) {
                any.add(query(c, field), Occur.SHOULD);
            }
            return any.build();
        }
        List<Map<String, Object>> parts =
                node.containsKey("and") ? children(node, "and") : List.of(node);
        BooleanQuery.Builder all = new BooleanQuery.Builder();
        boolean positive = false;
        for (Map<String, Object> c : parts) {
            if (c.containsKey("not")) {
                all.add(query(child(c, "not"), field), Occur.MUST_NOT);
            } else {
                all.add(query(c, field), Occur.MUST);
                positive = true;
            }
        }
        if (!positive) {
            all.add(new MatchAllDocsQuery(), Occur.MUST);
        }
        return all.build();
    }

    private SpanQuery span(Map<String, Object> node, String field) {
        if (node.containsKey("terms")) {
            Set<List<String>> phrases = new LinkedHashSet<>();
            for (Object form : (List<?>) node.get("terms")) {
                List<String> words = tokens((String) form);
                if (!words.isEmpty()) {
                    phrases.add(words);
                }
            }
            List<SpanQuery> forms = new ArrayList<>();
            for (List<String> words : phrases) {
                forms.add(phrase(words, field));
            }
            return any(forms, field);
        }
        if (node.containsKey("prefix")) {
            List<String> words = tokens((String) node.get("prefix"));
            if (words.isEmpty()) {
                return any(List.of(), field);
            }
            List<SpanQuery> parts = new ArrayList<>();
            for (String word : words.subList(0, words.size() - 1)) {
                parts.add(new SpanTermQuery(new Term(field, word)));
            }
            parts.add(new SpanMultiTermQueryWrapper<>(
                    new PrefixQuery(new Term(field, words.get(words.size() - 1)))));
            return parts.size() == 1 ? parts.get(0)
                    : new SpanNearQuery(parts.toArray(new SpanQuery[0]), 0, true);
        }
        if (node.containsKey("spannot")) {
            List<Map<String, Object>> sides = children(node, "spannot");
            return new SpanNotQuery(span(sides.get(0), field), span(sides.get(1), field));
        }
        if (node.containsKey("near")) {
            List<SpanQuery> operands = new ArrayList<>();
            for (Map<String, Object> c : children(node, "near")) {
                operands.add(span(c, field));
            }
            int slop = ((Double) node.get("slop")).intValue();
            return new SpanNearQuery(operands.toArray(new SpanQuery[0]), slop,
                    Boolean.TRUE.equals(node.get("ordered")));
        }
        List<SpanQuery> alternatives = new ArrayList<>();
        for (Map<String, Object> c : children(node, "or")) {
            alternatives.add(span(c, field));
        }
        return any(alternatives, field);
    }

    private static SpanQuery phrase(List<String> words, String field) {
        if (words.size() == 1) {
            return new SpanTermQuery(new Term(field, words.get(0)));
        }
        SpanQuery[] parts = new SpanQuery[words.size()];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = new SpanTermQuery(new Term(field, words.get(i)));
        }
        return new SpanNearQuery(parts, 0, true);
    }

    /** One span query, an OR of several, or (none: a form with no words) one that never
     * matches. */
    private static SpanQuery any(List<SpanQuery> alternatives, String field) {
        if (alternatives.isEmpty()) {
            return new SpanTermQuery(new Term(field, "\u0000no words"));
        }
        if (alternatives.size() == 1) {
            return alternatives.get(0);
        }
        return new SpanOrQuery(alternatives.toArray(new SpanQuery[0]));
    }

    static boolean isPositional(Map<String, Object> node) {
        if (node.containsKey("terms") || node.containsKey("prefix") || node.containsKey("near")
                || node.containsKey("spannot")) {
            return true;
        }
        if (node.containsKey("or")) {
            return children(node, "or").stream().allMatch(Queries::isPositional);
        }
        return false;
    }

    // -- what the presearcher indexes ---------------------------------------------------

    /** What an article must hold for a query to be worth running in one pass: one of
     * `terms`, or a word starting with one of `prefixes`; `any`: nothing is required. */
    record Required(boolean any, Set<String> terms, Set<String> prefixes) {
        static final Required ANY = new Required(true, Set.of(), Set.of());
    }

    /**
     * The query's required terms, one set per pass, as Lucene Monitor's
     * MultipassTermFilteredPresearcher extracts them: a conjunction (AND, NEAR, a phrase)
     * is represented by one of its operands, the best (heaviest: longest words) in the
     * first pass, the next best in the second..., a disjunction by all of its operands,
     * a negation by nothing. A rule is a candidate only when every pass finds a term.
     */
    List<Required> passes(Map<String, Object> node) {
        List<Required> passes = new ArrayList<>();
        for (int pass = 0; pass < PASSES; pass++) {
            Required required = required(node, pass);
            if (!required.any() && !passes.contains(required)) {
                passes.add(required);
            }
        }
        return passes;
    }

    private Required required(Map<String, Object> node, int pass) {
        if (node.containsKey("terms")) {
            Set<String> terms = new LinkedHashSet<>();
            for (Object form : (List<?>) node.get("terms")) {
                longest(tokens((String) form)).ifPresent(terms::add);
            }
            return new Required(false, terms, Set.of());
        }
        if (node.containsKey("prefix")) {
            List<String> words = tokens((String) node.get("prefix"));
            if (words.size() > 1) {
                Set<String> word = new LinkedHashSet<>();
                longest(words.subList(0, words.size() - 1)).ifPresent(word::add);
                return new Required(false, word, Set.of());
            }
            return new Required(false, Set.of(), new LinkedHashSet<>(words));
        }
        if (node.containsKey("field")) {
            return required(child(node, "query"), pass);
        }
        if (node.containsKey("spannot")) {  // its hits are some of the include side's
            return required(children(node, "spannot").get(0), pass);
        }
        if (node.containsKey("not")) {
            return Required.ANY;
        }
        if (node.containsKey("or")) {
            Set<String> terms = new LinkedHashSet<>();
            Set<String> prefixes = new LinkedHashSet<>();
            for (Map<String, Object> c : children(node, "or")) {
                Required r = required(c, pass);
                if (r.any()) {
                    return Required.ANY;
                }
                terms.addAll(r.terms());
                prefixes.addAll(r.prefixes());
            }
            return new Required(false, terms, prefixes);
        }
        List<Map<String, Object>> operands = new ArrayList<>(
                children(node, node.containsKey("and") ? "and" : "near"));
        operands.removeIf(c -> weight(c) == 0);
        if (operands.isEmpty()) {
            return Required.ANY;
        }
        operands.sort(Comparator.comparingDouble(c -> -weight(c)));
        return required(operands.get(Math.min(pass, operands.size() - 1)), pass);
    }

    /** How well a node filters, as Monitor's default term weight: longer words are rarer;
     * 0 for a node that requires nothing. */
    private double weight(Map<String, Object> node) {
        if (node.containsKey("terms")) {
            double least = Double.MAX_VALUE;  // a term of no words matches nothing: best
            for (Object form : (List<?>) node.get("terms")) {
                int length = longest(tokens((String) form)).map(String::length).orElse(0);
                if (length > 0) {
                    least = Math.min(least, length);
                }
            }
            return least;
        }
        if (node.containsKey("prefix")) {
            return ((String) node.get("prefix")).length();
        }
        if (node.containsKey("field")) {
            return weight(child(node, "query"));
        }
        if (node.containsKey("spannot")) {
            return weight(children(node, "spannot").get(0));
        }
        if (node.containsKey("not")) {
            return 0;
        }
        if (node.containsKey("or")) {
            return children(node, "or").stream().mapToDouble(this::weight).min().orElse(0);
        }
        String key = node.containsKey("and") ? "and" : "near";
        return children(node, key).stream().mapToDouble(this::weight).max().orElse(0);
    }

    private static java.util.Optional<String> longest(List<String> words) {
        return words.stream().max(Comparator.comparingInt(String::length));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> child(Map<String, Object> node, String key) {
        return (Map<String, Object>) node.get(key);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> children(Map<String, Object> node, String key) {
        return (List<Map<String, Object>>) node.get(key);
    }
}
