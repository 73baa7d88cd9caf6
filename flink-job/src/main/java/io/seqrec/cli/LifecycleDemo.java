package io.seqrec.cli;

import static io.seqrec.config.Values.doubleInRange;
import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.positiveDuration;

import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.config.JobConfig;
import io.seqrec.config.Option;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.evaluation.PromotionRule;
import io.seqrec.event.EventParser;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.export.EventExport;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.kafka.EventSender;
import io.seqrec.kafka.Topics;
import io.seqrec.launch.LocalJob;
import io.seqrec.launch.WorkDir;
import io.seqrec.model.ModelArtifact;
import io.seqrec.pipeline.RecommendOptions;
import io.seqrec.pipeline.UserState;
import io.seqrec.registry.ModelRegistry;
import io.seqrec.registry.RegistryPointer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * {@code seqrec demo --lifecycle}: the learning loop, end to end, on one machine. The shipped model
 * serves a drifting synthetic stream from a model registry as v1; while the stream runs the demo
 * exports the events the job accepted ({@link EventExport}), retrains warm-started from v1 for a
 * bounded time ({@code seqrec_model train --init-from}), publishes the result as v2, serves it to a
 * canary share of users, waits for live checks on both versions, and lets {@link PromotionRule}
 * promote v2 or roll it back, from the live figures alone. Each stage is printed as it happens; the
 * last line is the {@code SUMMARY}.
 */
final class LifecycleDemo {
    private LifecycleDemo() {}

    static final Option<Duration> BEFORE_RETRAIN =
            new Option<>(
                    "lifecycle-stream",
                    "60s",
                    "DURATION",
                    "With --lifecycle: how long v1 serves the stream before its events are"
                            + " exported for retraining.",
                    positiveDuration());
    static final Option<Duration> RETRAIN_BUDGET =
            new Option<>(
                    "retrain-budget",
                    "2m",
                    "DURATION",
                    "With --lifecycle: the warm-started retraining's time budget.",
                    positiveDuration());
    static final Option<Integer> CANARY_PERCENT =
            new Option<>(
                    "canary-percent",
                    "20",
                    "P",
                    "With --lifecycle: the share of users v2 serves as a canary.",
                    intInRange(1, 99));
    static final Option<Long> CANARY_MIN_CHECKS =
            new Option<>(
                    "canary-min-checks",
                    "500",
                    "N",
                    "With --lifecycle: live checks each version needs before the decision.",
                    longInRange(2, Long.MAX_VALUE));
    static final Option<Duration> CANARY_MAX_WAIT =
            new Option<>(
                    "canary-max-wait",
                    "90s",
                    "DURATION",
                    "With --lifecycle: how long to wait for those checks; then v2 is rolled back.",
                    positiveDuration());
    static final Option<Double> PROMOTE_MARGIN =
            new Option<>(
                    "promote-margin",
                    "0",
                    "MARGIN",
                    "With --lifecycle: the relative NDCG@10 gain v2 must show (as models promote"
                            + " --if-better).",
                    doubleInRange(0, 10));

    static final List<Option<?>> OPTIONS =
            List.of(
                    BEFORE_RETRAIN,
                    RETRAIN_BUDGET,
                    CANARY_PERCENT,
                    CANARY_MIN_CHECKS,
                    CANARY_MAX_WAIT,
                    PROMOTE_MARGIN);

    /** Drift when none is asked for: a stale model visibly falls behind within a minute. */
    private static final double DEFAULT_NEW_ITEMS_PER_MINUTE = 120;

    private static final long DEFAULT_DRIFT_HALF_LIFE_MS = 120_000;

    private static final int PARTITIONS = 2;

    /** What the demo's consumer saw, from the canary's start on. */
    private static final class Observed {
        final AtomicLong recommendations = new AtomicLong();
        final AtomicLong sinceCanary = new AtomicLong();
        final AtomicLong fromV2 = new AtomicLong();
        final Set<String> newItemsFromV2 = ConcurrentHashMap.newKeySet();
        volatile String v2ModelVersion;
        volatile ModelArtifact v1;
    }

