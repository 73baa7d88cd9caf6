package io.seqrec.cli;

import io.seqrec.bench.LatencyStats;
import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.config.JobConfig;
import io.seqrec.config.Option;
import io.seqrec.evaluation.BeyondAccuracy;
import io.seqrec.evaluation.LiveEvaluation;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.evaluation.PopularityBaseline;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.kafka.EventSender;
import io.seqrec.kafka.OutputConsumer;
import io.seqrec.kafka.Topics;
import io.seqrec.launch.LocalJob;
import io.seqrec.launch.WorkDir;
import io.seqrec.model.ModelArtifact;
import io.seqrec.pipeline.RecommendOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * {@code seqrec demo}: the whole product on a laptop. An in-process KRaft broker, a local Flink
 * with RocksDB state, the shipped model, and the synthetic generator writing to the input topic; a
 * consumer reads the recommendations back and measures what a downstream service would see.
 * Everything lives in one temporary directory, removed at the end.
 */
final class DemoCommand {
    private static final int PARTITIONS = 2;
    private static final long PROGRESS_EVERY_MS = 2000;

    static final Option<Long> EVENTS = SharedOptions.events("20000", 1, "Events to send.");
    static final Option<Double> RATE =
            SharedOptions.rate("1000", "Events per second (0 = as fast as possible).");
    static final Option<Integer> USERS = SharedOptions.users("500", "Synthetic users.");
    static final Option<Long> SEED = SharedOptions.seed("42");
    static final Option<Double> MALFORMED = SharedOptions.malformedFraction("0.01");
    static final Option<Long> WARMUP =
            new Option<>(
                    "warmup",
                    "1000",
                    "N",
                    "Events of other users sent first, at --rate, and reported on their own line.",
                    io.seqrec.config.Values.longInRange(0, Long.MAX_VALUE));

    static final Option<Boolean> LIFECYCLE =
            new Option<>(
                    "lifecycle",
                    "false",
                    "BOOL",
                    "The learning loop instead: a drifting stream, export, warm retraining, a"
                            + " canary, promotion or rollback from live figures (the stream runs"
                            + " until the decision; --events is not used).",
                    io.seqrec.config.Values.bool());

    static final Command COMMAND =
            new Command(
                    "demo",
                    "everything embedded: Kafka broker, Flink, shipped model, synthetic events",
                    List.of(
                            EVENTS,
                            RATE,
                            USERS,
                            SEED,
                            MALFORMED,
                            WARMUP,
                            SharedOptions.GENERATOR_NEW_ITEMS,
                            SharedOptions.GENERATOR_DRIFT_HALF_LIFE,
                            SharedOptions.FUNNEL_VIEW_TO_CLICK,
                            SharedOptions.FUNNEL_CLICK_TO_CART,
                            SharedOptions.FUNNEL_CART_TO_PURCHASE,
                            SharedOptions.FUNNEL_CART_RETURN_RATE,
                            SharedOptions.FUNNEL_CONSUMABLE_SHARE,
                            LIFECYCLE,
                            LifecycleDemo.BEFORE_RETRAIN,
                            LifecycleDemo.RETRAIN_BUDGET,
                            LifecycleDemo.CANARY_PERCENT,
                            LifecycleDemo.CANARY_MIN_CHECKS,
                            LifecycleDemo.CANARY_MAX_WAIT,
                            LifecycleDemo.PROMOTE_MARGIN),
                    true,
                    DemoCommand::run);

    private DemoCommand() {}

    /** What the demo's consumer saw. */
    private static final class Observed {
        final Map<String, Long> sendTimes = new ConcurrentHashMap<>();
        final Map<String, Recommendation> byEventId = new ConcurrentHashMap<>();

        /** Every latency, and those since the last progress line. */
        final List<Long> latencies = new ArrayList<>();

        final List<Long> interval = new ArrayList<>();
        final AtomicLong recommendations = new AtomicLong();
        final AtomicLong deadLetters = new AtomicLong();
        final AtomicLong lastReceived = new AtomicLong();

        synchronized void latency(long ms) {
            latencies.add(ms);
            interval.add(ms);
        }

        synchronized long[] takeInterval() {
            long[] out = interval.stream().mapToLong(Long::longValue).toArray();
            interval.clear();
            return out;
        }

        synchronized long[] all() {
            return latencies.stream().mapToLong(Long::longValue).toArray();
        }

        /** Forgets everything seen so far: what follows is measured on its own. */
        synchronized void reset() {
            sendTimes.clear();
            byEventId.clear();
            latencies.clear();
            interval.clear();
            recommendations.set(0);
            deadLetters.set(0);
        }
    }

