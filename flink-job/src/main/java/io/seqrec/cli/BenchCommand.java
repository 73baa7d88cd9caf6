package io.seqrec.cli;

import static io.seqrec.config.Values.bool;
import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.nonEmpty;
import static io.seqrec.config.Values.oneOf;
import static io.seqrec.config.Values.positiveDuration;

import io.seqrec.bench.BenchSettings;
import io.seqrec.bench.Benchmark;
import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
import io.seqrec.generator.ReplaySource;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.ModelArtifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** {@code seqrec bench}: reads its flags and runs the {@link Benchmark}. */
final class BenchCommand {
    private BenchCommand() {}

    static final Option<Long> EVENTS = SharedOptions.events("100000", 100, "Events per phase.");
    static final Option<String> SOURCE =
            SharedOptions.replaySource(
                    null,
                    "Events to replay (default: ../shared/data ML-1M if present, else synthetic).");
    static final Option<ReplaySource.Format> FORMAT = SharedOptions.REPLAY_FORMAT;
    static final Option<Integer> USERS = SharedOptions.REPLAY_USERS;
    static final Option<Long> SEED = SharedOptions.seed("42");
    static final Option<Duration> SOAK =
            new Option<>(
                    "soak",
                    null,
                    "DURATION",
                    "A memory soak instead of the phases: the batched job at --rate for this long.",
                    positiveDuration());
    static final Option<Double> RATE = SharedOptions.rate(null, "Events per second of a --soak.");
    static final Option<BatchScorer.Padding> PADDING =
            new Option<>(
                    "padding",
                    "bucketed",
                    "bucketed|longest|full",
                    "How a batch's sequences are padded for the model.",
                    oneOf(BatchScorer.Padding.class));
    static final Option<Boolean> BASELINES =
            new Option<>(
                    "baselines",
                    "true",
                    "BOOL",
                    "Also run the unbatched and naive phases and the bare ceiling.",
                    bool());
    static final Option<Long> WARMUP =
            new Option<>(
                    "warmup",
                    null,
                    "N",
                    "Events of the unmeasured warm-up (default: the run's, at most 100000).",
                    longInRange(0, Long.MAX_VALUE));
    static final Option<Path> NAIVE_MODEL =
            new Option<>(
                    "naive-model",
                    null,
                    "DIR",
                    "The served model exported with --graph full, for the naive phase.",
                    s -> Path.of(nonEmpty().apply(s)));
    static final Option<Boolean> SWAP =
            new Option<>(
                    "swap",
                    "false",
                    "BOOL",
                    "Also a phase at 50 % load serving a model registry that swaps the model"
                            + " halfway.",
                    bool());
    static final Option<BenchSettings.History> HISTORY =
            new Option<>(
                    "history",
                    "replay",
                    "replay|warm",
                    "replay: users start from their first event; warm: each measured user's first"
                            + " --max-history events go through the job unmeasured first.",
                    oneOf(BenchSettings.History.class));
    static final Option<Integer> REPEAT =
            new Option<>(
                    "repeat",
                    "1",
                    "N",
                    "Runs of every phase; the SUMMARY takes each figure's median.",
                    intInRange(1, 100));

    static final Command COMMAND =
            new Command(
                    "bench",
                    "throughput and latency on this machine against the bare-inference ceiling,"
                            + " unbatched and naive pipelines (or a memory soak)",
                    List.of(
                            EVENTS,
                            SOURCE,
                            FORMAT,
                            USERS,
                            SEED,
                            SOAK,
                            RATE,
                            PADDING,
                            BASELINES,
                            WARMUP,
                            NAIVE_MODEL,
                            SWAP,
                            HISTORY,
                            REPEAT),
                    true,
                    BenchCommand::run);

    /**
     * Without {@code --model} the bench measures the case its targets are stated for: a model of
     * the ML-1M shape (max_len 200, hidden 64, 2 blocks, 3,416 items; seeded random weights,
     * derived from no data, so they ship with the code) and the same weights with the textbook
     * graph for the naive phase.
     */
    static final Path BENCH_MODEL = Path.of("model/artifacts/bench-ml1m");

    static final Path BENCH_NAIVE_MODEL = Path.of("model/artifacts/bench-ml1m-full");

    static int run(Flags f) throws Exception {
        Map<String, String> jobOptions = f.jobOptions();
        boolean benchModel = !jobOptions.containsKey("model");
        if (benchModel) {
            jobOptions.put("model", Main.underHome(BENCH_MODEL).toString());
        }
        String source = f.get(SOURCE);
        if (source != null
                && !source.equals("synthetic")
                && !Files.isRegularFile(Path.of(source))) {
            throw new UsageException("--source '" + source + "': no such file");
        }
        if (f.given(SOAK) && f.get(RATE, 0.0) <= 0) {
            throw new UsageException("--soak needs --rate EPS");
        }
        Path naiveModel = f.get(NAIVE_MODEL);
        if (naiveModel == null && benchModel) {
            naiveModel = Main.underHome(BENCH_NAIVE_MODEL);
        }
        if (naiveModel != null) {
            checkNaiveModel(
                    naiveModel,
                    Path.of(jobOptions.getOrDefault("model", JobOptions.MODEL.defaultValue())));
        }
        BenchSettings settings =
                new BenchSettings(
                        f.get(EVENTS),
                        source,
                        f.get(FORMAT),
                        f.get(USERS),
                        f.get(SEED),
                        f.get(PADDING),
                        f.get(BASELINES),
                        f.get(WARMUP),
                        naiveModel,
                        f.get(REPEAT),
                        f.get(SOAK),
                        f.get(RATE, 0.0),
                        f.get(SWAP),
                        f.get(HISTORY));
        return new Benchmark(settings, jobOptions).run();
    }

    /** The naive phase must run the served model's weights, exported with the full graph. */
    static void checkNaiveModel(Path dir, Path servedDir) {
        ModelArtifact served = ModelArtifact.load(servedDir);
        ModelArtifact naive = ModelArtifact.load(dir);
        if (naive.maxLen() != served.maxLen()
                || naive.numItems() != served.numItems()
                || !naive.modelVersion().equals(served.modelVersion())) {
            throw new UsageException(
                    "--naive-model "
                            + dir
                            + " is "
                            + naive.modelVersion()
                            + "; it must be the served model ("
                            + served.modelVersion()
                            + ") exported with --graph full");
        }
    }
}
