package io.seqrec.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.config.JobConfig;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventParser;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.export.EventExport;
import io.seqrec.pipeline.RecommendOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deletion request ({@code "event_type":"forget"}) on the input topic, end to end on a real
 * broker, exactly-once: the tombstone (the user's key, a null value) is on the output topic, the
 * user's key is in none of the operator's state of the next checkpoint (read back with Flink's
 * State Processor API, as a restore reads it), and after a restore from that checkpoint the user's
 * next event starts an empty history ({@code seq} 1) while another user's goes on; {@code
 * export-events} leaves the user out, before and after the request.
 */
class ForgetUserITCase {
    private static final int PARALLELISM = 2;
    private static final String FORGOTTEN = "forget-me-alice";
    private static final String KEPT = "keep-me-bob";

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    @Test
    void forgetClearsTheUsersStateFromTheNextCheckpointAndWritesATombstone() throws Exception {
        KAFKA.createJobTopics(PARALLELISM, "in", "out", "dlq");
        long t0 = System.currentTimeMillis() - 60_000;
        List<String[]> history = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            history.add(event(FORGOTTEN, "e-a" + i, 1 + i, t0 + i));
            history.add(event(KEPT, "e-b" + i, 11 + i, t0 + i));
        }
        Path checkpoints = tmp.resolve("ckpt");
        JobClient job = Jobs.start(config(checkpoints, null), PARALLELISM, "forget");
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "in", history);
        await(6);

        KafkaTestSupport.produce(
                KAFKA.bootstrapServers(),
                "in",
                List.<String[]>of(
                        new String[] {
                            FORGOTTEN,
                            "{\"user_id\":\"" + FORGOTTEN + "\",\"event_type\":\"forget\"}"
                        }));
        List<ConsumerRecord<byte[], byte[]>> tombstones =
                await(7).stream().filter(r -> r.value() == null).toList();
        assertThat(tombstones).hasSize(1);
        assertThat(new String(tombstones.get(0).key(), UTF_8)).isEqualTo(FORGOTTEN);
        // The tombstone was committed with a checkpoint whose snapshot came after the request.
        job.cancel().get();

        Path checkpoint = CheckpointState.latest(checkpoints);
        Map<String, Integer> stored =
                CheckpointState.historyLengths(
                        checkpoint, config(checkpoints, null).stateTtl().toMillis());
        assertThat(stored).as("users in %s", checkpoint).containsOnlyKeys(KEPT);
        assertThat(stored.get(KEPT)).isEqualTo(3);

        // Restored from that checkpoint: the forgotten user starts afresh, the other goes on.
        JobClient restored =
                Jobs.start(
                        config(checkpoints.resolveSibling("ckpt-2"), checkpoint),
                        PARALLELISM,
                        "forget-restored");
        KafkaTestSupport.produce(
                KAFKA.bootstrapServers(),
                "in",
                List.of(event(FORGOTTEN, "e-a9", 5, t0 + 10), event(KEPT, "e-b9", 15, t0 + 10)));
        Map<String, Recommendation> byEvent = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : await(9)) {
            if (r.value() != null) {
                Recommendation rec = RecommendationCodec.fromJson(r.value());
                byEvent.put(rec.eventId(), rec);
            }
        }
        restored.cancel().get();
        assertThat(byEvent.get("e-a9").seq()).as("a fresh history").isEqualTo(1);
        assertThat(byEvent.get("e-b9").seq()).as("a history that goes on").isEqualTo(4);

        // Training data: the forgotten user's events are left out, before and after the request.
        JobConfig c = config(checkpoints, null);
        Properties consumer = new Properties();
        consumer.put("bootstrap.servers", KAFKA.bootstrapServers());
        Path exported = tmp.resolve("events.jsonl");
        EventExport.Counts counts =
                new EventExport(
                                consumer,
                                "in",
                                new EventParser(
                                        c.maxRecordBytes(),
                                        c.maxFieldLength(),
                                        c.maxFutureSkew().toMillis()),
                                RecommendOptions.from(c).stateLimits())
                        .run(0, Long.MAX_VALUE, exported, progress -> {});
        assertThat(Files.readAllLines(exported, UTF_8))
                .hasSize(4)
                .allMatch(line -> line.contains(KEPT))
                .noneMatch(line -> line.contains(FORGOTTEN));
        assertThat(counts.forgotten()).as("3 events, the request, 1 event after it").isEqualTo(5);
    }

    private static JobConfig config(Path checkpoints, Path restoreFrom) {
        List<String> flags =
                new ArrayList<>(
                        List.of(
                                "--input-topic", "in",
                                "--output-topic", "out",
                                "--dlq-topic", "dlq",
                                "--delivery-guarantee", "exactly-once",
                                "--transactional-id-prefix", "forget-" + checkpoints.getFileName(),
                                "--checkpoint-interval", "500ms",
                                "--min-pause-between-checkpoints", "100ms",
                                "--batch-size", "4"));
        if (restoreFrom != null) {
            flags.addAll(List.of("--from-savepoint", restoreFrom.toUri().toString()));
        }
        return Jobs.config(KAFKA.bootstrapServers(), checkpoints, flags.toArray(String[]::new));
    }

    private static String[] event(String user, String eventId, int item, long ts) {
        return new String[] {
            user,
            EventCodec.toJson(
                    new InputEvent(eventId, user, Integer.toString(item), EventType.VIEW, ts))
        };
    }

    /** The output topic's committed records, once there are {@code n} (at most 2 minutes). */
    private static List<ConsumerRecord<byte[], byte[]>> await(int n) {
        List<ConsumerRecord<byte[], byte[]>> out =
                KafkaTestSupport.drain(
                        KAFKA.bootstrapServers(),
                        "out",
                        read -> read.size() >= n,
                        Duration.ofMinutes(2));
        assertThat(out).hasSize(n);
        return out;
    }
}
