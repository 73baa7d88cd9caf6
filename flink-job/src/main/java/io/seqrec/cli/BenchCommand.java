package io.seqrec.cli;

import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.config.JobConfig;
import io.seqrec.config.Values;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.ModelArtifact;
import io.seqrec.pipeline.JobEnvironment;
import io.seqrec.pipeline.RecommendOptions;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * {@code seqrec bench}: end-to-end throughput and latency on this machine, against the ceiling and
 * two baselines, in one run. An in-process KRaft broker and the job on a local Flink (RocksDB
 * state) with the given model; the same events (real sequences replayed from a file, users
 * interleaved, or the synthetic generator) are sent through each phase on fresh topics and fresh
 * state:
 *
 * <ol>
 *   <li>{@code batched-max}: the job as configured, producer at maximum rate: the throughput;
 *   <li>{@code batched-50%}: the same at half that rate: event-to-recommendation latency;
 *   <li>{@code unbatched-max}: batch size 1, no batch timeout;
 *   <li>{@code unbatched-50%}: batch size 1 at the offered load of phase 2, for its p99;
 *   <li>{@code naive-max}: one inference per event with every sequence padded to the model's
 *       max_len, as published Flink inference demos do, with the textbook graph (every position
 *       through every block) given as {@code --naive-model};
 *   <li>{@code bare}: the model step alone ({@link BareInference}), the ceiling.
 * </ol>
 *
 * Latency runs from just before the producer's send to the consumer's receipt of the recommendation
 * (one JVM, one clock). Throughput counts the recommendations after the first 10 % (JIT and model
 * warm-up) over the span of their {@code emitted_ts}: the job's emit times, so that exactly-once
 * output, visible only when a checkpoint completes, measures the job rather than the commits. The
 * last line is the {@code SUMMARY}. With {@code --repeat N} every phase (and the bare run) runs N
 * times and the summary takes each figure's median: single runs here vary by 10-15 %.
 */
final class BenchCommand {
    private static final int PARTITIONS = 2;
    private static final String ML_1M = "../shared/data/ml-1m/sequences.txt";
    private static final long STALL_MS = 60_000;

    /** One input event of the run. */
    record Event(String userId, String itemId) {}

    /** What one phase measured. */
    record Phase(
            String name,
            double offeredEps,
            long received,
            double throughputEps,
            double p50Ms,
            double p99Ms,
            double cpuMicrosPerEvent) {}