    static int run(Flags f, int rate, int users, long seed) throws Exception {
        long started = System.currentTimeMillis();
        try (WorkDir work = WorkDir.create("seqrec-lifecycle-");
                EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
            Map<String, String> raw = f.jobOptions();
            Path v1Dir = shippedModel(f);
            raw.remove("model"); // the job serves the registry
            ModelRegistry registry =
                    ModelRegistry.open(work.resolve("registry").toUri().toString());
            String v1 = registry.publish(v1Dir, "v1");
            stage(started, "published the shipped model as " + v1 + " to " + registry.uri());

            raw.putIfAbsent("bootstrap-servers", broker.bootstrapServers());
            raw.putIfAbsent("parallelism", Integer.toString(PARTITIONS));
            raw.putIfAbsent("starting-offsets", "earliest");
            raw.putIfAbsent("checkpoint-interval", "5s");
            raw.putIfAbsent("checkpoint-dir", work.resolve("checkpoints").toUri().toString());
            raw.put("model-registry", registry.uri().toString());
            raw.putIfAbsent("model-poll-interval", "2s");
            JobConfig config = JobConfig.fromMap(raw);
            Topics.create(config, PARTITIONS);
            LocalJob job = LocalJob.start(config, RecommendOptions.from(config));
            Observed seen = new Observed();
            seen.v1 = job.artifact();
            stage(
                    started,
                    String.format(
                            "job serving %s (%s, %d items) from the registry",
                            v1, seen.v1.modelVersion(), seen.v1.numItems()));

            AtomicBoolean stop = new AtomicBoolean();
            Thread consumer = new Thread(() -> consume(config, seen, stop), "lifecycle-consumer");
            consumer.setDaemon(true);
            consumer.start();
            GeneratorConfig gen = drifting(f, users, seed, rate);
            AtomicLong sent = new AtomicLong();
            Thread sender = new Thread(() -> send(config, gen, rate, sent, stop), "lifecycle-send");
            sender.setDaemon(true);
            sender.start();
            stage(
                    started,
                    String.format(
                            Locale.ROOT,
                            "streaming %d users at %d events/s, %.0f new items a minute (half-life"
                                    + " %d s)",
                            users,
                            rate,
                            gen.newItemsPerMinute(),
                            gen.driftHalfLifeMs() / 1000));

            waitPrinting(started, f.get(BEFORE_RETRAIN).toMillis(), registry, sent, seen);

            Path events = work.resolve("events.jsonl");
            EventExport.Counts exported =
                    new EventExport(
                                    clientProperties(config),
                                    config.inputTopic(),
                                    new EventParser(
                                            config.maxRecordBytes(),
                                            config.maxFieldLength(),
                                            config.maxFutureSkew().toMillis()),
                                    new UserState.Limits(
                                            config.allowedLateness().toMillis(),
                                            1,
                                            config.dedupeWindow()))
                            .run(started, System.currentTimeMillis(), events, c -> {});
            stage(
                    started,
                    "exported " + exported.written() + " accepted events of " + exported.read());

            Path v2Dir = work.resolve("v2");
            long retrainStart = System.currentTimeMillis();
            stage(started, "retraining, warm-started from " + v1 + " ...");
            int trained = retrain(events, v1Dir, v2Dir, work.resolve("train"), f);
            double retrainSeconds = (System.currentTimeMillis() - retrainStart) / 1000.0;
            if (trained != 0) {
                System.err.println(
                        "seqrec demo --lifecycle: the retraining failed (exit "
                                + trained
                                + "); v1 keeps serving");
                stop.set(true);
                job.cancelBetweenCheckpoints();
                return 1;
            }
            String v2 = registry.publish(v2Dir, "v2");
            seen.v2ModelVersion = ModelArtifact.load(v2Dir).modelVersion();
            stage(
                    started,
                    String.format(
                            Locale.ROOT,
                            "retrained in %.0f s and published %s (%s)",
                            retrainSeconds,
                            v2,
                            seen.v2ModelVersion));

            LiveTotals v1AtCanary = liveOf(registry, v1);
            registry.canary(v2, f.get(CANARY_PERCENT));
            seen.sinceCanary.set(0);
            seen.fromV2.set(0);
            long canaryStart = System.currentTimeMillis();
            stage(started, v2 + " serves " + f.get(CANARY_PERCENT) + " % of users as a canary");

            PromotionRule rule = new PromotionRule(f.get(PROMOTE_MARGIN), f.get(CANARY_MIN_CHECKS));
            PromotionRule.Decision decision;
            LiveTotals v1Live;
            LiveTotals v2Live;
            long deadline = canaryStart + f.get(CANARY_MAX_WAIT).toMillis();
            while (true) {
                Thread.sleep(2000);
                v1Live = liveOf(registry, v1).minus(v1AtCanary);
                v2Live = liveOf(registry, v2);
                decision = rule.decide(v2Live, v1Live);
                System.out.printf(
                        Locale.ROOT,
                        "  %5.1fs  live since the canary: %s HR@10 %.4f (%d checks), %s HR@10 %.4f"
                                + " (%d checks)%n",
                        (System.currentTimeMillis() - started) / 1000.0,
                        v1,
                        v1Live.hitRate(),
                        v1Live.evaluated(),
                        v2,
                        v2Live.hitRate(),
                        v2Live.evaluated());
                if (decision.verdict() != PromotionRule.Verdict.WAIT
                        || System.currentTimeMillis() >= deadline) {
                    break;
                }
            }
            boolean promoted = decision.verdict() == PromotionRule.Verdict.PROMOTE;
            stage(started, decision.reason());
            RegistryPointer pointer = promoted ? registry.promote() : registry.rollback();
            stage(
                    started,
                    (promoted ? "promoted " : "rolled back ")
                            + v2
                            + ": "
                            + ModelsCommand.describe(pointer));

            stop.set(true);
            sender.join(5000);
            consumer.join(5000);
            job.cancelBetweenCheckpoints();
            long since = seen.sinceCanary.get();
            System.out.println(
                    String.format(
                            Locale.ROOT,
                            "SUMMARY events_in=%d v1=%s v2=%s v1_hr_at_10=%.4f v2_hr_at_10=%.4f"
                                    + " canary_share=%.4f new_items_recommended=%d"
                                    + " retrain_s=%.1f promoted=%s",
                            sent.get(),
                            seen.v1.modelVersion(),
                            seen.v2ModelVersion,
                            v1Live.hitRate(),
                            v2Live.hitRate(),
                            since == 0 ? 0.0 : (double) seen.fromV2.get() / since,
                            seen.newItemsFromV2.size(),
                            retrainSeconds,
                            promoted));
            return 0;
        }
    }

