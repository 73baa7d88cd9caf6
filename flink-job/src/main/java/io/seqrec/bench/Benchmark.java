package io.seqrec.bench;

import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.config.JobConfig;
import io.seqrec.launch.WorkDir;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.ModelArtifact;
import io.seqrec.pipeline.RecommendOptions;
import io.seqrec.registry.LiveReport;
import io.seqrec.registry.ModelRegistry;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code seqrec bench}: end-to-end throughput and latency on this machine, against the ceiling and
 * two baselines, in one run. An in-process KRaft broker and the job on a local Flink (RocksDB
 * state) with the given model; the same events (real sequences replayed from a file, users
 * interleaved, or the synthetic generator) are sent through each phase on fresh topics and fresh
 * state ({@link PhaseRunner}):
 *
 * <ol>
 *   <li>{@code batched-max}: the job as configured, producer at maximum rate: the throughput;
 *   <li>{@code batched-50%}: the same at half that rate: event-to-recommendation latency;
 *   <li>{@code unbatched-max}: batch size 1, no batch timeout;
 *   <li>{@code unbatched-50%}: batch size 1 at the offered load of phase 2, for its p99;
 *   <li>{@code naive-max}: one inference per event with every sequence padded to the model's
 *       max_len, as published Flink inference demos do, with the textbook graph (every position
 *       through every block) given as {@code --naive-model};
 *   <li>{@code bare}: the model step alone ({@link BareInference}), the ceiling;
 *   <li>with {@code --swap}, {@code swap-50%}: the batched job at the load of phase 2 serving a
 *       model registry (polled every second) in which, halfway through the events, a second copy of
 *       the model becomes the version every user gets: each subtask fetches, loads, verifies and
 *       warms it up and switches between two batches. Reported: the phase, and the latency of the
 *       events sent in the 5 s after the pointer changed.
 * </ol>
 *
 * The last line is the {@code SUMMARY}. With {@code repeat} N every phase (and the bare run) runs N
 * times and the summary takes each figure's median: single runs here vary by 10-15 %. With {@code
 * soak} only the batched job runs, at a fixed rate, for that long.
 */
public final class Benchmark {
    /**
     * The default warm-up: all of the run's events, at most this many. The process hosts the
     * broker, the Kafka clients, Flink and the model: its JIT compilers are busy for tens of
     * seconds after start (a third of both cores in the first phase), so without a warm-up the
     * first phase measures the JVM's warm-up rather than the pipeline. A job on a cluster runs for
     * days.
     */
    private static final int DEFAULT_WARMUP_CAP = 100_000;

    private final BenchSettings settings;
    private final Map<String, String> jobOptions;
    private final JobConfig probe;
    private final ModelArtifact artifact;

    /**
     * @param jobOptions the job options given (model, parallelism, batching, ...), by name
     */
    public Benchmark(BenchSettings settings, Map<String, String> jobOptions) {
        this.settings = settings;
        this.jobOptions = new LinkedHashMap<>(jobOptions);
        this.jobOptions.putIfAbsent("parallelism", Integer.toString(PhaseRunner.PARTITIONS));
        // Replaced by the embedded broker's address once it runs; the configuration is complete
        // (and checked) before anything starts.
        Map<String, String> check = new LinkedHashMap<>(this.jobOptions);
        check.putIfAbsent("bootstrap-servers", "127.0.0.1:9");
        this.probe = JobConfig.fromMap(check);
        this.artifact = ModelArtifact.load(probe.modelDir());
    }

