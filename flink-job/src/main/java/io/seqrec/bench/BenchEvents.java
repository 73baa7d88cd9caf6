package io.seqrec.bench;

import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.ReplaySource;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.model.ModelArtifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The events of a benchmark run: real sequences replayed from a file, or the synthetic generator.
 * Without a source, the ML-1M sequences if the file is there and the model knows their items.
 */
final class BenchEvents {
    static final String ML_1M = "../shared/data/ml-1m/sequences.txt";

    /**
     * Replayed users stop after this many events (about the median ML-1M history), so the mix of
     * sequence lengths, and with it the model's cost per event, stays the same through a run.
     */
    private static final int HISTORY_CAP = 100;

    private static final int DEFAULT_ACTIVE_USERS = 200;
    private static final int DEFAULT_SYNTHETIC_USERS = 500;

    private BenchEvents() {}

    /**
     * What a phase sends: the histories streamed unmeasured first (empty for {@link
     * BenchSettings.History#REPLAY}), then the measured events.
     */
    record Workload(List<BenchEvent> history, List<BenchEvent> measured) {}

    /**
     * The run's events. With {@link BenchSettings.History#WARM}, only users with more than {@code
     * historySteps} events take part: their first {@code historySteps} become the history, and up
     * to {@value #HISTORY_CAP} more each are measured.
     */
    static Workload load(BenchSettings s, ModelArtifact artifact, int historySteps)
            throws Exception {
        if (s.history() != BenchSettings.History.WARM) {
            return new Workload(List.of(), load(s, artifact));
        }
        // Enough of the stream for s.events() measured events after every user's history.
        long needed = s.events() * (historySteps + HISTORY_CAP) / HISTORY_CAP;
        for (long ask = needed; ; ask *= 2) {
            BenchSettings longer = s.withEvents(ask);
            Workload w =
                    warm(
                            loadCapped(longer, artifact, historySteps + HISTORY_CAP, historySteps),
                            historySteps,
                            s.events());
            if (w.measured().size() >= s.events() || ask > 64 * needed) {
                System.out.printf(
                        Locale.ROOT,
                        "history: warm, %d events of %d users' first %d streamed unmeasured"
                                + " first%n",
                        w.history().size(),
                        w.measured().stream().map(BenchEvent::userId).distinct().count(),
                        historySteps);
                return w;
            }
        }
    }

    /**
     * Splits a stream: each user's first {@code steps} events go to the history, the rest (up to
     * {@code measured} in all) are measured; users with no measured event are left out. Each part
     * keeps the stream's order, so each user's events stay in order.
     */
    static Workload warm(List<BenchEvent> stream, int steps, long measured) {
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        List<BenchEvent> later = new ArrayList<>();
        for (BenchEvent e : stream) {
            int n = seen.merge(e.userId(), 1, Integer::sum);
            if (n > steps && later.size() < measured) {
                later.add(e);
            }
        }
        Set<String> measuredUsers = new HashSet<>();
        later.forEach(e -> measuredUsers.add(e.userId()));
        java.util.Map<String, Integer> taken = new java.util.HashMap<>();
        List<BenchEvent> history = new ArrayList<>();
        for (BenchEvent e : stream) {
            if (measuredUsers.contains(e.userId())
                    && taken.merge(e.userId(), 1, Integer::sum) <= steps) {
                history.add(e);
            }
        }
        return new Workload(history, later);
    }

    static List<BenchEvent> load(BenchSettings s, ModelArtifact artifact) throws Exception {
        return loadCapped(s, artifact, HISTORY_CAP, 0);
    }

    /**
     * @param cap events replayed per user at most
     * @param longerThan replayed users have more events than this (users with fewer could not be
     *     warm)
     */
    private static List<BenchEvent> loadCapped(
            BenchSettings s, ModelArtifact artifact, int cap, int longerThan) throws Exception {
        if (s.source() == null) {
            Path ml1m = Path.of(ML_1M);
            String home = System.getProperty("seqrec.home");
            if (!Files.isRegularFile(ml1m) && home != null) {
                ml1m = Path.of(home).resolve(ML_1M);
            }
            if (!Files.isRegularFile(ml1m)) {
                System.out.println("source: synthetic (no " + ML_1M + ")");
                return synthetic(s, artifact);
            }
            List<BenchEvent> replay = replay(ml1m, ReplaySource.Format.ML_1M, s, cap, longerThan);
            double known = knownFraction(replay, artifact);
            if (known >= 0.5) {
                System.out.println("source: " + ml1m.normalize() + " (ml-1m)");
                return replay;
            }
            System.out.printf(
                    Locale.ROOT,
                    "source: synthetic (the model knows %.0f%% of the items in %s)%n",
                    100 * known,
                    ml1m.normalize());
            return synthetic(s, artifact);
        }
        if (s.source().equals("synthetic")) {
            System.out.println("source: synthetic");
            return synthetic(s, artifact);
        }
        Path file = Path.of(s.source()); // the command checked that it exists
        ReplaySource.Format format = s.format() == null ? ReplaySource.Format.ML_1M : s.format();
        List<BenchEvent> replay = replay(file, format, s, cap, longerThan);
        System.out.printf(
                Locale.ROOT,
                "source: %s (%s; the model knows %.0f%% of its items)%n",
                file,
                format.name().toLowerCase(Locale.ROOT).replace('_', '-'),
                100 * knownFraction(replay, artifact));
        return replay;
    }