    /** The artifact the demo starts from: {@code --model}, else the shipped default. */
    private static Path shippedModel(Flags f) {
        Map<String, String> raw = f.jobOptions();
        Main.defaultModel(raw);
        String dir = raw.getOrDefault("model", io.seqrec.config.JobOptions.MODEL.defaultValue());
        return Path.of(dir).toAbsolutePath();
    }

    private static GeneratorConfig drifting(Flags f, int users, long seed, int rate) {
        Double perMinute = f.get(SharedOptions.GENERATOR_NEW_ITEMS);
        boolean given = f.given(SharedOptions.GENERATOR_NEW_ITEMS);
        long halfLife =
                f.given(SharedOptions.GENERATOR_DRIFT_HALF_LIFE)
                        ? f.get(SharedOptions.GENERATOR_DRIFT_HALF_LIFE).toMillis()
                        : DEFAULT_DRIFT_HALF_LIFE_MS;
        return new GeneratorConfig(
                        GeneratorConfig.DEFAULT_ITEMS,
                        GeneratorConfig.DEFAULT_CATEGORIES,
                        users,
                        Long.MAX_VALUE,
                        seed,
                        GeneratorConfig.DEFAULT_CATALOG_SEED,
                        System.currentTimeMillis(),
                        1000.0 / rate,
                        0)
                .withDrift(given ? perMinute : DEFAULT_NEW_ITEMS_PER_MINUTE, halfLife)
                .withFunnel(SharedOptions.funnel(f));
    }

    /** Sends the stream until {@code stop}; event times are send times. */
    private static void send(
            JobConfig config, GeneratorConfig gen, int rate, AtomicLong sent, AtomicBoolean stop) {
        try (EventSender sender =
                new EventSender(
                        config.bootstrapServers(), new Properties(), config.inputTopic(), rate)) {
            SyntheticBehaviorGenerator g = new SyntheticBehaviorGenerator(gen);
            while (!stop.get()) {
                GeneratedRecord r = g.next();
                sender.send(r.key(), r.valueAt(System.currentTimeMillis()));
                sent.incrementAndGet();
            }
        } catch (Exception e) {
            System.err.println("lifecycle sender stopped: " + e);
        }
    }

