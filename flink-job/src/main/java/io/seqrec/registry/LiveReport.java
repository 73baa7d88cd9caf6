package io.seqrec.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqrec.evaluation.LiveTotals;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One subtask's live figures by registry version, as it last wrote them to the registry ({@code
 * live/subtask-N.json}), for {@code seqrec models status}:
 *
 * <pre>{@code
 * {"format_version": 1, "subtask": 0, "parallelism": 2, "started_ms": ..., "updated_ms": ...,
 *  "poll_interval_ms": 30000,
 *  "versions": {"v2": {"evaluated": 4810, "hits": 602, "ndcg_sum": 301.7,
 *                      "ndcg_squares_sum": 188.2}},
 *  "baselines": {"v2": {"evaluated": 4810, "hits": 95, ...}}}
 * }</pre>
 *
 * {@code baselines} are the same checks against the trending list the same users would have got
 * (the live popularity baseline); reports written before it existed have none.
 *
 * <p>The sums count since the subtask (re)started ({@code started_ms}): they are not checkpointed,
 * and a restart begins them again.
 *
 * @param subtask the subtask's index
 * @param parallelism the operator's parallelism when it wrote the report
 * @param startedMs when the subtask started counting, epoch milliseconds
 * @param updatedMs when it wrote the report
 * @param pollIntervalMs how often it writes: readers judge a report stale by it ({@link #isFresh})
 * @param versions the sums by the registry's version name
 * @param baselines the live popularity baseline's sums on the same checks, by version
 */
public record LiveReport(
        int subtask,
        int parallelism,
        long startedMs,
        long updatedMs,
        long pollIntervalMs,
        Map<String, LiveTotals> versions,
        Map<String, LiveTotals> baselines) {

    static final int FORMAT_VERSION = 1;

    /**
     * A report is fresh while its writer would have written a newer one only a few polls ago: three
     * poll intervals and a minute of slack for slow storage. A stale one is from a subtask that no
     * longer runs (a stopped job, or a lower parallelism since).
     */
    private static final long STALE_SLACK_MS = 60_000;

    public LiveReport {
        versions = Map.copyOf(versions);
        baselines = Map.copyOf(baselines);
    }

    /** A report without baseline figures. */
    public LiveReport(
            int subtask,
            int parallelism,
            long startedMs,
            long updatedMs,
            long pollIntervalMs,
            Map<String, LiveTotals> versions) {
        this(subtask, parallelism, startedMs, updatedMs, pollIntervalMs, versions, Map.of());
    }

    public boolean isFresh(long nowMs) {
        return updatedMs >= nowMs - 3 * pollIntervalMs - STALE_SLACK_MS;
    }

    byte[] toJson() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("format_version", FORMAT_VERSION);
        root.put("subtask", subtask);
        root.put("parallelism", parallelism);
        root.put("started_ms", startedMs);
        root.put("updated_ms", updatedMs);
        root.put("poll_interval_ms", pollIntervalMs);
        writeTotals(root.putObject("versions"), versions);
        writeTotals(root.putObject("baselines"), baselines);
        try {
            return mapper.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeTotals(ObjectNode byVersion, Map<String, LiveTotals> totals) {
        totals.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(
                        e -> {
                            ObjectNode t = byVersion.putObject(e.getKey());
                            t.put("evaluated", e.getValue().evaluated());
                            t.put("hits", e.getValue().hits());
                            t.put("ndcg_sum", e.getValue().ndcgSum());
                            t.put("ndcg_squares_sum", e.getValue().ndcgSquaresSum());
                        });
    }

    /**
     * @throws RegistryException if {@code json} is not a live report
     */
    static LiveReport fromJson(byte[] json, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new RegistryException(source + ": not JSON: " + e.getMessage(), e);
        }
        if (root == null || root.path("format_version").asInt() != FORMAT_VERSION) {
            throw new RegistryException(
                    source + ": not a live report of format_version " + FORMAT_VERSION);
        }
        return new LiveReport(
                (int) integral(root, "subtask", source),
                (int) integral(root, "parallelism", source),
                integral(root, "started_ms", source),
                integral(root, "updated_ms", source),
                integral(root, "poll_interval_ms", source),
                readTotals(root.path("versions"), source),
                readTotals(root.path("baselines"), source));
    }

    private static Map<String, LiveTotals> readTotals(JsonNode byVersion, String source) {
        Map<String, LiveTotals> versions = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = byVersion.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            JsonNode t = f.getValue();
            versions.put(
                    f.getKey(),
                    new LiveTotals(
                            integral(t, "evaluated", source),
                            integral(t, "hits", source),
                            number(t, "ndcg_sum", source),
                            number(t, "ndcg_squares_sum", source)));
        }
        return versions;
    }

    private static long integral(JsonNode node, String field, String source) {
        JsonNode v = node.path(field);
        if (!v.isIntegralNumber() || v.longValue() < 0) {
            throw new RegistryException(source + ": " + field + " must be a whole number >= 0");
        }
        return v.longValue();
    }

    private static double number(JsonNode node, String field, String source) {
        JsonNode v = node.path(field);
        if (!v.isNumber() || v.doubleValue() < 0) {
            throw new RegistryException(source + ": " + field + " must be a number >= 0");
        }
        return v.doubleValue();
    }
}
