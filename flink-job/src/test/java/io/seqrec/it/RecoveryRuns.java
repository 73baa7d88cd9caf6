package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.config.JobConfig;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.assertj.core.data.Offset;

/**
 * What the fault-injection tests share: one synthetic input, the job's configuration for a run,
 * collecting a run's output, and comparing it with a failure-free run.
 */
final class RecoveryRuns {
    private RecoveryRuns() {}

    /** Synthetic events (about 1 % malformed), as key/value pairs in produce order. */
    static List<String[]> syntheticInput(int users, int events, long seed) {
        List<String[]> input = new ArrayList<>();
        new SyntheticBehaviorGenerator(
                        new GeneratorConfig(
                                GeneratorConfig.DEFAULT_ITEMS,
                                GeneratorConfig.DEFAULT_CATEGORIES,
                                users,
                                events,
                                seed,
                                GeneratorConfig.DEFAULT_CATALOG_SEED,
                                System.currentTimeMillis() - 600_000,
                                10,
                                0.01))
                .forEachRemaining(
                        (GeneratedRecord r) -> input.add(new String[] {r.key(), r.value()}));
        return input;
    }

    /**
     * The job's configuration for one run: its own topics, consumer group, transactional ids and
     * checkpoint directory, short checkpoints so failures land between them; {@code extra} flags
     * are appended.
     */
    static JobConfig config(
            String bootstrap,
            String runName,
            String in,
            String out,
            String dlq,
            String guarantee,
            Path checkpointDir,
            String... extra) {
        return config(
                bootstrap,
                runName,
                in,
                out,
                dlq,
                guarantee,
                checkpointDir.toUri().toString(),
                extra);
    }

    /** As above, with checkpoints under a URI of any Flink file system (e.g. {@code s3://}). */
    static JobConfig config(
            String bootstrap,
            String runName,
            String in,
            String out,
            String dlq,
            String guarantee,
            String checkpointUri,
            String... extra) {
        String[] flags = {
            "--input-topic", in,
            "--output-topic", out,
            "--dlq-topic", dlq,
            "--group-id", runName,
            "--transactional-id-prefix", runName,
            "--delivery-guarantee", guarantee,
            "--batch-size", "8",
            "--checkpoint-interval", "500ms",
            "--checkpoint-timeout", "30s",
            "--min-pause-between-checkpoints", "100ms",
            "--transaction-timeout", "2m"
        };
        return Jobs.config(
                bootstrap,
                checkpointUri,
                Stream.concat(Arrays.stream(flags), Arrays.stream(extra)).toArray(String[]::new));
    }

    /**
     * Starts the job serving the model registry at {@code registry} (polled every 300 ms), on the
     * topics {@code NAME-in}, {@code NAME-out} and {@code NAME-dlq}, which it creates.
     */
    static JobClient startServingRegistry(
            KafkaBrokerExtension kafka,
            String name,
            String guarantee,
            Path registry,
            Path checkpointDir,
            int parallelism)
            throws Exception {
        kafka.createJobTopics(parallelism, name + "-in", name + "-out", name + "-dlq");
        return Jobs.start(
                config(
                        kafka.bootstrapServers(),
                        name,
                        name + "-in",
                        name + "-out",
                        name + "-dlq",
                        guarantee,
                        checkpointDir,
                        "--model-registry",
                        registry.toString(),
                        "--model-poll-interval",
                        "300ms"),
                parallelism,
                name);
    }

