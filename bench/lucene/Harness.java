import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.sun.management.OperatingSystemMXBean;

import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.memory.MemoryIndex;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.util.Version;

/**
 * The Lucene equivalent of watcher's analysis + engine, driven by bench/lucene_bench.py.
 *
 * <p>{@code java Harness ARTICLES QUERIES COUNT[,COUNT...]}: ARTICLES holds one JSON object
 * a line ({"id", "title", "body"}), QUERIES one {"id", "query"} a line (Queries' trees).
 * For each COUNT, the first COUNT rules get their own presearcher. It prints one JSON line
 * (versions, sizes, load seconds), then answers commands on stdin, one JSON line each:
 * {@code pass N} times one pass over every article with the first N rules (wall and the
 * JVM's CPU seconds, matches, candidates);
 * {@code pairs N} lists the (article, rule) numbers that match; {@code quit}.
 *
 * <p>A pass is, per article: a MemoryIndex of its title and body (tokenized by
 * Queries.WordsAnalyzer), the presearcher on its terms, then each candidate query run on
 * the index: what Lucene Monitor does for one document.
 */
public final class Harness {
    /** CPU time of the whole JVM (its compiler and collector threads too) beside wall time. */
    private static final OperatingSystemMXBean PROCESS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final List<Map<String, Object>> articles;
    private final List<Query> queries = new ArrayList<>();
    private final Map<Integer, Presearcher> presearchers = new LinkedHashMap<>();
    private final Queries builder = new Queries();
    private final MemoryIndex index = new MemoryIndex();

    private Harness(List<Map<String, Object>> articles) {
        this.articles = articles;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: java Harness ARTICLES.jsonl QUERIES.jsonl COUNT[,COUNT...]");
            System.exit(2);
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        long start = System.nanoTime();
        Harness harness;
        try {
            harness = new Harness(objects(Path.of(args[0])));
            harness.load(objects(Path.of(args[1])), args[1], args[2]);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        double loadSeconds = (System.nanoTime() - start) / 1e9;
        out.println("{\"lucene\": " + Json.quote(Version.LATEST.toString())
                + ", \"java\": " + Json.quote(System.getProperty("java.vm.name") + " "
                + Runtime.version())
                + ", \"articles\": " + harness.articles.size()
                + ", \"rules\": " + harness.queries.size()
                + ", \"load_seconds\": " + loadSeconds + "}");
        BufferedReader commands = new BufferedReader(
                new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = commands.readLine(); line != null; line = commands.readLine()) {
            String[] words = line.trim().split("\\s+");
            if (words[0].equals("quit")) {
                return;
            }
            out.println(harness.answer(words));
        }
    }

    private String answer(String[] words) throws IOException {
        if (words.length != 2 || !words[0].matches("pass|pairs")) {
            return "{\"error\": " + Json.quote("unknown command: " + String.join(" ", words))
                    + "}";
        }
        int count = Integer.parseInt(words[1]);
        Presearcher presearcher = presearchers.get(count);
        if (presearcher == null) {
            return "{\"error\": " + Json.quote("no rule set of " + count + " rules loaded") + "}";
        }
        if (words[0].equals("pairs")) {
            List<int[]> pairs = new ArrayList<>();
            run(presearcher, pairs);
            StringBuilder out = new StringBuilder("{\"rules\": " + count + ", \"pairs\": [");
            for (int i = 0; i < pairs.size(); i++) {
                out.append(i == 0 ? "" : ", ").append('[').append(pairs.get(i)[0]).append(", ")
                        .append(pairs.get(i)[1]).append(']');
            }
            return out.append("]}").toString();
        }
        long cpuStart = PROCESS.getProcessCpuTime();
        long start = System.nanoTime();
        long[] counted = run(presearcher, null);
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (PROCESS.getProcessCpuTime() - cpuStart) / 1e9;
        return "{\"rules\": " + count + ", \"seconds\": " + seconds + ", \"cpu_seconds\": "
                + cpuSeconds + ", \"matches\": " + counted[0] + ", \"candidates\": "
                + counted[1] + "}";
    }

    /** One pass over every article: {matches, candidates}; each match added to `pairs`
     * when it is given. */
    private long[] run(Presearcher presearcher, List<int[]> pairs) throws IOException {
        long matches = 0;
        long candidates = 0;
        for (int a = 0; a < articles.size(); a++) {
            Map<String, Object> article = articles.get(a);
            index.reset();
            index.addField(Queries.FIELDS[0], (String) article.get("title"), builder.analyzer);
            index.addField(Queries.FIELDS[1], (String) article.get("body"), builder.analyzer);
            IndexSearcher searcher = index.createSearcher();
            searcher.setQueryCache(null);
            LeafReader reader = searcher.getIndexReader().leaves().get(0).reader();
            List<Integer> found = presearcher.candidates(reader, Queries.FIELDS);
            candidates += found.size();
            for (int rule : found) {
                if (searcher.count(queries.get(rule)) > 0) {
                    matches++;
                    if (pairs != null) {
                        pairs.add(new int[] {a, rule});
                    }
                }
            }
        }
        return new long[] {matches, candidates};
    }

    private void load(List<Map<String, Object>> rules, String file, String counts) {
        List<List<Queries.Required>> passes = new ArrayList<>();
        for (int line = 0; line < rules.size(); line++) {
            try {
                Map<String, Object> tree = Queries.child(rules.get(line), "query");
                queries.add(builder.query(tree, null));
                passes.add(builder.passes(tree));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        file + ":" + (line + 1) + ": not a query tree: " + e);
            }
        }
        for (String count : counts.split(",")) {
            int n = Integer.parseInt(count.trim());
            if (n > passes.size()) {
                throw new IllegalArgumentException(
                        file + ": " + n + " rules asked, " + passes.size() + " in the file");
            }
            presearchers.put(n, new Presearcher(passes.subList(0, n)));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> objects(Path path) throws IOException {
        List<Map<String, Object>> objects = new ArrayList<>();
        List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                objects.add((Map<String, Object>) Json.parse(lines.get(i)));
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new IllegalArgumentException(path + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
        return objects;
    }
}