    static int run(Flags f) throws Exception {
        if (f.get(LIFECYCLE)) {
            return LifecycleDemo.run(f, (int) Math.max(1, f.get(RATE)), f.get(USERS), f.get(SEED));
        }
        long events = f.get(EVENTS);
        double rate = f.get(RATE);
        int users = f.get(USERS);

        try (WorkDir work = WorkDir.create("seqrec-demo-");
                EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
            Map<String, String> raw = f.jobOptions();
            raw.putIfAbsent("bootstrap-servers", broker.bootstrapServers());
            raw.putIfAbsent("parallelism", Integer.toString(PARTITIONS));
            raw.putIfAbsent("starting-offsets", "earliest");
            raw.putIfAbsent("checkpoint-interval", "5s");
            raw.putIfAbsent("checkpoint-dir", work.resolve("checkpoints").toUri().toString());
            Main.defaultModel(raw);
            JobConfig config = JobConfig.fromMap(raw);
            Topics.create(config, PARTITIONS);
            System.out.printf(
                    "seqrec demo: broker %s, %d events from %d users at %s events/s%n",
                    config.bootstrapServers(),
                    events,
                    users,
                    rate == 0 ? "max" : String.format("%.0f", rate));

            LocalJob job = LocalJob.start(config, RecommendOptions.from(config));
            ModelArtifact artifact = job.artifact();
            System.out.printf(
                    "model %s: %d items, max_len %d%n",
                    artifact.modelVersion(), artifact.numItems(), artifact.maxLen());

            Observed seen = new Observed();
            AtomicBoolean stop = new AtomicBoolean();
            Thread consumer = new Thread(() -> consume(config, seen, stop), "demo-consumer");
            consumer.setDaemon(true);
            consumer.start();

            warmUp(config, f.get(WARMUP), users, f.get(SEED), rate, SharedOptions.funnel(f), seen);
            GeneratorConfig gen =
                    new GeneratorConfig(
                                    GeneratorConfig.DEFAULT_ITEMS,
                                    GeneratorConfig.DEFAULT_CATEGORIES,
                                    users,
                                    events,
                                    f.get(SEED),
                                    GeneratorConfig.DEFAULT_CATALOG_SEED,
                                    System.currentTimeMillis(),
                                    rate > 0 ? 1000.0 / rate : 0,
                                    f.get(MALFORMED))
                            .withDrift(
                                    f.get(SharedOptions.GENERATOR_NEW_ITEMS),
                                    f.get(SharedOptions.GENERATOR_DRIFT_HALF_LIFE).toMillis())
                            .withFunnel(SharedOptions.funnel(f));
            Map<String, List<InputEvent>> produced = new HashMap<>();
            List<InputEvent> sentInOrder = new ArrayList<>();
            long start = System.currentTimeMillis();
            long nextReport = start + PROGRESS_EVERY_MS;
            long sent = 0;
            try (EventSender sender =
                    new EventSender(
                            config.bootstrapServers(),
                            new Properties(),
                            config.inputTopic(),
                            rate)) {
                SyntheticBehaviorGenerator g = new SyntheticBehaviorGenerator(gen);
                while (g.hasNext()) {
                    GeneratedRecord r = g.next();
                    long now = System.currentTimeMillis();
                    if (r.valid()) {
                        seen.sendTimes.put(r.event().eventId(), now);
                        produced.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.event());
                        sentInOrder.add(r.event());
                    }
                    sender.send(r.key(), r.valueAt(now));
                    sent++;
                    if (now >= nextReport) {
                        progress(start, sent, seen, produced);
                        nextReport += PROGRESS_EVERY_MS;
                    }
                }
            }
            long deadline = System.currentTimeMillis() + 120_000;
            while (seen.recommendations.get() + seen.deadLetters.get() < sent
                    && System.currentTimeMillis() < deadline
                    && !job.ended()) {
                Thread.sleep(200);
                if (System.currentTimeMillis() >= nextReport) {
                    progress(start, sent, seen, produced);
                    nextReport += PROGRESS_EVERY_MS;
                }
            }
            progress(start, sent, seen, produced);
            stop.set(true);
            consumer.join(5000);
            job.cancelBetweenCheckpoints();

            printSamples(produced, seen);
            printSummary(sent, start, produced, sentInOrder, artifact.numItems(), seen);
            return seen.recommendations.get() + seen.deadLetters.get() == sent ? 0 : 1;
        }
    }

    /**
     * Sends {@code count} events of users other than the demo's through the running pipeline and
     * waits for their recommendations, then prints how that went and forgets it. A local JVM's
     * first second of traffic runs code that has not been compiled yet and Kafka clients that have
     * not fetched yet; a deployed job has long been through that. The line says so, with its own
     * latency, so nothing about the start is hidden.
     */
    private static void warmUp(
            JobConfig config,
            long count,
            int users,
            long seed,
            double rate,
            GeneratorConfig.Funnel funnel,
            Observed seen)
            throws Exception {
        if (count == 0) {
            return;
        }
        GeneratorConfig gen =
                new GeneratorConfig(
                                GeneratorConfig.DEFAULT_ITEMS,
                                GeneratorConfig.DEFAULT_CATEGORIES,
                                users,
                                count,
                                seed + 1, // other user ids than the measured run's
                                GeneratorConfig.DEFAULT_CATALOG_SEED,
                                System.currentTimeMillis(),
                                rate > 0 ? 1000.0 / rate : 0,
                                0)
                        .withFunnel(funnel);
        long start = System.currentTimeMillis();
        try (EventSender sender =
                new EventSender(
                        config.bootstrapServers(), new Properties(), config.inputTopic(), rate)) {
            SyntheticBehaviorGenerator g = new SyntheticBehaviorGenerator(gen);
            while (g.hasNext()) {
                GeneratedRecord r = g.next();
                long now = System.currentTimeMillis();
                seen.sendTimes.put(r.event().eventId(), now);
                sender.send(r.key(), r.valueAt(now));
            }
        }
        long deadline = System.currentTimeMillis() + 60_000;
        while (seen.recommendations.get() < count && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        long[] latencies = seen.all();
        System.out.printf(
                Locale.ROOT,
                "warm-up: %d events of other users answered in %.1f s, latency p50 %d ms p99 %d"
                        + " ms (not in the figures below)%n",
                seen.recommendations.get(),
                (System.currentTimeMillis() - start) / 1000.0,
                LatencyStats.percentileOf(latencies, 0.50),
                LatencyStats.percentileOf(latencies, 0.99));
        seen.reset();
    }

    private static void consume(JobConfig config, Observed seen, AtomicBoolean stop) {
        try (KafkaConsumer<byte[], byte[]> c = OutputConsumer.ofOutputAndDeadLetters(config)) {
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> record : c.poll(Duration.ofMillis(100))) {
                    long now = System.currentTimeMillis();
                    seen.lastReceived.set(now);
                    if (record.topic().equals(config.dlqTopic())) {
                        seen.deadLetters.incrementAndGet();
                        continue;
                    }
                    if (record.value() == null) {
                        continue; // a tombstone: a deletion request, not a list
                    }
                    Recommendation r = RecommendationCodec.fromJson(record.value());
                    seen.recommendations.incrementAndGet();
                    seen.byEventId.put(r.eventId(), r);
                    Long sentAt = seen.sendTimes.get(r.eventId());
                    if (sentAt != null) {
                        seen.latency(now - sentAt);
                    }
                }
            }
        }
    }

    /**
     * Counts so far, the latency of the recommendations received since the last line, and HR@10 so
     * far, over all checks and over those of items bought (with their number).
     */
    private static void progress(
            long start, long sent, Observed seen, Map<String, List<InputEvent>> produced) {
        long[] interval = seen.takeInterval();
        Checks checks = Checks.of(produced, seen.byEventId);
        System.out.printf(
                Locale.ROOT,
                "  %5.1fs  produced %d  recommendations %d  dead letters %d  latency p50 %d ms"
                        + " p99 %d ms  hr@10 %.3f  purchase hr@10 %.3f (%d)%n",
                (System.currentTimeMillis() - start) / 1000.0,
                sent,
                seen.recommendations.get(),
                seen.deadLetters.get(),
                LatencyStats.percentileOf(interval, 0.50),
                LatencyStats.percentileOf(interval, 0.99),
                checks.all.hitRate(),
                checks.purchase.hitRate(),
                checks.purchase.evaluated());
    }

    /**
     * Prequential quality as a consumer sees it: each new item a user turns to, checked against the
     * recommendations emitted after that user's previous event ({@code all}); and those checks
     * again for the items the user bought, with the purchase that made the step or one on the same
     * item before turning to another ({@code purchase}), as the job's live_purchase figures count
     * them.
     */
    private record Checks(LiveEvaluation all, LiveEvaluation purchase) {
        static Checks of(
                Map<String, List<InputEvent>> produced, Map<String, Recommendation> byEventId) {
            LiveEvaluation all = new LiveEvaluation();
            LiveEvaluation purchase = new LiveEvaluation();
            for (List<InputEvent> evs : produced.values()) {
                Recommendation previous = null;
                String previousItem = null;
                Integer stepCheck = null; // the newest step's outcome, until bought or left
                for (InputEvent ev : evs) {
                    Recommendation r = byEventId.get(ev.eventId());
                    if (r == null) {
                        continue;
                    }
                    boolean bought = ev.type() == EventType.PURCHASE;
                    if (!ev.itemId().equals(previousItem)) {
                        stepCheck =
                                previous == null
                                        ? null
                                        : all.record(previous.itemIds(), ev.itemId());
                    }
                    if (bought && stepCheck != null) {
                        purchase.recordOutcome(stepCheck);
                        stepCheck = null;
                    }
                    previous = r;
                    previousItem = ev.itemId();
                }
            }
            return new Checks(all, purchase);
        }
    }

    private static void printSamples(Map<String, List<InputEvent>> produced, Observed seen) {
        System.out.println();
        System.out.println("sample users (recent items -> latest recommendations):");
        produced.entrySet().stream()
                .sorted(
                        Comparator.comparing(
                                        (Map.Entry<String, List<InputEvent>> e) ->
                                                -e.getValue().size())
                                .thenComparing(Map.Entry::getKey))
                .limit(3)
                .forEach(
                        e -> {
                            List<InputEvent> evs = e.getValue();
                            List<String> recent = new ArrayList<>();
                            for (int i = Math.max(0, evs.size() - 6); i < evs.size(); i++) {
                                String item = evs.get(i).itemId();
                                if (recent.isEmpty()
                                        || !recent.get(recent.size() - 1).equals(item)) {
                                    recent.add(item);
                                }
                            }
                            Recommendation last =
                                    seen.byEventId.get(evs.get(evs.size() - 1).eventId());
                            System.out.println(
                                    "  " + e.getKey() + "  recent: " + String.join(" ", recent));
                            if (last != null) {
                                StringBuilder sb = new StringBuilder();
                                for (int i = 0; i < Math.min(5, last.itemIds().length); i++) {
                                    sb.append(' ').append(last.itemIds()[i]);
                                }
                                System.out.println(
                                        "    recommended (seq " + last.seq() + "):" + sb);
                            }
                        });
        System.out.println();
    }

    private static void printSummary(
            long sent,
            long start,
            Map<String, List<InputEvent>> produced,
            List<InputEvent> sentInOrder,
            int catalogSize,
            Observed seen) {
        Checks checks = Checks.of(produced, seen.byEventId);
        LiveEvaluation eval = checks.all();
        // The same checks against the most-popular list a consumer could have computed, and the
        // beyond-accuracy figures of what was recommended (definitions in BeyondAccuracy).
        PopularityBaseline baseline = new PopularityBaseline(LiveEvaluation.CUTOFF);
        Map<String, Integer> interactions = new HashMap<>();
        Map<String, Set<String>> usersByItem = new HashMap<>();
        long answered = 0;
        for (InputEvent ev : sentInOrder) {
            if (seen.byEventId.containsKey(ev.eventId())) {
                baseline.accept(ev.userId(), ev.itemId());
                interactions.merge(ev.itemId(), 1, Integer::sum);
                usersByItem.computeIfAbsent(ev.itemId(), i -> new HashSet<>()).add(ev.userId());
                answered++;
            }
        }
        List<String[]> allLists = new ArrayList<>();
        seen.byEventId.values().forEach(r -> allLists.add(r.itemIds()));
        List<String[]> latestLists = new ArrayList<>();
        for (List<InputEvent> evs : produced.values()) {
            for (int i = evs.size() - 1; i >= 0; i--) {
                Recommendation r = seen.byEventId.get(evs.get(i).eventId());
                if (r != null) {
                    latestLists.add(r.itemIds());
                    break;
                }
            }
        }
        LiveTotals base = baseline.totals();
        long[] latencies = seen.all();
        double seconds = Math.max(1, seen.lastReceived.get() - start) / 1000.0;
        long recs = seen.recommendations.get();
        System.out.println(
                String.format(
                        Locale.ROOT,
                        "SUMMARY events_in=%d accepted=%d dead_lettered=%d recommendations_out=%d"
                                + " throughput_eps=%.1f latency_p50_ms=%d latency_p99_ms=%d"
                                + " hr_at_10=%.4f ndcg_at_10=%.4f baseline_hr_at_10=%.4f"
                                + " baseline_ndcg_at_10=%.4f coverage=%.4f novelty=%.3f ild=%.4f"
                                + " purchase_hr_at_10=%.4f purchase_ndcg_at_10=%.4f"
                                + " purchase_evaluated=%d",
                        sent,
                        seen.byEventId.size(),
                        seen.deadLetters.get(),
                        recs,
                        recs / seconds,
                        LatencyStats.percentileOf(latencies, 0.50),
                        LatencyStats.percentileOf(latencies, 0.99),
                        eval.hitRate(),
                        eval.ndcg(),
                        base.hitRate(),
                        base.ndcg(),
                        BeyondAccuracy.coverage(allLists, catalogSize),
                        BeyondAccuracy.novelty(allLists, interactions, answered, catalogSize),
                        BeyondAccuracy.intraListDiversity(latestLists, usersByItem),
                        checks.purchase().hitRate(),
                        checks.purchase().ndcg(),
                        checks.purchase().evaluated()));
    }
}