    /** Runs the benchmark (or the soak); returns the exit status: 0 if every event was answered. */
    public int run() throws Exception {
        BenchEvents.Workload workload = BenchEvents.load(settings, artifact, probe.maxHistory());
        List<BenchEvent> events = workload.measured();
        RecommendOptions configured = RecommendOptions.from(probe);
        RecommendOptions batched =
                configured.withBatching(
                        configured.batchSize(), configured.batchTimeoutMs(), settings.padding());
        printSetup(events, batched);
        if (settings.soak() != null) {
            return soak(batched, workload);
        }
        List<Phase> phases = new ArrayList<>();
        PhaseRunner.Measured swap = null;
        try (WorkDir work = WorkDir.create("seqrec-bench-");
                EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
            PhaseRunner runner = new PhaseRunner(withBroker(broker, work), workload.history());
            warmUp(runner, batched, events);
            phases.add(repeated(runner, 1, "batched-max", 0, batched, null, events));
            double half = phases.get(0).throughputEps() / 2;
            phases.add(repeated(runner, 2, "batched-50%", half, batched, null, events));
            if (settings.swap()) {
                swap = swapPhase(runner, work, half, batched, events);
            }
            if (settings.baselines()) {
                RecommendOptions unbatched = batched.withBatching(1, 0, batched.padding());
                RecommendOptions naive = batched.withBatching(1, 0, BatchScorer.Padding.FULL);
                phases.add(repeated(runner, 3, "unbatched-max", 0, unbatched, null, events));
                phases.add(repeated(runner, 4, "unbatched-50%", half, unbatched, null, events));
                phases.add(
                        repeated(
                                runner, 5, "naive-max", 0, naive, naiveModel().toString(), events));
            }
        }
        if (swap != null) {
            phases.add(swap.phase());
        }
        if (!settings.baselines()) {
            BenchReport.printPhases(phases, settings.repeat());
            if (swap != null) {
                System.out.println(BenchReport.swapSummary(swap));
            }
            return allReceived(phases, events.size()) ? 0 : 1;
        }
        System.out.println("bare inference (no Kafka, no Flink), same sequences and batch policy");
        double[] bareRuns = new double[settings.repeat()];
        double[] bareCpu = new double[settings.repeat()];
        for (int r = 0; r < settings.repeat(); r++) {
            BareInference.Result bareRun =
                    BareInference.run(
                            artifact, workload.history(), events, batched, probe.parallelism());
            bareRuns[r] = bareRun.eventsPerSecond();
            bareCpu[r] = bareRun.cpuMicrosPerEvent();
            System.out.printf(
                    Locale.ROOT,
                    "  %.1f events/s, %.0f us CPU/event%n",
                    bareRun.eventsPerSecond(),
                    bareRun.cpuMicrosPerEvent());
        }
        BenchReport.printPhases(phases, settings.repeat());
        System.out.println(
                BenchReport.summary(phases, Phase.median(bareRuns), Phase.median(bareCpu))
                        + (swap == null ? "" : " " + BenchReport.swapFields(swap)));
        return allReceived(phases, events.size()) ? 0 : 1;
    }

    private void printSetup(List<BenchEvent> events, RecommendOptions batched) {
        System.out.printf(
                Locale.ROOT,
                "model %s: %d items, max_len %d; %d events from %d users; parallelism %d,"
                        + " batch %d / %d ms, %d ORT thread(s) per subtask, %s%n",
                artifact.modelVersion(),
                artifact.numItems(),
                artifact.maxLen(),
                events.size(),
                events.stream().map(BenchEvent::userId).distinct().count(),
                probe.parallelism(),
                batched.batchSize(),
                batched.batchTimeoutMs(),
                batched.inferenceThreads(),
                probe.deliveryGuarantee().toString().toLowerCase(Locale.ROOT).replace('_', '-'));
        System.out.println(
                "JVM: "
                        + Runtime.version()
                        + " "
                        + String.join(
                                " ",
                                ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                                        .filter(a -> a.startsWith("-XX:") || a.startsWith("-Xm"))
                                        .toList()));
    }

    private Map<String, String> withBroker(EmbeddedKafkaBroker broker, WorkDir work) {
        Map<String, String> raw = new LinkedHashMap<>(jobOptions);
        raw.put("bootstrap-servers", broker.bootstrapServers());
        raw.putIfAbsent("starting-offsets", "earliest");
        raw.putIfAbsent("checkpoint-dir", work.resolve("checkpoints").toUri().toString());
        return raw;
    }

    /**
     * The naive phase's model: the served model's weights exported with the textbook graph (every
     * position through every block, as published demos and the reference SASRec predict), or else
     * the served model itself, which already computes only the last position in its last block, so
     * the naive phase then understates the naive pipeline's cost.
     */
    private Path naiveModel() {
        if (settings.naiveModel() == null) {
            System.out.println(
                    "naive: the served graph padded to max_len (no --naive-model; this understates"
                            + " the naive pipeline's cost)");
            return artifact.dir();
        }
        System.out.println("naive: " + settings.naiveModel() + " (same weights, full graph)");
        return settings.naiveModel();
    }

