import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.util.BytesRef;

/**
 * The rules worth running on one article, from the terms of its in-memory index: what Lucene
 * Monitor's MultipassTermFilteredPresearcher does with a query index, here with hash maps
 * (Debian ships no lucene-monitor jar). A rule is a candidate when each of its passes
 * (Queries.passes) finds one of its terms, or a word starting with one of its prefixes,
 * in the article; a rule with no pass (only NOT) always is.
 */
final class Presearcher {
    private final Map<BytesRef, int[]> byTerm = new HashMap<>();
    private final Map<BytesRef, int[]> byPrefix = new HashMap<>();
    private final int[] prefixLengths;  // byte lengths of the prefixes, ascending
    private final int[] always;
    private final int[] complete;  // per rule: the mask of all its passes
    private final int[] seen;  // per rule: the article it was last hit in
    private final int[] hits;  // per rule: the passes hit in that article
    private int article;

    /** Codes are rule << 2 | pass (at most Queries.PASSES = 3 passes). */
    Presearcher(List<List<Queries.Required>> rules) {
        Map<BytesRef, List<Integer>> terms = new HashMap<>();
        Map<BytesRef, List<Integer>> prefixes = new HashMap<>();
        List<Integer> unconditional = new ArrayList<>();
        complete = new int[rules.size()];
        seen = new int[rules.size()];
        hits = new int[rules.size()];
        TreeSet<Integer> lengths = new TreeSet<>();
        for (int rule = 0; rule < rules.size(); rule++) {
            List<Queries.Required> passes = rules.get(rule);
            if (passes.isEmpty()) {
                unconditional.add(rule);
            }
            for (int pass = 0; pass < passes.size(); pass++) {
                int code = rule << 2 | pass;
                complete[rule] |= 1 << pass;
                for (String term : passes.get(pass).terms()) {
                    terms.computeIfAbsent(new BytesRef(term), k -> new ArrayList<>()).add(code);
                }
                for (String prefix : passes.get(pass).prefixes()) {
                    BytesRef bytes = new BytesRef(prefix);
                    lengths.add(bytes.length);
                    prefixes.computeIfAbsent(bytes, k -> new ArrayList<>()).add(code);
                }
            }
        }
        terms.forEach((term, codes) -> byTerm.put(term, toArray(codes)));
        prefixes.forEach((prefix, codes) -> byPrefix.put(prefix, toArray(codes)));
        prefixLengths = lengths.stream().mapToInt(Integer::intValue).toArray();
        always = toArray(unconditional);
    }

    /** The candidate rules for the article indexed in `reader`, in no particular order. */
    List<Integer> candidates(LeafReader reader, String[] fields) throws IOException {
        article++;
        List<Integer> found = new ArrayList<>(always.length + 16);
        for (int rule : always) {
            found.add(rule);
        }
        BytesRef probe = new BytesRef();
        for (String field : fields) {
            Terms terms = reader.terms(field);
            if (terms == null) {
                continue;
            }
            TermsEnum words = terms.iterator();
            for (BytesRef word = words.next(); word != null; word = words.next()) {
                hit(byTerm.get(word), found);
                probe.bytes = word.bytes;
                probe.offset = word.offset;
                for (int length : prefixLengths) {
                    if (length > word.length) {
                        break;
                    }
                    probe.length = length;
                    hit(byPrefix.get(probe), found);
                }
            }
        }
        return found;
    }

    private void hit(int[] codes, List<Integer> found) {
        if (codes == null) {
            return;
        }
        for (int code : codes) {
            int rule = code >>> 2;
            if (seen[rule] != article) {
                seen[rule] = article;
                hits[rule] = 0;
            }
            if (hits[rule] == complete[rule]) {
                continue;
            }
            hits[rule] |= 1 << (code & 3);
            if (hits[rule] == complete[rule]) {
                found.add(rule);
            }
        }
    }

    private static int[] toArray(List<Integer> values) {
        return values.stream().mapToInt(Integer::intValue).toArray();
    }
}
