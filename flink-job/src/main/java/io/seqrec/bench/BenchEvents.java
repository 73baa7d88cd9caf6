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

    static List<BenchEvent> load(BenchSettings s, ModelArtifact artifact) throws Exception {
        if (s.source() == null) {
            Path ml1m = Path.of(ML_1M);
            String home = System.getProperty("seqrec.home");
            if (!Files.isRegularFile(ml1m) && home != null) {
                ml1m = Path.of(home).resolve(ML_1M);
            }
            if (!Files.isRegularFile(ml1m)) {
                System.out.println("source: synthetic (no " + ML_1M + ")");
                return synthetic(s);
            }
            List<BenchEvent> replay = replay(ml1m, ReplaySource.Format.ML_1M, s);
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
            return synthetic(s);
        }
        if (s.source().equals("synthetic")) {
            System.out.println("source: synthetic");
            return synthetic(s);
        }
        Path file = Path.of(s.source()); // the command checked that it exists
        ReplaySource.Format format = s.format() == null ? ReplaySource.Format.ML_1M : s.format();
        List<BenchEvent> replay = replay(file, format, s);
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
    private static List<BenchEvent> replay(Path file, ReplaySource.Format format, BenchSettings s)
            throws Exception {
        List<ReplaySource.UserSequence> users = ReplaySource.read(file, format);
        int active = s.users() == null ? DEFAULT_ACTIVE_USERS : s.users();
        List<BenchEvent> out = new ArrayList<>();
        for (ReplaySource.Interaction i :
                ReplaySource.staggered(users, active, HISTORY_CAP, s.events(), s.seed())) {
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
                        events, source, format, users, seed, null, false, null, null, 1, null, 0,
                        false);
        return source.equals("synthetic") ? synthetic(s) : replay(Path.of(source), format, s);
    }

    private static List<BenchEvent> synthetic(BenchSettings s) {
        int users = s.users() == null ? DEFAULT_SYNTHETIC_USERS : s.users();
        SyntheticBehaviorGenerator g =
                new SyntheticBehaviorGenerator(
                        GeneratorConfig.defaults(users, s.events(), s.seed()));
        List<BenchEvent> out = new ArrayList<>();
        while (g.hasNext()) {
            GeneratedRecord r = g.next();
            if (r.valid()) {
                out.add(new BenchEvent(r.event().userId(), r.event().itemId()));
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