    /** An unmeasured run over the warm-up events at maximum rate; its result is discarded. */
    private void warmUp(PhaseRunner runner, RecommendOptions options, List<BenchEvent> events)
            throws Exception {
        long n =
                settings.warmup() != null
                        ? settings.warmup()
                        : Math.min(events.size(), DEFAULT_WARMUP_CAP);
        if (n == 0) {
            return;
        }
        List<BenchEvent> warm = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            warm.add(events.get(i % events.size()));
        }
        runner.withoutHistory().run(0, "warm-up", 0, options, null, warm);
    }

    /**
     * Runs a phase {@code repeat} times (fresh topics and state each time) and returns the median
     * of each figure; {@code received} is the smallest count, so a run that lost events shows.
     */
    private Phase repeated(
            PhaseRunner runner,
            int number,
            String name,
            double rate,
            RecommendOptions options,
            String model,
            List<BenchEvent> events)
            throws Exception {
        List<Phase> runs = new ArrayList<>();
        for (int r = 0; r < settings.repeat(); r++) {
            runs.add(runner.run(number + 10 * r, name, rate, options, model, events));
        }
        return Phase.median(runs);
    }

    /**
     * The swap phase, {@code repeat} times, each on a fresh registry holding the served artifact as
     * {@code v1} (stable) and {@code v2}; halfway, {@code v2} becomes the canary for every user.
     * The copies are published before the phase starts: publishing runs the model on its reference
     * vectors, which would otherwise compete with the phase for the CPU.
     */
    private PhaseRunner.Measured swapPhase(
            PhaseRunner runner,
            WorkDir work,
            double rate,
            RecommendOptions options,
            List<BenchEvent> events)
            throws Exception {
        List<PhaseRunner.Measured> runs = new ArrayList<>();
        for (int r = 0; r < settings.repeat(); r++) {
            ModelRegistry registry = ModelRegistry.open(work.resolve("registry-" + r).toString());
            registry.publish(artifact.dir(), "v1");
            registry.publish(artifact.dir(), "v2");
            Map<String, String> extra =
                    Map.of(
                            "model-registry",
                            registry.uri().toString(),
                            "model-poll-interval",
                            "1s");
            runs.add(
                    runner.run(
                            6 + 10 * r,
                            "swap-50%",
                            rate,
                            options,
                            extra,
                            () -> registry.canary("v2", 100),
                            events));
            // Which version answered, by the job's own live reports (checks per version).
            Map<String, Long> checks = new java.util.TreeMap<>();
            for (LiveReport report : registry.liveReports()) {
                report.versions().forEach((v, t) -> checks.merge(v, t.evaluated(), Long::sum));
            }
            System.out.println("  live checks by version (the job's reports): " + checks);
        }
        return new PhaseRunner.Measured(
                Phase.median(runs.stream().map(PhaseRunner.Measured::phase).toList()),
                Phase.median(
                        runs.stream()
                                .mapToDouble(PhaseRunner.Measured::afterActionP50Ms)
                                .toArray()),
                Phase.median(
                        runs.stream()
                                .mapToDouble(PhaseRunner.Measured::afterActionP99Ms)
                                .toArray()));
    }

    private static boolean allReceived(List<Phase> phases, int events) {
        return phases.stream().allMatch(p -> p.received() >= events);
    }

    /**
     * Only the batched job at a fixed rate for the soak's duration (or until the events run out),
     * with the process's resident memory printed every 30 s.
     */
    private int soak(RecommendOptions batched, BenchEvents.Workload workload) throws Exception {
        List<BenchEvent> events = workload.measured();
        double rate = settings.rate();
        int n = (int) Math.min(events.size(), rate * settings.soak().toSeconds());
        if (n < events.size()) {
            events = events.subList(0, n);
        }
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler = memorySampler(done);
        try (WorkDir work = WorkDir.create("seqrec-bench-");
                EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
            PhaseRunner runner = new PhaseRunner(withBroker(broker, work), workload.history());
            // Without it the first 10 s (a sixtieth of a 10-minute run, more than its 1 % tail)
            // measure the JIT, and with them the whole run's p99.
            warmUp(runner, batched, events);
            Phase p = runner.run(1, "soak", rate, batched, null, events);
            System.out.printf(
                    Locale.ROOT,
                    "SOAK events=%d rate=%.0f latency_p50_ms=%.1f latency_p99_ms=%.1f"
                            + " rss_mb=%d%n",
                    p.received(),
                    rate,
                    p.p50Ms(),
                    p.p99Ms(),
                    residentMegabytes());
            return p.received() < events.size() ? 1 : 0;
        } finally {
            done.set(true);
            sampler.interrupt();
        }
    }

    private static Thread memorySampler(AtomicBoolean done) {
        long start = System.currentTimeMillis();
        Thread sampler =
                new Thread(
                        () -> {
                            while (!done.get()) {
                                System.out.printf(
                                        Locale.ROOT,
                                        "rss t=%ds rss_mb=%d heap_used_mb=%d%n",
                                        (System.currentTimeMillis() - start) / 1000,
                                        residentMegabytes(),
                                        (Runtime.getRuntime().totalMemory()
                                                        - Runtime.getRuntime().freeMemory())
                                                >> 20);
                                try {
                                    Thread.sleep(30_000);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        },
                        "bench-rss");
        sampler.setDaemon(true);
        sampler.start();
        return sampler;
    }

    /** VmRSS of this process from /proc, or -1 where there is none. */
    private static long residentMegabytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }
}