    /** Produces {@code input} at a steady {@code perSecond} while the caller injects faults. */
    static CompletableFuture<Void> produceInBackground(
            String bootstrap, String topic, List<String[]> input, int perSecond) {
        return CompletableFuture.runAsync(
                () -> {
                    try {
                        KafkaTestSupport.produceAtRate(bootstrap, topic, input, perSecond);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    /**
     * A consumer of {@code topic} that also sees uncommitted records: how far the job has got,
     * which is what the injected failures interrupt.
     */
    static KafkaConsumer<byte[], byte[]> progressWatcher(
            String bootstrap, String topic, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
        c.subscribe(List.of(topic));
        return c;
    }

    /** Polls {@code watcher} until {@code total} records were seen in all, or two minutes pass. */
    static long awaitProgress(KafkaConsumer<byte[], byte[]> watcher, long seen, long total) {
        long deadline = System.currentTimeMillis() + 120_000;
        while (seen < total && System.currentTimeMillis() < deadline) {
            seen += watcher.poll(Duration.ofMillis(50)).count();
        }
        assertThat(seen).as("records on the output before the fault").isGreaterThanOrEqualTo(total);
        return seen;
    }

    /**
     * Waits for the producer and then for every input record to be accounted for; fails with the
     * job's own failure cause if it died; cancels it.
     */
    static Output finish(
            JobClient job,
            CompletableFuture<Void> producing,
            String bootstrap,
            String out,
            String dlq,
            int events)
            throws Exception {
        producing.get();
        Output output = Output.await(bootstrap, out, dlq, events, Duration.ofMinutes(3));
        if (job.getJobStatus().get().isTerminalState()) {
            job.getJobExecutionResult().get(); // throws with the job's failure cause
        }
        job.cancel().get();
        return output;
    }

    /** What one run wrote: every output record in read_committed order, and the dead letters. */
    record Output(List<Recommendation> records, long deadLetters) {
        Map<String, Recommendation> byEvent() {
            Map<String, Recommendation> m = new HashMap<>();
            records.forEach(r -> m.putIfAbsent(r.eventId(), r));
            return m;
        }

        long distinctEvents() {
            return records.stream().map(Recommendation::eventId).distinct().count();
        }

        /**
         * Reads the output and dead-letter topics ({@code read_committed}) until every one of
         * {@code events} input records is accounted for (a recommendation or a dead letter), or the
         * timeout passes.
         */
        static Output await(
                String bootstrap, String out, String dlq, int events, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            Output o;
            do {
                List<Recommendation> records = new ArrayList<>();
                KafkaTestSupport.drain(bootstrap, out, r -> false, Duration.ofSeconds(2))
                        .forEach(r -> records.add(RecommendationCodec.fromJson(r.value())));
                long dead =
                        KafkaTestSupport.drain(bootstrap, dlq, r -> false, Duration.ofSeconds(1))
                                .size();
                o = new Output(List.copyOf(records), dead);
            } while (o.distinctEvents() + o.deadLetters() < events && System.nanoTime() < deadline);
            return o;
        }
    }

    /** Same events, and for each the same recommendation. */
    static void assertSameContents(
            Map<String, Recommendation> actual, Map<String, Recommendation> expected) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (Recommendation r : actual.values()) {
            assertSame(r, expected.get(r.eventId()));
        }
    }

    /**
     * Equal but for emission time (and float noise from different batch shapes). A trending list is
     * compared by its length only: it ranks what the subtask counted before the event's batch, and
     * a replay after a failure forms other batches.
     */
    static void assertSame(Recommendation actual, Recommendation expected) {
        assertThat(expected).as("unexpected event %s", actual.eventId()).isNotNull();
        assertThat(actual.userId()).isEqualTo(expected.userId());
        assertThat(actual.seq()).as("seq of %s", actual.eventId()).isEqualTo(expected.seq());
        assertThat(actual.strategy())
                .as("strategy of %s", actual.eventId())
                .isEqualTo(expected.strategy());
        if (actual.strategy().equals(Recommendation.TRENDING)) {
            assertThat(actual.itemIds()).hasSameSizeAs(expected.itemIds());
            return;
        }
        assertThat(actual.itemIds())
                .as("items of %s", actual.eventId())
                .containsExactly(expected.itemIds());
        for (int i = 0; i < actual.scores().length; i++) {
            assertThat(actual.scores()[i]).isCloseTo(expected.scores()[i], Offset.offset(1e-4f));
        }
    }
}
