package io.seqrec.bench;

import io.seqrec.config.JobConfig;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.kafka.EventSender;
import io.seqrec.kafka.Topics;
import io.seqrec.launch.LocalJob;
import io.seqrec.pipeline.RecommendOptions;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Runs one phase: the job on fresh topics and fresh state, every event sent at a rate (0 = as fast
 * as the broker takes them), and what came out measured.
 *
 * <p>Latency runs from just before the producer's send to the consumer's receipt of the
 * recommendation (one JVM, one clock). Throughput counts the recommendations after the first 10 %
 * (JIT and model warm-up) over the span of their {@code emitted_ts}: the job's emit times, so that
 * exactly-once output, visible only when a checkpoint completes, measures the job rather than the
 * commits.
 */
final class PhaseRunner {
    static final int PARTITIONS = 2;

    /** The client id of the bench's producer, so that its thread is told from the job's sink's. */
    static final String BENCH_PRODUCER_ID = "bench-producer";

    private static final long STALL_MS = 60_000;

    private final Map<String, String> base;
    private final List<BenchEvent> history;

    /**
     * @param base the job options every phase shares (broker, model, checkpoint directory)
     * @param history events streamed through each phase's job before its measured events, and not
     *     measured (users' earlier histories); empty for none
     */
    PhaseRunner(Map<String, String> base, List<BenchEvent> history) {
        this.base = base;
        this.history = history;
    }

    /** The same phases without the unmeasured history (the JIT warm-up needs none). */
    PhaseRunner withoutHistory() {
        return new PhaseRunner(base, List.of());
    }

    /**
     * @param number distinguishes the phase's topics, group and scratch directory from others'
     * @param model another model directory for this phase, or {@code null}
     */
    Phase run(
            int number,
            String name,
            double rate,
            RecommendOptions options,
            String model,
            List<BenchEvent> events)
            throws Exception {
        Map<String, String> extra = model == null ? Map.of() : Map.of("model", model);
        return run(number, name, rate, options, extra, null, events).phase();
    }

    /**
     * What a phase with an action halfway measured: the whole phase, and the latency of the events
     * sent in the {@link #AFTER_ACTION_NANOS} after the action.
     */
    record Measured(Phase phase, double afterActionP50Ms, double afterActionP99Ms) {}

    /** The span after a phase's halfway action whose latency is reported on its own. */
    static final long AFTER_ACTION_NANOS = 5_000_000_000L;

    /**
     * @param extra job options of this phase only (e.g. another model, a model registry)
     * @param halfway run on the sending thread once half of the events are sent, or {@code null}
     */
    Measured run(
            int number,
            String name,
            double rate,
            RecommendOptions options,
            Map<String, String> extra,
            Runnable halfway,
            List<BenchEvent> events)
            throws Exception {
        Map<String, String> raw = new LinkedHashMap<>(base);
        raw.putAll(extra);
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
        LocalJob job = LocalJob.start(config, options);
        try {
            return measure(name, rate, config, history, events, job, halfway);
        } finally {
            job.cancel();
        }
    }

