package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.config.JobConfig;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.kafka.EmbeddedKafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output through failures: the task manager running the job is terminated twice mid-stream (after N
 * and 2N recommendations), a new one takes over, and the job restores from its last checkpoint.
 * Compared with a failure-free run of the same input:
 *
 * <ul>
 *   <li>exactly-once: the read_committed output holds exactly one record per accepted event, none
 *       missing, none duplicated, contents identical;
 *   <li>at-least-once: none missing; every repeat is identical to the original (same {@code seq}),
 *       so consumers can drop repeats by {@code seq}.
 * </ul>
 */
class ExactlyOnceRecoveryITCase {
    private static final int PARALLELISM = 2;
    private static final int EVENTS = 6000;
    private static final int FAIL_EVERY = 1500;

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(PARALLELISM)
                            .build());

    @TempDir static Path tmp;
    private static EmbeddedKafkaBroker broker;
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static final AtomicInteger LIVE_TASK_MANAGER = new AtomicInteger();

    private static final List<String[]> INPUT = new ArrayList<>();

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
        // The same records for every run; each run gets them on its own topic while it runs, so
        // the failures land mid-stream.
        new SyntheticBehaviorGenerator(
                        new GeneratorConfig(
                                2000,
                                20,
                                200,
                                EVENTS,
                                17,
                                7,
                                System.currentTimeMillis() - 600_000,
                                10,
                                0.01))
                .forEachRemaining(
                        (GeneratedRecord r) -> INPUT.add(new String[] {r.key(), r.value()}));
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    /** What one run wrote: every output record in read_committed order. */
    private record Output(List<Recommendation> records, long deadLetters) {
        Map<String, Recommendation> byEvent() {
            Map<String, Recommendation> m = new HashMap<>();
            records.forEach(r -> m.putIfAbsent(r.eventId(), r));
            return m;
        }
    }

    private Output run(String guarantee, MiniCluster cluster, int failures) throws Exception {
        int n = RUNS.incrementAndGet();
        String in = "events-" + n;
        String out = "recs-" + n;
        String dlq = "dlq-" + n;
        broker.createTopics(PARALLELISM, in, out);
        broker.createTopics(1, dlq);
        JobConfig config =
                JobConfig.fromArgs(
                        new String[] {
                            "--bootstrap-servers",
                            broker.bootstrapServers(),
                            "--input-topic",
                            in,
                            "--output-topic",
                            out,
                            "--dlq-topic",
                            dlq,
                            "--group-id",
                            "recovery-" + n,
                            "--transactional-id-prefix",
                            "recovery-" + n,
                            "--model",
                            TestPaths.defaultModel().toString(),
                            "--starting-offsets",
                            "earliest",
                            "--delivery-guarantee",
                            guarantee,
                            "--batch-size",
                            "8",
                            "--checkpoint-interval",
                            "500ms",
                            "--checkpoint-timeout",
                            "30s",
                            "--min-pause-between-checkpoints",
                            "100ms",
                            "--transaction-timeout",
                            "2m",
                            "--checkpoint-dir",
                            tmp.resolve("ckpt-" + n).toUri().toString()
                        });
        JobClient job = Jobs.start(config, PARALLELISM, "recovery-" + guarantee + "-" + n);
        // Acknowledged one by one: a steady stream of several seconds, not one burst.
        java.util.concurrent.CompletableFuture<Void> producing =
                java.util.concurrent.CompletableFuture.runAsync(
                        () -> {
                            try {
                                KafkaTestSupport.produceAtRate(
                                        broker.bootstrapServers(), in, INPUT, 1000);
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        });

        // Watch progress on the uncommitted output too: that is what the failures interrupt.
        AtomicLong seen = new AtomicLong();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "watch-" + n);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> watch = new KafkaConsumer<>(p)) {
            watch.subscribe(List.of(out));
            for (int f = 1; f <= failures; f++) {
                long deadline = System.currentTimeMillis() + 120_000;
                while (seen.get() < (long) f * FAIL_EVERY
                        && System.currentTimeMillis() < deadline) {
                    seen.addAndGet(watch.poll(Duration.ofMillis(50)).count());
                }
                assertThat(seen.get())
                        .as("progress before failure %d", f)
                        .isGreaterThanOrEqualTo((long) f * FAIL_EVERY);
                // MiniCluster keeps terminated task managers in its list: the live one is the
                // newest.
                cluster.terminateTaskManager(LIVE_TASK_MANAGER.getAndIncrement()).get();
                cluster.startTaskManager();
            }
        }

        producing.get();
        long expectedMin = EVENTS - 200; // all but the malformed ones
        List<Recommendation> records = new ArrayList<>();
        long[] dead = {0};
        long deadline = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            records.clear();
            KafkaTestSupport.drain(
                            broker.bootstrapServers(), out, r -> false, Duration.ofSeconds(2))
                    .forEach(r -> records.add(RecommendationCodec.fromJson(r.value())));
            dead[0] =
                    KafkaTestSupport.drain(
                                    broker.bootstrapServers(),
                                    dlq,
                                    r -> false,
                                    Duration.ofSeconds(1))
                            .size();
            long distinct = records.stream().map(Recommendation::eventId).distinct().count();
            if (distinct >= expectedMin && distinct + dead[0] >= EVENTS) {
                break;
            }
        }
        if (job.getJobStatus().get().isTerminalState()) {
            job.getJobExecutionResult().get(); // throws with the job's failure cause
        }
        job.cancel().get();
        return new Output(List.copyOf(records), dead[0]);
    }

    @Test
    void recoversFromTwoTaskManagerFailuresWithoutLossOrDuplicates(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        Output reference = run("at-least-once", cluster, 0);
        Map<String, Recommendation> expected = reference.byEvent();
        assertThat(reference.records()).hasSize(expected.size());
        assertThat(expected.size() + reference.deadLetters()).isEqualTo(EVENTS);

        Output exactlyOnce = run("exactly-once", cluster, 2);
        assertThat(exactlyOnce.records())
                .as("exactly-once: one record per accepted event")
                .hasSize(expected.size());
        assertSameContents(exactlyOnce.byEvent(), expected);
        assertThat(exactlyOnce.deadLetters()).isEqualTo(reference.deadLetters());

        Output atLeastOnce = run("at-least-once", cluster, 2);
        assertThat(atLeastOnce.byEvent()).as("at-least-once: none missing").hasSameSizeAs(expected);
        for (Recommendation r : atLeastOnce.records()) {
            assertSame(r, expected.get(r.eventId()));
        }
        assertThat(atLeastOnce.records().size())
                .as("the failures did cause replays")
                .isGreaterThan(expected.size());
    }

    private static void assertSameContents(
            Map<String, Recommendation> actual, Map<String, Recommendation> expected) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (Recommendation r : actual.values()) {
            assertSame(r, expected.get(r.eventId()));
        }
    }

    /** Equal but for emission time (and float noise from different batch shapes). */
    private static void assertSame(Recommendation actual, Recommendation expected) {
        assertThat(expected).as("unexpected event %s", actual.eventId()).isNotNull();
        assertThat(actual.userId()).isEqualTo(expected.userId());
        assertThat(actual.seq()).as("seq of %s", actual.eventId()).isEqualTo(expected.seq());
        assertThat(actual.itemIds())
                .as("items of %s", actual.eventId())
                .containsExactly(expected.itemIds());
        for (int i = 0; i < actual.scores().length; i++) {
            assertThat(actual.scores()[i]).isCloseTo(expected.scores()[i], Offset.offset(1e-4f));
        }
    }
}