    /** CPU time of this whole process (job, broker, producer, consumer), in nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    int run(String[] args) throws Exception {
        Flags f =
                new Flags(
                        args,
                        Set.of(
                                "events",
                                "source",
                                "format",
                                "users",
                                "seed",
                                "soak",
                                "rate",
                                "padding",
                                "baselines",
                                "warmup",
                                "naive-model",
                                "repeat"));
        long eventCount = f.longValue("events", 100_000, 100);
        long seed = f.longValue("seed", 42, Long.MIN_VALUE);
        Map<String, String> raw = new LinkedHashMap<>(f.rest());
        Main.defaultModel(raw);
        raw.putIfAbsent("parallelism", Integer.toString(PARTITIONS));
        raw.putIfAbsent("bootstrap-servers", "127.0.0.1:9");
        JobConfig probe = JobConfig.fromMap(raw);
        ModelArtifact artifact = ModelArtifact.load(probe.modelDir());

        List<Event> events = events(f, eventCount, seed, artifact);
        RecommendOptions configured = RecommendOptions.from(probe);
        RecommendOptions batched =
                configured.withBatching(
                        configured.batchSize(),
                        configured.batchTimeoutMs(),
                        BatchScorer.Padding.valueOf(
                                f.string("padding", "bucketed").toUpperCase(Locale.ROOT)));
        boolean baselines = Boolean.parseBoolean(f.string("baselines", "true"));
        int repeat = (int) f.longValue("repeat", 1, 1);
        RecommendOptions unbatched = batched.withBatching(1, 0, batched.padding());
        RecommendOptions naive = batched.withBatching(1, 0, BatchScorer.Padding.FULL);
        System.out.printf(
                Locale.ROOT,
                "model %s: %d items, max_len %d; %d events from %d users; parallelism %d,"
                        + " batch %d / %d ms, %d ORT thread(s) per subtask, %s%n",
                artifact.modelVersion(),
                artifact.numItems(),
                artifact.maxLen(),
                events.size(),
                events.stream().map(Event::userId).distinct().count(),
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
        if (f.string("soak", null) != null) {
            return soak(f, batched, raw, events);
        }

        Path naiveModel = naiveModel(f, artifact);
        Path work = Files.createTempDirectory("seqrec-bench-");
        List<Phase> phases = new ArrayList<>();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
            raw.put("bootstrap-servers", broker.bootstrapServers());
            raw.putIfAbsent("starting-offsets", "earliest");
            raw.putIfAbsent("checkpoint-dir", work.resolve("checkpoints").toUri().toString());
            warmUp(f, batched, raw, events, work);
            phases.add(repeatedPhase(repeat, 1, "batched-max", 0, batched, raw, events, work));
            double half = phases.get(0).throughputEps() / 2;
            phases.add(repeatedPhase(repeat, 2, "batched-50%", half, batched, raw, events, work));
            if (!baselines) {
                printPhases(phases, repeat);
                return allReceived(phases, events.size()) ? 0 : 1;
            }
            phases.add(repeatedPhase(repeat, 3, "unbatched-max", 0, unbatched, raw, events, work));
            phases.add(
                    repeatedPhase(repeat, 4, "unbatched-50%", half, unbatched, raw, events, work));
            Map<String, String> naiveRaw = new LinkedHashMap<>(raw);
            naiveRaw.put("model", naiveModel.toString());
            phases.add(repeatedPhase(repeat, 5, "naive-max", 0, naive, naiveRaw, events, work));
        } finally {
            DemoCommand.deleteRecursively(work);
        }
        System.out.println("bare inference (no Kafka, no Flink), same sequences and batch policy");
        double[] bareRuns = new double[repeat];
        for (int r = 0; r < repeat; r++) {
            BareInference.Result bareRun =
                    BareInference.run(artifact, events, batched, probe.parallelism());
            bareRuns[r] = bareRun.eventsPerSecond();
            System.out.printf(
                    Locale.ROOT,
                    "  %.1f events/s, %.0f us CPU/event%n",
                    bareRun.eventsPerSecond(),
                    bareRun.cpuMicrosPerEvent());
        }
        double bare = median(bareRuns);

        printPhases(phases, repeat);
        Phase max = phases.get(0);
        Phase at50 = phases.get(1);
        double unbatchedEps = phases.get(2).throughputEps();
        double naiveEps = phases.get(4).throughputEps();
        System.out.println(
                String.format(
                        Locale.ROOT,
                        "SUMMARY throughput_eps=%.1f latency_p50_ms=%.1f latency_p99_ms=%.1f"
                                + " bare_inference_eps=%.1f pipeline_vs_bare=%.3f"
                                + " unbatched_eps=%.1f batched_vs_unbatched=%.3f naive_eps=%.1f"
                                + " speedup_vs_naive=%.3f",
                        max.throughputEps(),
                        at50.p50Ms(),
                        at50.p99Ms(),
                        bare,
                        max.throughputEps() / bare,
                        unbatchedEps,
                        max.throughputEps() / unbatchedEps,
                        naiveEps,
                        max.throughputEps() / naiveEps));
        return allReceived(phases, events.size()) ? 0 : 1;
    }

    /**
     * The naive phase's model: {@code --naive-model DIR}, the same weights exported with the
     * textbook graph ({@code python -m seqrec_model export ... --graph full}: every position
     * through every block, as published demos and the reference SASRec predict), or else the served
     * model itself, which already computes only the last position in its last block, so the naive
     * phase then understates the naive pipeline's cost.
     */
    private static Path naiveModel(Flags f, ModelArtifact served) {
        String dir = f.string("naive-model", null);
        if (dir == null) {
            System.out.println(
                    "naive: the served graph padded to max_len (no --naive-model; this understates"
                            + " the naive pipeline's cost)");
            return served.dir();
        }
        ModelArtifact naive = ModelArtifact.load(Path.of(dir));
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
        System.out.println("naive: " + naive.dir() + " (same weights, full graph)");
        return naive.dir();
    }