    private static void consume(JobConfig config, Observed seen, AtomicBoolean stop) {
        Properties p = clientProperties(config);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "seqrec-lifecycle-demo");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(config.outputTopic()));
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(200))) {
                    if (record.value() == null) {
                        continue; // a tombstone: a deletion request, not a list
                    }
                    Recommendation r = RecommendationCodec.fromJson(record.value());
                    seen.recommendations.incrementAndGet();
                    String v2 = seen.v2ModelVersion;
                    if (v2 == null) {
                        continue;
                    }
                    seen.sinceCanary.incrementAndGet();
                    if (v2.equals(r.modelVersion())) {
                        seen.fromV2.incrementAndGet();
                        if (!Recommendation.TRENDING.equals(r.strategy())) {
                            for (String item : r.itemIds()) {
                                if (seen.v1.indexOf(item) == 0) {
                                    seen.newItemsFromV2.add(item);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static Properties clientProperties(JobConfig config) {
        Properties p = SharedOptions.clientProperties(config.kafkaProperties());
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        return p;
    }

    /**
     * {@code seqrec_model train --init-from v1} on the exported events, exported to {@code v2Dir}:
     * the Python beside the job ({@code SEQREC_PYTHON}, default {@code /usr/bin/python3}), with the
     * repository's {@code model/} on its path. Its output is printed, indented.
     */
    private static int retrain(Path events, Path v1Dir, Path v2Dir, Path runDir, Flags f)
            throws IOException, InterruptedException {
        Path modelRoot = modelPackageRoot();
        List<String> command =
                new ArrayList<>(
                        List.of(
                                System.getenv().getOrDefault("SEQREC_PYTHON", "/usr/bin/python3"),
                                "-m",
                                "seqrec_model",
                                "train",
                                "--format",
                                "events",
                                "--data",
                                events.toString(),
                                "--name",
                                "lifecycle",
                                "--init-from",
                                v1Dir.toString(),
                                "--time-budget",
                                f.get(RETRAIN_BUDGET).toSeconds() + "s",
                                "--threads",
                                "1",
                                "--out",
                                runDir.toString(),
                                "--export-dir",
                                v2Dir.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", modelRoot.toString());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process process = pb.start();
        try (BufferedReader out =
                new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                System.out.println("    train | " + line);
            }
        }
        return process.waitFor();
    }

    /** {@code model/} of the checkout the demo runs from ({@code seqrec.home}, or nearby). */
    private static Path modelPackageRoot() {
        String home = System.getProperty("seqrec.home");
        List<Path> candidates = new ArrayList<>();
        if (home != null) {
            candidates.add(Path.of(home, "model"));
        }
        candidates.add(Path.of("model"));
        candidates.add(Path.of("..", "model"));
        for (Path c : candidates) {
            if (Files.isDirectory(c.resolve("seqrec_model"))) {
                return c.toAbsolutePath().normalize();
            }
        }
        throw new UsageException(
                "demo --lifecycle needs the repository's model/ (the seqrec_model package) beside"
                        + " the job: run it from a checkout with ./seqrec");
    }

    /** The live totals of {@code version} summed over the job's fresh reports. */
    private static LiveTotals liveOf(ModelRegistry registry, String version) {
        return ModelsCommand.liveTotals(registry, System.currentTimeMillis())
                .getOrDefault(version, LiveTotals.NONE);
    }

    private static void waitPrinting(
            long started, long millis, ModelRegistry registry, AtomicLong sent, Observed seen)
            throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            Thread.sleep(Math.min(5000, Math.max(1, end - System.currentTimeMillis())));
            LiveTotals v1 = liveOf(registry, "v1");
            System.out.printf(
                    Locale.ROOT,
                    "  %5.1fs  produced %d  recommendations %d  v1 live HR@10 %.4f (%d checks)%n",
                    (System.currentTimeMillis() - started) / 1000.0,
                    sent.get(),
                    seen.recommendations.get(),
                    v1.hitRate(),
                    v1.evaluated());
        }
    }

    private static void stage(long started, String what) {
        System.out.printf(
                Locale.ROOT,
                "[%5.1fs] %s%n",
                (System.currentTimeMillis() - started) / 1000.0,
                what);
    }
}