    /**
     * Users replayed {@linkplain ReplaySource#staggered staggered}: {@code users} of them active at
     * a time, each for at most {@value #HISTORY_CAP} events.
     */
    private static List<BenchEvent> replay(
            Path file, ReplaySource.Format format, BenchSettings s, int cap, int longerThan)
            throws Exception {
        List<ReplaySource.UserSequence> users =
                ReplaySource.read(file, format).stream()
                        .filter(u -> u.items().size() > longerThan)
                        .toList();
        int active = s.users() == null ? DEFAULT_ACTIVE_USERS : s.users();
        List<BenchEvent> out = new ArrayList<>();
        for (ReplaySource.Interaction i :
                ReplaySource.staggered(users, active, cap, s.events(), s.seed())) {
            out.add(new BenchEvent(i.userId(), i.itemId()));
        }
        return out;
    }

    /**
     * {@code source}'s events ({@code "synthetic"}, or a replay file in {@code format}) without a
     * model to check them against: for measurements that do not score.
     */
    static List<BenchEvent> replayOrSynthetic(
            String source, ReplaySource.Format format, long events, Integer users, long seed)
            throws Exception {
        BenchSettings s =
                new BenchSettings(
                        events,
                        source,
                        format,
                        users,
                        seed,
                        null,
                        false,
                        null,
                        null,
                        1,
                        null,
                        0,
                        false,
                        BenchSettings.History.REPLAY);
        return source.equals("synthetic")
                ? synthetic(s, null)
                : replay(Path.of(source), format, s, HISTORY_CAP, 0);
    }

    /**
     * The generator's events. A model that does not know the generator's item ids (one of another
     * catalog, such as the ML-1M-sized bench model) gets them on its own catalog: a generator
     * catalog of the model's size, its item {@code i} sent as the model's item {@code i + 1}, so
     * that the events cost what they would for that model (a model knowing none of a user's items
     * is not asked).
     *
     * @param artifact the served model, or {@code null} for the generator's own ids
     */
    private static List<BenchEvent> synthetic(BenchSettings s, ModelArtifact artifact) {
        int users = s.users() == null ? DEFAULT_SYNTHETIC_USERS : s.users();
        GeneratorConfig config = GeneratorConfig.defaults(users, s.events(), s.seed());
        boolean ownCatalog =
                artifact == null
                        || artifact.indexOf(SyntheticBehaviorGenerator.itemId(0)) != 0
                        || artifact.numItems() < 10;
        if (!ownCatalog) {
            config = config.withItems(artifact.numItems());
            System.out.printf(
                    Locale.ROOT,
                    "synthetic events on the model's own %d items (it knows none of the"
                            + " generator's ids)%n",
                    artifact.numItems());
        }
        SyntheticBehaviorGenerator g = new SyntheticBehaviorGenerator(config);
        List<BenchEvent> out = new ArrayList<>();
        while (g.hasNext()) {
            GeneratedRecord r = g.next();
            if (r.valid()) {
                String item = r.event().itemId();
                if (!ownCatalog) {
                    item = artifact.itemId(SyntheticBehaviorGenerator.itemIndex(item) + 1);
                }
                out.add(new BenchEvent(r.event().userId(), item));
            }
        }
        return out;
    }

    private static double knownFraction(List<BenchEvent> events, ModelArtifact artifact) {
        Set<String> items = new HashSet<>();
        for (BenchEvent e : events) {
            items.add(e.itemId());
        }
        long known = items.stream().filter(i -> artifact.indexOf(i) != 0).count();
        return items.isEmpty() ? 0 : (double) known / items.size();
    }
}