    private static final int DEFAULT_WARMUP_CAP = 100_000;

    /**
     * Runs the job over {@code --warmup} events (default: all of them, at most {@value
     * #DEFAULT_WARMUP_CAP}) at maximum rate before anything is measured, and discards the result.
     * The process hosts the broker, the Kafka clients, Flink and the model: its JIT compilers are
     * busy for tens of seconds after start (a third of both cores in the first phase), so without
     * this the first phase measures the JVM's warm-up rather than the pipeline. A job on a cluster
     * runs for days.
     */
    private static void warmUp(
            Flags f,
            RecommendOptions options,
            Map<String, String> raw,
            List<Event> events,
            Path work)
            throws Exception {
        long n = f.longValue("warmup", Math.min(events.size(), DEFAULT_WARMUP_CAP), 0);
        if (n == 0) {
            return;
        }
        List<Event> warm = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            warm.add(events.get(i % events.size()));
        }
        phase(0, "warm-up", 0, options, raw, warm, work);
    }

    private static boolean allReceived(List<Phase> phases, int events) {
        return phases.stream().allMatch(p -> p.received() >= events);
    }

    /**
     * Runs a phase {@code repeat} times (fresh topics and state each time) and returns the median
     * of each figure; {@code received} is the smallest count, so a run that lost events shows.
     */
    private static Phase repeatedPhase(
            int repeat,
            int number,
            String name,
            double rate,
            RecommendOptions options,
            Map<String, String> raw,
            List<Event> events,
            Path work)
            throws Exception {
        List<Phase> runs = new ArrayList<>();
        for (int r = 0; r < repeat; r++) {
            runs.add(phase(number + 10 * r, name, rate, options, raw, events, work));
        }
        return median(runs);
    }

    /** Each figure's median over {@code runs} of one phase, and their smallest received count. */
    static Phase median(List<Phase> runs) {
        Phase first = runs.get(0);
        return new Phase(
                first.name(),
                first.offeredEps(),
                runs.stream().mapToLong(Phase::received).min().orElse(0),
                median(runs.stream().mapToDouble(Phase::throughputEps).toArray()),
                median(runs.stream().mapToDouble(Phase::p50Ms).toArray()),
                median(runs.stream().mapToDouble(Phase::p99Ms).toArray()),
                median(runs.stream().mapToDouble(Phase::cpuMicrosPerEvent).toArray()));
    }

    /** The median; for an even count the mean of the two middle values. */
    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static void printPhases(List<Phase> phases, int repeat) {
        System.out.println();
        if (repeat > 1) {
            System.out.println("median of " + repeat + " runs of each phase:");
        }
        System.out.printf(
                "%-15s %10s %10s %12s %9s %9s %13s%n",
                "phase",
                "offered/s",
                "received",
                "throughput/s",
                "p50 ms",
                "p99 ms",
                "CPU us/event");
        for (Phase p : phases) {
            System.out.printf(
                    Locale.ROOT,
                    "%-15s %10s %10d %12.1f %9.1f %9.1f %13.0f%n",
                    p.name(),
                    p.offeredEps() == 0
                            ? "max"
                            : String.format(Locale.ROOT, "%.0f", p.offeredEps()),
                    p.received(),
                    p.throughputEps(),
                    p.p50Ms(),
                    p.p99Ms(),
                    p.cpuMicrosPerEvent());
        }
    }

    /**
     * {@code --soak DURATION --rate EPS}: only the batched job at a fixed rate for that long (or
     * until the events run out), printing the process's resident memory every 30 s.
     */
    private static int soak(
            Flags f, RecommendOptions batched, Map<String, String> raw, List<Event> events)
            throws Exception {
        Duration duration = Values.positiveDuration().apply(f.string("soak", null));
        double rate = f.doubleValue("rate", 0, 1, 1e9);
        if (rate == 0) {
            throw new UsageException("--soak needs --rate EPS");
        }
        int n = (int) Math.min(events.size(), rate * duration.toSeconds());
        if (n < events.size()) {
            events = events.subList(0, n);
        }
        Path work = Files.createTempDirectory("seqrec-bench-");
        AtomicBoolean done = new AtomicBoolean();
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
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
            raw.put("bootstrap-servers", broker.bootstrapServers());
            raw.putIfAbsent("starting-offsets", "earliest");
            raw.putIfAbsent("checkpoint-dir", work.resolve("checkpoints").toUri().toString());
            // Without it the first 10 s (a sixtieth of a 10-minute run, more than its 1 % tail)
            // measure the JIT, and with them the whole run's p99.
            warmUp(f, batched, raw, events, work);
            Phase p = phase(1, "soak", rate, batched, raw, events, work);
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
            DemoCommand.deleteRecursively(work);
        }
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

    /**
     * The run's events. Without {@code --source}: the ML-1M sequences if the file is there and the
     * model knows their items, else the synthetic generator.
     */
    private static List<Event> events(Flags f, long count, long seed, ModelArtifact artifact)
            throws Exception {
        String source = f.string("source", null);
        if (source == null) {
            Path ml1m = Path.of(ML_1M);
            String home = System.getProperty("seqrec.home");
            if (!Files.isRegularFile(ml1m) && home != null) {
                ml1m = Path.of(home).resolve(ML_1M);
            }
            if (Files.isRegularFile(ml1m)) {
                List<Event> replay = replay(ml1m, "ml-1m", f, count, seed);
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
            } else {
                System.out.println("source: synthetic (no " + ML_1M + ")");
            }
            return synthetic(f, count, seed);
        }
        if (source.equals("synthetic")) {
            System.out.println("source: synthetic");
            return synthetic(f, count, seed);
        }
        Path file = Path.of(source);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--source '" + source + "': no such file");
        }
        String format = f.string("format", "ml-1m");
        List<Event> replay = replay(file, format, f, count, seed);
        double known = knownFraction(replay, artifact);
        System.out.printf(
                Locale.ROOT,
                "source: %s (%s; the model knows %.0f%% of its items)%n",
                file,
                format,
                100 * known);
        return replay;
    }

    /**
     * Users replayed {@linkplain ReplaySource#staggered staggered}: {@code --users} of them active
     * at a time (default 200), each for at most {@value #HISTORY_CAP} events (about the median
     * ML-1M history), so the mix of sequence lengths, and with it the model's cost per event, stays
     * the same through the run.
     */
    private static List<Event> replay(Path file, String format, Flags f, long count, long seed)
            throws Exception {
        if (format.equals("events-jsonl")) {
            throw new UsageException("bench replays ml-1m, movielens-csv or pairs files");
        }
        List<ReplaySource.UserSequence> users =
                ReplaySource.read(file, ReplaySource.parseFormat(format));
        int active = (int) Math.min(Integer.MAX_VALUE, f.longValue("users", 200, 1));
        List<Event> out = new ArrayList<>();
        for (ReplaySource.Interaction i :
                ReplaySource.staggered(users, active, HISTORY_CAP, count, seed)) {
            out.add(new Event(i.userId(), i.itemId()));
        }
        return out;
    }

    private static final int HISTORY_CAP = 100;

    private static List<Event> synthetic(Flags f, long count, long seed) {
        int users = (int) f.longValue("users", 500, 1);
        SyntheticBehaviorGenerator g =
                new SyntheticBehaviorGenerator(GeneratorConfig.defaults(users, count, seed));
        List<Event> out = new ArrayList<>();
        while (g.hasNext()) {
            GeneratedRecord r = g.next();
            if (r.valid()) {
                out.add(new Event(r.key(), stringField(r.value(), "item_id")));
            }
        }
        return out;
    }

    private static double knownFraction(List<Event> events, ModelArtifact artifact) {
        Set<String> items = new HashSet<>();
        for (Event e : events) {
            items.add(e.itemId());
        }
        long known = items.stream().filter(i -> artifact.indexOf(i) != 0).count();
        return items.isEmpty() ? 0 : (double) known / items.size();
    }

    /** Runs the job on fresh topics and state, sends every event at {@code rate} (0 = max). */
    private static Phase phase(
            int number,
            String name,
            double rate,
            RecommendOptions options,
            Map<String, String> base,
            List<Event> events,
            Path work)
            throws Exception {
        Map<String, String> raw = new LinkedHashMap<>(base);
        raw.put("input-topic", "bench-" + number + "-in");
        raw.put("output-topic", "bench-" + number + "-out");
        raw.put("dlq-topic", "bench-" + number + "-dlq");
        raw.put("group-id", "bench-" + number);
        raw.put("transactional-id-prefix", "bench-" + number);
        raw.put("job-name", "seqrec-bench-" + name);
        JobConfig config = JobConfig.fromMap(raw);
        Topics.create(config, PARTITIONS);
        System.out.printf(
                Locale.ROOT,
                "phase %s: %s events/s, batch %d, padding %s (%tT)%n",
                name,
                rate == 0 ? "max" : String.format(Locale.ROOT, "%.0f", rate),
                options.batchSize(),
                options.padding().toString().toLowerCase(Locale.ROOT),
                System.currentTimeMillis());

        Configuration conf = JobEnvironment.flinkConfiguration(config);
        conf.set(CoreOptions.TMP_DIRS, work.resolve("flink-" + number).toString());
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(config.parallelism(), conf);
        JobEnvironment.configure(env, config);
        JobLauncher.build(config, env, options);
        JobClient job = env.executeAsync(config.jobName());
        try {
            DemoCommand.awaitRunning(job);
            return measure(name, rate, config, events, job);
        } finally {
            job.cancel().get();
        }
    }

    private static Phase measure(
            String name, double rate, JobConfig config, List<Event> events, JobClient job)
            throws Exception {
        int n = events.size();
        long[] sent = new long[n];
        long[] received = new long[n];
        long[] emitted = new long[n];
        AtomicInteger count = new AtomicInteger();
        AtomicInteger deadLetters = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread consumer =
                new Thread(
                        () -> consume(config, received, emitted, count, deadLetters, stop),
                        "bench-consumer");
        consumer.setDaemon(true);
        consumer.start();
        // Let the consumer join its group before the first recommendation can appear.
        Thread.sleep(1000);
        long cpuStart = processCpuNanos();
        try (EventSender sender =
                new EventSender(
                        config.bootstrapServers(), new Properties(), config.inputTopic(), rate)) {
            for (int i = 0; i < n; i++) {
                Event e = events.get(i);
                String json =
                        "{\"event_id\":\"e"
                                + i
                                + "\",\"user_id\":\""
                                + e.userId()
                                + "\",\"item_id\":\""
                                + e.itemId()
                                + "\",\"event_type\":\"view\",\"ts\":"
                                + System.currentTimeMillis()
                                + "}";
                sent[i] = System.nanoTime();
                sender.send(e.userId(), json);
            }
        }
        int last = -1;
        long lastProgress = System.currentTimeMillis();
        while (count.get() + deadLetters.get() < n
                && System.currentTimeMillis() - lastProgress < STALL_MS
                && !job.getJobStatus().get().isTerminalState()) {
            Thread.sleep(100);
            if (count.get() != last) {
                last = count.get();
                lastProgress = System.currentTimeMillis();
            }
        }
        long cpu = processCpuNanos() - cpuStart;
        stop.set(true);
        consumer.join(5000);
        if (deadLetters.get() > 0) {
            System.out.println("  " + deadLetters.get() + " events dead-lettered");
        }

        if (name.equals("soak")) {
            printLatencyWindows(sent, received, n, 10);
        }
        long[] latencies = new long[count.get()];
        long[] emittedMs = new long[latencies.length];
        int l = 0;
        for (int i = 0; i < n && l < latencies.length; i++) {
            if (received[i] != 0) {
                emittedMs[l] = emitted[i];
                latencies[l++] = received[i] - sent[i];
            }
        }
        Arrays.sort(latencies, 0, l);
        Arrays.sort(emittedMs, 0, l);
        // Throughput by the job's emit times: with exactly-once output, records become visible
        // only at checkpoint completion, in bursts, so receipt times would measure the commits.
        double throughput = 0;
        if (l >= 10) {
            int from = l / 10;
            double seconds = (emittedMs[l - 1] - emittedMs[from]) / 1e3;
            throughput = seconds > 0 ? (l - 1 - from) / seconds : 0;
        }
        Phase p =
                new Phase(
                        name,
                        rate,
                        l,
                        throughput,
                        percentile(Arrays.copyOf(latencies, l), 0.50) / 1e6,
                        percentile(Arrays.copyOf(latencies, l), 0.99) / 1e6,
                        l == 0 ? 0 : cpu / 1e3 / l);
        System.out.printf(
                Locale.ROOT,
                "  received %d/%d, %.1f events/s, latency p50 %.1f ms, p99 %.1f ms,"
                        + " %.0f us CPU/event%n",
                p.received(),
                n,
                p.throughputEps(),
                p.p50Ms(),
                p.p99Ms(),
                p.cpuMicrosPerEvent());
        return p;
    }

    /**
     * Latency percentiles per window of {@code seconds} by send time, so that a long run's tail can
     * be matched with what happened when (checkpoints, compactions, GC in the logs).
     */
    private static void printLatencyWindows(long[] sent, long[] received, int n, int seconds) {
        long window = seconds * 1_000_000_000L;
        int from = 0;
        while (from < n) {
            long end = sent[from] + window;
            int to = from;
            while (to < n && sent[to] < end) {
                to++;
            }
            long[] w = new long[to - from];
            int m = 0;
            for (int i = from; i < to; i++) {
                if (received[i] != 0) {
                    w[m++] = received[i] - sent[i];
                }
            }
            Arrays.sort(w, 0, m);
            long[] got = Arrays.copyOf(w, m);
            System.out.printf(
                    Locale.ROOT,
                    "latency t=%ds events=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f%n",
                    (sent[from] - sent[0]) / 1_000_000_000L,
                    to - from,
                    percentile(got, 0.50) / 1e6,
                    percentile(got, 0.99) / 1e6,
                    m == 0 ? 0 : got[m - 1] / 1e6);
            from = to;
        }
    }

    private static void consume(
            JobConfig config,
            long[] received,
            long[] emitted,
            AtomicInteger count,
            AtomicInteger deadLetters,
            AtomicBoolean stop) {
        try (KafkaConsumer<byte[], byte[]> c =
                DemoCommand.outputConsumer(config, config.groupId() + "-consumer")) {
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> record : c.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    if (record.topic().equals(config.dlqTopic())) {
                        deadLetters.incrementAndGet();
                        continue;
                    }
                    int i = (int) numberAfter(record.value(), EVENT_ID_KEY);
                    if (i >= 0 && i < received.length && received[i] == 0) {
                        received[i] = now;
                        emitted[i] = numberAfter(record.value(), EMITTED_KEY);
                        count.incrementAndGet();
                    }
                }
            }
        }
    }

    private static final byte[] EVENT_ID_KEY =
            "\"event_id\":\"e".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EMITTED_KEY = "\"emitted_ts\":".getBytes(StandardCharsets.US_ASCII);

    /**
     * The whole number right after {@code key} in a recommendation's JSON (the {@code N} of {@code
     * "event_id":"eN"}, or {@code emitted_ts}), without parsing it all; -1 if absent.
     */
    static long numberAfter(byte[] json, byte[] key) {
        outer:
        for (int at = 0; at + key.length < json.length; at++) {
            for (int j = 0; j < key.length; j++) {
                if (json[at + j] != key[j]) {
                    continue outer;
                }
            }
            long v = 0;
            int i = at + key.length;
            int start = i;
            for (; i < json.length && json[i] >= '0' && json[i] <= '9'; i++) {
                v = v * 10 + (json[i] - '0');
            }
            return i > start ? v : -1;
        }
        return -1;
    }

    private static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static String stringField(String json, String name) {
        String key = "\"" + name + "\":\"";
        int at = json.indexOf(key) + key.length();
        return json.substring(at, json.indexOf('"', at));
    }
}
