package io.seqrec.cli;

import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.config.JobConfig;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.pipeline.JobEnvironment;
import io.seqrec.pipeline.LiveEvaluation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * {@code seqrec demo}: the whole product on a laptop. An in-process KRaft broker, a local Flink
 * with RocksDB state, the shipped model, and the synthetic generator writing to the input topic; a
 * consumer reads the recommendations back and measures what a downstream service would see.
 * Everything lives in one temporary directory, removed at the end.
 */
final class DemoCommand {
    private static final int PARTITIONS = 2;

    /** What the demo's consumer saw. */
    private static final class Observed {
        final Map<String, Long> sendTimes = new ConcurrentHashMap<>();
        final Map<String, Recommendation> byEventId = new ConcurrentHashMap<>();
        final List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicLong recommendations = new AtomicLong();
        final AtomicLong deadLetters = new AtomicLong();
        final AtomicLong lastReceived = new AtomicLong();
    }

    int run(String[] args) throws Exception {
        Flags f = new Flags(args, Set.of("events", "rate", "users", "seed", "malformed-fraction"));
        long events = f.longValue("events", 20_000, 1);
        double rate = f.doubleValue("rate", 1000, 0, 1e9);
        int users = (int) f.longValue("users", 500, 1);
        long seed = f.longValue("seed", 42, Long.MIN_VALUE);
        double malformed = f.doubleValue("malformed-fraction", 0.01, 0, 1);

        Path work = Files.createTempDirectory("seqrec-demo-");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
            Map<String, String> raw = new LinkedHashMap<>(f.rest());
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

            Configuration conf = JobEnvironment.flinkConfiguration(config);
            conf.set(CoreOptions.TMP_DIRS, work.resolve("flink").toString());
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironment(config.parallelism(), conf);
            JobEnvironment.configure(env, config);
            var artifact = JobLauncher.build(config, env);
            System.out.printf(
                    "model %s: %d items, max_len %d%n",
                    artifact.modelVersion(), artifact.numItems(), artifact.maxLen());
            JobClient job = env.executeAsync(config.jobName());
            awaitRunning(job);

            Observed seen = new Observed();
            AtomicBoolean stop = new AtomicBoolean();
            Thread consumer = new Thread(() -> consume(config, seen, stop), "demo-consumer");
            consumer.setDaemon(true);
            consumer.start();

            GeneratorConfig gen =
                    new GeneratorConfig(
                            GeneratorConfig.DEFAULT_ITEMS,
                            GeneratorConfig.DEFAULT_CATEGORIES,
                            users,
                            events,
                            seed,
                            GeneratorConfig.DEFAULT_CATALOG_SEED,
                            System.currentTimeMillis(),
                            rate > 0 ? 1000.0 / rate : 0,
                            malformed);
            Map<String, List<String[]>> produced = new HashMap<>();
            long start = System.currentTimeMillis();
            long nextReport = start + 2000;
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
                    String value = ProduceCommand.stampNow(r.value());
                    if (r.valid()) {
                        String eventId = field(value, "event_id");
                        seen.sendTimes.put(eventId, System.currentTimeMillis());
                        produced.computeIfAbsent(r.key(), k -> new ArrayList<>())
                                .add(new String[] {eventId, field(value, "item_id")});
                    }
                    sender.send(r.key(), value);
                    sent++;
                    if (System.currentTimeMillis() >= nextReport) {
                        progress(start, sent, seen);
                        nextReport += 2000;
                    }
                }
            }
            long deadline = System.currentTimeMillis() + 120_000;
            while (seen.recommendations.get() + seen.deadLetters.get() < sent
                    && System.currentTimeMillis() < deadline
                    && !job.getJobStatus().get().isTerminalState()) {
                Thread.sleep(200);
                if (System.currentTimeMillis() >= nextReport) {
                    progress(start, sent, seen);
                    nextReport += 2000;
                }
            }
            progress(start, sent, seen);
            stop.set(true);
            consumer.join(5000);
            job.cancel().get();

            printSamples(produced, seen);
            printSummary(sent, start, produced, seen);
            return seen.recommendations.get() + seen.deadLetters.get() == sent ? 0 : 1;
        } finally {
            deleteRecursively(work);
        }
    }

    /**
     * Waits until the job runs and its tasks have had time to deploy and load the model, so the
     * latency figures describe the running job rather than its start-up.
     */
    static void awaitRunning(JobClient job) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (job.getJobStatus().get() != org.apache.flink.api.common.JobStatus.RUNNING) {
            if (job.getJobStatus().get().isTerminalState()
                    || System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(
                        "the job did not start: " + job.getJobStatus().get());
            }
            Thread.sleep(100);
        }
        Thread.sleep(3000);
    }

    private static void consume(JobConfig config, Observed seen, AtomicBoolean stop) {
        try (KafkaConsumer<byte[], byte[]> c = outputConsumer(config, "seqrec-demo-consumer")) {
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> record : c.poll(Duration.ofMillis(100))) {
                    long now = System.currentTimeMillis();
                    seen.lastReceived.set(now);
                    if (record.topic().equals(config.dlqTopic())) {
                        seen.deadLetters.incrementAndGet();
                        continue;
                    }
                    Recommendation r = RecommendationCodec.fromJson(record.value());
                    seen.recommendations.incrementAndGet();
                    seen.byEventId.put(r.eventId(), r);
                    Long sentAt = seen.sendTimes.get(r.eventId());
                    if (sentAt != null) {
                        seen.latencies.add(now - sentAt);
                    }
                }
            }
        }
    }

    /**
     * A read_committed consumer of the output and dead-letter topics from the earliest offset, as a
     * downstream service would read them.
     */
    static KafkaConsumer<byte[], byte[]> outputConsumer(JobConfig config, String groupId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
        // Assigned, not subscribed: no group join (seconds of rebalance delay) before the first
        // fetch, so the latency measured from the first event on is the pipeline's, not ours.
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(config.outputTopic(), config.dlqTopic())) {
            for (PartitionInfo info : c.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        c.assign(partitions);
        c.seekToBeginning(partitions);
        partitions.forEach(c::position);
        return c;
    }

    private static void progress(long start, long sent, Observed seen) {
        System.out.printf(
                "  %5.1fs  produced %d  recommendations %d  dead letters %d%n",
                (System.currentTimeMillis() - start) / 1000.0,
                sent,
                seen.recommendations.get(),
                seen.deadLetters.get());
    }

    private static void printSamples(Map<String, List<String[]>> produced, Observed seen) {
        System.out.println();
        System.out.println("sample users (recent items -> latest recommendations):");
        produced.entrySet().stream()
                .sorted(
                        Comparator.comparing(
                                        (Map.Entry<String, List<String[]>> e) ->
                                                -e.getValue().size())
                                .thenComparing(Map.Entry::getKey))
                .limit(3)
                .forEach(
                        e -> {
                            List<String[]> evs = e.getValue();
                            List<String> recent = new ArrayList<>();
                            for (int i = Math.max(0, evs.size() - 6); i < evs.size(); i++) {
                                String item = evs.get(i)[1];
                                if (recent.isEmpty()
                                        || !recent.get(recent.size() - 1).equals(item)) {
                                    recent.add(item);
                                }
                            }
                            Recommendation last = seen.byEventId.get(evs.get(evs.size() - 1)[0]);
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
            long sent, long start, Map<String, List<String[]>> produced, Observed seen) {
        // Prequential quality as a consumer sees it: each new item a user turns to, checked
        // against the recommendations emitted after that user's previous event.
        LiveEvaluation eval = new LiveEvaluation();
        for (List<String[]> evs : produced.values()) {
            Recommendation previous = null;
            String previousItem = null;
            for (String[] ev : evs) {
                Recommendation r = seen.byEventId.get(ev[0]);
                if (r == null) {
                    continue;
                }
                if (previous != null && !ev[1].equals(previousItem)) {
                    eval.record(previous.itemIds(), ev[1]);
                }
                previous = r;
                previousItem = ev[1];
            }
        }
        List<Long> lat = new ArrayList<>(seen.latencies);
        lat.sort(null);
        double seconds = Math.max(1, seen.lastReceived.get() - start) / 1000.0;
        long recs = seen.recommendations.get();
        System.out.println(
                String.format(
                        Locale.ROOT,
                        "SUMMARY events_in=%d accepted=%d dead_lettered=%d recommendations_out=%d"
                                + " throughput_eps=%.1f latency_p50_ms=%d latency_p99_ms=%d"
                                + " hr_at_10=%.4f ndcg_at_10=%.4f",
                        sent,
                        seen.byEventId.size(),
                        seen.deadLetters.get(),
                        recs,
                        recs / seconds,
                        percentile(lat, 0.50),
                        percentile(lat, 0.99),
                        eval.hitRate(),
                        eval.ndcg()));
    }

    private static long percentile(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }

    /** Reads a string field from one of the generator's flat JSON objects. */
    private static String field(String json, String name) {
        String key = "\"" + name + "\":\"";
        int at = json.indexOf(key) + key.length();
        return json.substring(at, json.indexOf('"', at));
    }

    static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not remove " + dir + ": " + e.getMessage());
        }
    }
}
