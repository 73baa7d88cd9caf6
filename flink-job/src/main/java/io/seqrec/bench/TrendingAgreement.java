package io.seqrec.bench;

import io.seqrec.event.StableHash;
import io.seqrec.trending.TrendingSettings;
import io.seqrec.trending.TrendingSketch;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * How close each subtask's trending ranking is to the whole stream's, at a given parallelism: the
 * job keeps one {@link TrendingSketch} per subtask, fed by the users Flink routes there (by key
 * group, as {@code keyBy(user_id)} does), and serves cold users from it without a shuffle. Here the
 * same events are replayed through one sketch per subtask and, alongside, exact decayed counts of
 * the whole stream; every {@code every} events (after the first tenth) each subtask's top-K is
 * compared with the exact global top-K (the share of the global top-K it contains). One sketch fed
 * every event is measured the same way, to separate the sketch's own error from the sampling of 1/p
 * of the users.
 */
public final class TrendingAgreement {
    private TrendingAgreement() {}

    /** Mean and worst overlap of one configuration's lists with the exact global top-K. */
    public record Result(String name, double meanOverlap, double minOverlap, int lists) {}

    /** A replayed ({@code source} a file in {@code format}) or synthetic stream, in order. */
    public static List<BenchEvent> events(
            String source,
            io.seqrec.generator.ReplaySource.Format format,
            long events,
            Integer users,
            long seed)
            throws Exception {
        return BenchEvents.replayOrSynthetic(source, format, events, users, seed);
    }

    /**
     * @param events the stream, in order; event time advances by {@code 1000 / rate} ms per event
     */
    public static List<Result> measure(
            List<BenchEvent> events,
            List<Integer> parallelisms,
            TrendingSettings settings,
            double rate,
            int k,
            int every) {
        List<Result> out = new ArrayList<>();
        out.add(run(events, 1, settings, rate, k, every, "one sketch, every event"));
        for (int p : parallelisms) {
            out.add(run(events, p, settings, rate, k, every, "per subtask, parallelism " + p));
        }
        return out;
    }

    private static Result run(
            List<BenchEvent> events,
            int parallelism,
            TrendingSettings settings,
            double rate,
            int k,
            int every,
            String name) {
        int maxParallelism = KeyGroupRangeAssignment.computeDefaultMaxParallelism(parallelism);
        TrendingSketch[] sketches = new TrendingSketch[parallelism];
        for (int i = 0; i < parallelism; i++) {
            sketches[i] = settings.newSketch();
        }
        Map<String, Double> exact = new HashMap<>();
        double halfLife = settings.halfLifeMs();
        double sum = 0;
        double min = 1;
        int lists = 0;
        for (int i = 0; i < events.size(); i++) {
            BenchEvent e = events.get(i);
            long ts = (long) (i * 1000 / rate);
            int subtask =
                    KeyGroupRangeAssignment.assignKeyToParallelOperator(
                            e.userId(), maxParallelism, parallelism);
            sketches[subtask].add(StableHash.of(e.itemId()), e.itemId(), ts, 1);
            // Forward decay as the sketch does, landmark 0: only the order matters here.
            exact.merge(e.itemId(), Math.pow(2, ts / halfLife), Double::sum);
            if (i >= events.size() / 10 && (i + 1) % every == 0) {
                Set<String> global = top(exact, k);
                for (TrendingSketch s : sketches) {
                    int shared = 0;
                    for (TrendingSketch.Entry entry : s.top(k)) {
                        shared += global.contains(entry.id()) ? 1 : 0;
                    }
                    double overlap = (double) shared / k;
                    sum += overlap;
                    min = Math.min(min, overlap);
                    lists++;
                }
            }
        }
        return new Result(name, lists == 0 ? 0 : sum / lists, lists == 0 ? 0 : min, lists);
    }

    private static Set<String> top(Map<String, Double> counts, int k) {
        Set<String> out = new HashSet<>();
        counts.entrySet().stream()
                .sorted(
                        Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder())
                                .thenComparing(Map.Entry.comparingByKey()))
                .limit(k)
                .forEach(e -> out.add(e.getKey()));
        return out;
    }

    static String format(Result r, int k) {
        return String.format(
                Locale.ROOT,
                "%-32s overlap@%d with the global top-%d: mean %.3f, worst %.2f (%d lists)",
                r.name(),
                k,
                k,
                r.meanOverlap(),
                r.minOverlap(),
                r.lists());
    }

    /** Prints one line per configuration. */
    public static void print(List<Result> results, int k) {
        results.forEach(r -> System.out.println(format(r, k)));
    }
}