    private static Measured measure(
            String name,
            double rate,
            JobConfig config,
            List<BenchEvent> history,
            List<BenchEvent> events,
            LocalJob job,
            Runnable halfway)
            throws Exception {
        int n = events.size();
        long[] sent = new long[n];
        long actionAt = 0;
        long cpu;
        ThreadCpu.Account byOwner;
        OutputProbe probe = new OutputProbe(config, n);
        try (probe) {
            streamHistory(config, history, probe, job);
            long cpuStart = processCpuNanos();
            ThreadCpu.Snapshot threadsAtStart = ThreadCpu.take();
            Properties producer = new Properties();
            producer.put(ProducerConfig.CLIENT_ID_CONFIG, BENCH_PRODUCER_ID);
            try (EventSender sender =
                    new EventSender(
                            config.bootstrapServers(), producer, config.inputTopic(), rate)) {
                for (int i = 0; i < n; i++) {
                    if (halfway != null && i == n / 2) {
                        actionAt = System.nanoTime();
                        halfway.run();
                        System.out.printf(
                                Locale.ROOT,
                                "  halfway action done at t=%.1fs (%d ms)%n",
                                (actionAt - sent[0]) / 1e9,
                                (System.nanoTime() - actionAt) / 1_000_000);
                    }
                    BenchEvent e = events.get(i);
                    String json =
                            EventCodec.toJson(
                                    new InputEvent(
                                            "e" + i,
                                            e.userId(),
                                            e.itemId(),
                                            EventType.VIEW,
                                            System.currentTimeMillis()));
                    sent[i] = System.nanoTime();
                    sender.send(e.userId(), json);
                }
                // The producer stays open until the CPU is counted: a closed producer's thread
                // ends, and the kernel's count of its CPU with it.
                awaitOutput(probe, n, job);
                cpu = processCpuNanos() - cpuStart;
                ThreadCpu.Snapshot threadsAtEnd = ThreadCpu.take();
                byOwner = ThreadCpu.between(threadsAtStart, threadsAtEnd);
                printOwners(byOwner, threadsAtStart, threadsAtEnd, probe.recommendations());
            }
        }
        if (probe.deadLetters() > 0) {
            System.out.println("  " + probe.deadLetters() + " events dead-lettered");
        }
        if (name.equals("soak")) {
            printLatencyWindows(sent, probe.received, 10);
        }
        double afterP50 = 0;
        double afterP99 = 0;
        if (halfway != null) {
            printLatencyWindows(sent, probe.received, 2);
            long[] after = new long[n];
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (sent[i] >= actionAt
                        && sent[i] < actionAt + AFTER_ACTION_NANOS
                        && probe.received[i] != 0) {
                    after[m++] = probe.received[i] - sent[i];
                }
            }
            after = Arrays.copyOf(after, m);
            Arrays.sort(after);
            afterP50 = LatencyStats.percentile(after, 0.50) / 1e6;
            afterP99 = LatencyStats.percentile(after, 0.99) / 1e6;
            System.out.printf(
                    Locale.ROOT,
                    "  the %d s after the halfway action: %d events, latency p50 %.1f ms,"
                            + " p99 %.1f ms%n",
                    AFTER_ACTION_NANOS / 1_000_000_000L,
                    m,
                    afterP50,
                    afterP99);
        }

        long[] latencies = new long[n];
        long[] emittedMs = new long[n];
        int l = 0;
        for (int i = 0; i < n; i++) {
            if (probe.received[i] != 0) {
                emittedMs[l] = probe.emitted[i];
                latencies[l++] = probe.received[i] - sent[i];
            }
        }
        latencies = Arrays.copyOf(latencies, l);
        emittedMs = Arrays.copyOf(emittedMs, l);
        Arrays.sort(latencies);
        Arrays.sort(emittedMs);
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
                        LatencyStats.percentile(latencies, 0.50) / 1e6,
                        LatencyStats.percentile(latencies, 0.99) / 1e6,
                        l == 0 ? 0 : cpu / 1e3 / l,
                        l == 0 ? 0 : byOwner.jobWithShareOfJvm() / 1e3 / l);
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
        return new Measured(p, afterP50, afterP99);
    }

    /**
     * Latency percentiles per window of {@code seconds} by send time, so that a long run's tail can
     * be matched with what happened when (checkpoints, compactions, GC in the logs).
     */
    private static void printLatencyWindows(long[] sent, long[] received, int seconds) {
        int n = sent.length;
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
            long[] got = Arrays.copyOf(w, m);
            Arrays.sort(got);
            System.out.printf(
                    Locale.ROOT,
                    "latency t=%ds events=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f%n",
                    (sent[from] - sent[0]) / 1_000_000_000L,
                    to - from,
                    LatencyStats.percentile(got, 0.50) / 1e6,
                    LatencyStats.percentile(got, 0.99) / 1e6,
                    m == 0 ? 0 : got[m - 1] / 1e6);
            from = to;
        }
    }

    /**
     * Sends the users' earlier events as fast as the broker takes them and waits until the job has
     * answered them all: the measured events then meet full histories.
     */
    private static void streamHistory(
            JobConfig config, List<BenchEvent> history, OutputProbe probe, LocalJob job)
            throws Exception {
        if (history.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        Properties producer = new Properties();
        producer.put(ProducerConfig.CLIENT_ID_CONFIG, BENCH_PRODUCER_ID);
        try (EventSender sender =
                new EventSender(config.bootstrapServers(), producer, config.inputTopic(), 0)) {
            long ts = System.currentTimeMillis() - history.size();
            for (int i = 0; i < history.size(); i++) {
                BenchEvent e = history.get(i);
                sender.send(
                        e.userId(),
                        EventCodec.toJson(
                                new InputEvent(
                                        "h" + i, e.userId(), e.itemId(), EventType.VIEW, ts + i)));
            }
        }
        int last = -1;
        long lastProgress = System.currentTimeMillis();
        while (probe.unmeasured() + probe.deadLetters() < history.size()
                && System.currentTimeMillis() - lastProgress < STALL_MS
                && !job.ended()) {
            Thread.sleep(100);
            if (probe.unmeasured() != last) {
                last = probe.unmeasured();
                lastProgress = System.currentTimeMillis();
            }
        }
        if (probe.unmeasured() < history.size()) {
            throw new IllegalStateException(
                    "the history was not answered: "
                            + probe.unmeasured()
                            + " of "
                            + history.size()
                            + " events");
        }
        System.out.printf(
                Locale.ROOT,
                "  history: %d events answered in %.1f s (unmeasured)%n",
                history.size(),
                (System.nanoTime() - start) / 1e9);
    }

    /** Waits until every event is answered, the output stalls for a minute, or the job ends. */
    private static void awaitOutput(OutputProbe probe, int n, LocalJob job) throws Exception {
        int last = -1;
        long lastProgress = System.currentTimeMillis();
        while (probe.recommendations() + probe.deadLetters() < n
                && System.currentTimeMillis() - lastProgress < STALL_MS
                && !job.ended()) {
            Thread.sleep(100);
            if (probe.recommendations() != last) {
                last = probe.recommendations();
                lastProgress = System.currentTimeMillis();
            }
        }
    }

    /**
     * The phase's CPU by owner, per event; the threads nobody owns are named when they are more
     * than a twentieth of the total, so that a thread the classification missed shows.
     */
    private static void printOwners(
            ThreadCpu.Account account,
            ThreadCpu.Snapshot start,
            ThreadCpu.Snapshot end,
            int events) {
        if (events == 0) {
            return;
        }
        StringBuilder line = new StringBuilder("  CPU us/event by owner:");
        for (ThreadCpu.Owner owner : ThreadCpu.Owner.values()) {
            line.append(
                    String.format(
                            Locale.ROOT,
                            " %s %.1f",
                            owner.toString().toLowerCase(Locale.ROOT),
                            account.of(owner) / 1e3 / events));
        }
        line.append(
                String.format(
                        Locale.ROOT,
                        "; job with its share of jvm %.1f",
                        account.jobWithShareOfJvm() / 1e3 / events));
        System.out.println(line);
        if (account.of(ThreadCpu.Owner.OTHER) * 20 > account.total()) {
            System.out.println(
                    "  unowned threads (ms): "
                            + ThreadCpu.groupsOf(ThreadCpu.Owner.OTHER, start, end)
                                    .entrySet()
                                    .stream()
                                    .map(e -> e.getKey() + "=" + e.getValue() / 1_000_000)
                                    .toList());
        }
    }

    /** CPU time of this whole process (job, broker, producer, consumer), in nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
