package io.seqrec.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.TestPaths;
import io.seqrec.cli.CliRun;
import io.seqrec.config.JobConfig;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.kafka.DeadLetterSerializer;
import io.seqrec.model.ModelArtifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Poison input against the whole job (MiniCluster, parallelism 2, RocksDB, a real KRaft broker):
 * dozens of kinds of bad records, each a way producers really get records wrong, interleaved with
 * good events. Every bad record reaches the dead-letter topic with its specific reason, its source
 * partition and offset and its original key and value bytes; every good event gets its
 * recommendation; nothing restarts the job; events in = accepted + dead-lettered.
 *
 * <p>Redelivery (a producer retry: same {@code event_id}) is applied once; the second copy is
 * dead-lettered as {@code duplicate_event_id}, so it is accounted for rather than dropped.
 */
class PoisonInputITCase {
    private static final int PARALLELISM = 2;
    private static final String IN = "behavior-events";
    private static final String OUT = "recommendations";
    private static final String DLQ = "behavior-events-dlq";

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);

    // A 1 MiB record must get onto the input topic for the job to have to reject it.
    @RegisterExtension
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension()
                    .withBrokerProperties(
                            Map.of("message.max.bytes", Integer.toString(4 * 1024 * 1024)));

    @TempDir static Path tmp;

    @BeforeAll
    static void createTopics() {
        KAFKA.createJobTopics(PARALLELISM, IN, OUT, DLQ);
    }

    /** A bad record and the reason the job must give for it. */
    private record Poison(String kind, byte[] key, byte[] value, String reason) {}

    private final List<Poison> poisons = new ArrayList<>();

    private void poison(String kind, String reason, String value) {
        poison(kind, reason, value == null ? null : value.getBytes(UTF_8));
    }

    private void poison(String kind, String reason, byte[] value) {
        byte[] key = poisons.size() % 3 == 0 ? null : ("poison-" + poisons.size()).getBytes(UTF_8);
        poisons.add(new Poison(kind, key, value, reason));
    }

    private static String event(String userId, String itemId, Object ts) {
        return "{\"user_id\":" + userId + ",\"item_id\":" + itemId + ",\"ts\":" + ts + "}";
    }

    private void addPoisons(long t0) {
        String ts = Long.toString(t0 - 60_000);
        String ok = "\"item_id\":\"i\",\"ts\":" + ts;
        String u = "\"user_id\":\"u\"";

        poison("not JSON at all", "invalid_json", "hello, world");
        poison("invalid JSON", "invalid_json", "{not json");
        poison("truncated JSON", "invalid_json", "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":17");
        poison("trailing garbage", "invalid_json", "{" + u + "," + ok + "} trailing");
        poison("two objects in one record", "invalid_json", "{" + u + "," + ok + "}{}");
        poison("single quotes", "invalid_json", "{'user_id':'u','item_id':'i','ts':" + ts + "}");
        poison("comment", "invalid_json", "/* c */ {" + u + "," + ok + "}");
        poison("NaN", "invalid_json", event("\"u\"", "\"i\"", "NaN"));
        poison("Infinity", "invalid_json", event("\"u\"", "\"i\"", "Infinity"));
        poison("raw control character", "invalid_json", "{\"user_id\":\"a\u0001b\"," + ok + "}");
        poison("byte order mark", "invalid_json", "\uFEFF{" + u + "," + ok + "}");
        poison("trailing comma", "invalid_json", "{" + u + "," + ok + ",}");

        poison("array of numbers", "not_an_object", "[1,2,3]");
        poison("array of events", "not_an_object", "[{" + u + "," + ok + "}]");
        poison("string", "not_an_object", "\"just a string\"");
        poison("JSON null", "not_an_object", "null");
        poison("number", "not_an_object", "42");
        poison("whitespace only", "not_an_object", "   ");

        poison(
                "deeply nested arrays",
                "too_deeply_nested",
                "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "," + u + "," + ok + "}");
        poison(
                "deeply nested objects",
                "too_deeply_nested",
                "{" + u + "," + ok + ",\"x\":" + "{\"a\":".repeat(100) + "1" + "}".repeat(101));

        poison("empty object", "missing_field", "{}");
        poison("no user_id", "missing_field", "{" + ok + "}");
        poison("no item_id", "missing_field", "{" + u + ",\"ts\":" + ts + "}");
        poison("no ts", "missing_field", "{" + u + ",\"item_id\":\"i\"}");
        poison("null user_id", "missing_field", event("null", "\"i\"", ts));
        poison("null item_id", "missing_field", event("\"u\"", "null", ts));

        poison("user_id number", "wrong_type", event("7", "\"i\"", ts));
        poison("user_id array", "wrong_type", event("[\"u\"]", "\"i\"", ts));
        poison("user_id object", "wrong_type", event("{\"id\":\"u\"}", "\"i\"", ts));
        poison("user_id boolean", "wrong_type", event("true", "\"i\"", ts));
        poison("item_id number", "wrong_type", event("\"u\"", "123", ts));
        poison("event_id number", "wrong_type", "{" + u + "," + ok + ",\"event_id\":5}");
        poison("event_type number", "wrong_type", "{" + u + "," + ok + ",\"event_type\":1}");
        poison("event_type array", "wrong_type", "{" + u + "," + ok + ",\"event_type\":[]}");
        poison("ts as string", "wrong_type", event("\"u\"", "\"i\"", "\"" + ts + "\""));
        poison("ts boolean", "wrong_type", event("\"u\"", "\"i\"", "false"));
        poison("ts object", "wrong_type", event("\"u\"", "\"i\"", "{\"ms\":" + ts + "}"));

        poison("empty user_id", "empty_field", event("\"\"", "\"i\"", ts));
        poison("blank item_id", "empty_field", event("\"u\"", "\"   \"", ts));
        poison("empty event_id", "empty_field", "{" + u + "," + ok + ",\"event_id\":\"\"}");

        String tooLong = "\"" + "x".repeat(257) + "\"";
        poison("oversized user_id", "field_too_long", event(tooLong, "\"i\"", ts));
        poison("oversized item_id", "field_too_long", event("\"u\"", tooLong, ts));
        poison(
                "oversized event_id",
                "field_too_long",
                "{" + u + "," + ok + ",\"event_id\":" + tooLong + "}");
        poison(
                "40-digit number in an unknown field",
                "field_too_long",
                "{" + u + "," + ok + ",\"n\":" + "1".repeat(40) + "}");

        poison(
                "escaped control character",
                "invalid_characters",
                event("\"a\\u0007b\"", "\"i\"", ts));
        poison("C1 control character", "invalid_characters", event("\"u\"", "\"i\u009f\"", ts));
        poison("newline in user_id", "invalid_characters", event("\"a\\nb\"", "\"i\"", ts));
        poison("unpaired surrogate", "invalid_characters", event("\"a\\ud800\"", "\"i\"", ts));

        poison("duplicate user_id", "duplicate_field", "{" + u + ",\"user_id\":\"v\"," + ok + "}");
        poison(
                "duplicate unknown field",
                "duplicate_field",
                "{" + u + "," + ok + ",\"x\":1,\"x\":2}");

        poison(
                "unknown event_type",
                "unknown_event_type",
                "{" + u + "," + ok + ",\"event_type\":\"teleport\"}");
        poison(
                "upper-case event_type",
                "unknown_event_type",
                "{" + u + "," + ok + ",\"event_type\":\"VIEW\"}");
        poison(
                "empty event_type",
                "unknown_event_type",
                "{" + u + "," + ok + ",\"event_type\":\"\"}");

        poison("negative ts", "invalid_timestamp", event("\"u\"", "\"i\"", "-1767225600000"));
        poison("zero ts", "invalid_timestamp", event("\"u\"", "\"i\"", "0"));
        poison("fractional ts", "invalid_timestamp", event("\"u\"", "\"i\"", ts + ".5"));
        poison("ts in exponent notation", "invalid_timestamp", event("\"u\"", "\"i\"", "1.7e12"));
        poison(
                "ts beyond 64 bits",
                "invalid_timestamp",
                event("\"u\"", "\"i\"", "99999999999999999999"));
        poison("ts of 40 digits", "invalid_timestamp", event("\"u\"", "\"i\"", "9".repeat(40)));
        poison("ts 1e400", "invalid_timestamp", event("\"u\"", "\"i\"", "1e400"));

        poison("ts two hours ahead", "future_timestamp", event("\"u\"", "\"i\"", t0 + 7_200_000));
        poison("ts Long.MAX_VALUE", "future_timestamp", event("\"u\"", "\"i\"", Long.MAX_VALUE));

        byte[] valid = event("\"u\u00e9\"", "\"i\"", ts).getBytes(UTF_8);
        byte[] truncatedSequence = valid.clone();
        truncatedSequence[13] = (byte) 0xC3;
        truncatedSequence[14] = (byte) '"';
        poison("invalid UTF-8 sequence", "invalid_utf8", truncatedSequence);
        poison(
                "Latin-1 instead of UTF-8",
                "invalid_utf8",
                event("\"u\u00e9\"", "\"i\"", ts).getBytes(ISO_8859_1));
        poison(
                "overlong encoding",
                "invalid_utf8",
                new byte[] {'{', (byte) 0xC0, (byte) 0xAF, '}'});
        poison(
                "encoded surrogate",
                "invalid_utf8",
                new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'});
        poison("gzip bytes", "invalid_utf8", new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0});

        byte[] mebibyte = new byte[1024 * 1024];
        Arrays.fill(mebibyte, (byte) 'x');
        poison("a 1 MiB value", "record_too_large", mebibyte);
        poison(
                "just over --max-record-bytes",
                "record_too_large",
                "{" + u + "," + ok + ",\"pad\":\"" + "p".repeat(65536) + "\"}");

        poison("tombstone (null value)", "empty_value", (byte[]) null);
        poison("empty value", "empty_value", new byte[0]);
    }

    @Test
    void everyBadRecordIsDeadLetteredWithItsReasonAndEveryGoodOneAnswered(
            @InjectMiniCluster MiniCluster miniCluster) throws Exception {
        ModelArtifact model = ModelArtifact.load(TestPaths.defaultModel());
        // One clock reading: every record carries it as its Kafka timestamp, events lie before it.
        long t0 = System.currentTimeMillis();
        addPoisons(t0);
        // a tombstone without a key as well
        poisons.add(new Poison("null key and null value", null, null, "empty_value"));

        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        List<Poison> expected = new ArrayList<>(); // per record: the poison, or null if good
        Map<Integer, String> goodEventIds = new HashMap<>(); // record index -> event_id (if set)
        int goods = 60;
        for (int i = 0; i < Math.max(goods, poisons.size()); i++) {
            if (i < goods) {
                String user = i == 13 ? "ユーザー😀" : "good-user-" + (i % 12);
                String item = model.itemId(1 + (i * 37) % model.numItems());
                // Written by hand, not by EventCodec: these valid events also carry shapes no
                // producer of ours writes (unknown fields, huge numbers, no event_id).
                StringBuilder json = new StringBuilder("{\"user_id\":\"" + user + "\"");
                json.append(",\"item_id\":\"").append(item).append("\"");
                json.append(",\"ts\":").append(t0 - 600_000 + i * 1000L);
                if (i % 7 == 0) {
                    json.append(",\"event_type\":\"purchase\"");
                }
                if (i % 9 == 0) {
                    // unknown fields, however shaped, are ignored
                    json.append(",\"extra\":{\"a\":[1,2,{\"b\":null}],\"n\":12345678901234567890}");
                }
                if (i % 11 != 0) { // else the job derives topic-partition-offset
                    goodEventIds.put(records.size(), "good-" + i);
                    json.append(",\"event_id\":\"good-").append(i).append("\"");
                }
                json.append("}");
                // keyless records too, and one whose key is not its user_id
                String key = i % 5 == 1 ? null : i == 8 ? "some-other-key" : user;
                records.add(
                        record(
                                key == null ? null : key.getBytes(UTF_8),
                                json.toString().getBytes(UTF_8),
                                t0));
                expected.add(null);
            }
            if (i < poisons.size()) {
                Poison p = poisons.get(i);
                records.add(record(p.key(), p.value(), t0));
                expected.add(p);
            }
        }
        // A producer retry: the same record again (same key, so same partition, after the first).
        ProducerRecord<byte[], byte[]> original = records.get(6); // good-3
        assertThat(new String(original.value(), UTF_8)).contains("\"good-3\"");
        records.add(record(original.key(), original.value(), t0));
        expected.add(
                new Poison(
                        "redelivered event",
                        original.key(),
                        original.value(),
                        "duplicate_event_id"));
        // The same event id for the same user with different content: still applied once.
        byte[] sameId =
                EventCodec.toJson(
                                new InputEvent(
                                        "good-4",
                                        "good-user-4",
                                        model.itemId(2),
                                        EventType.VIEW,
                                        t0 - 1000))
                        .getBytes(UTF_8);
        records.add(record("good-user-4".getBytes(UTF_8), sameId, t0));
        expected.add(
                new Poison(
                        "reused event_id",
                        "good-user-4".getBytes(UTF_8),
                        sameId,
                        "duplicate_event_id"));
        // Two hours older than good-user-2's newest event: beyond --allowed-lateness (1h).
        byte[] late =
                EventCodec.toJson(
                                new InputEvent(
                                        "late-1",
                                        "good-user-2",
                                        model.itemId(3),
                                        EventType.VIEW,
                                        t0 - 600_000 - 7_200_000))
                        .getBytes(UTF_8);
        records.add(record("good-user-2".getBytes(UTF_8), late, t0));
        expected.add(new Poison("late event", "good-user-2".getBytes(UTF_8), late, "late"));

        List<RecordMetadata> written =
                KafkaTestSupport.produceRecords(KAFKA.bootstrapServers(), records);

        Map<String, Poison> poisonAt = new HashMap<>(); // "partition/offset" -> poison
        Set<String> goodIds = new HashSet<>();
        for (int r = 0; r < records.size(); r++) {
            RecordMetadata m = written.get(r);
            if (expected.get(r) != null) {
                poisonAt.put(m.partition() + "/" + m.offset(), expected.get(r));
            } else {
                goodIds.add(
                        goodEventIds.getOrDefault(r, IN + "-" + m.partition() + "-" + m.offset()));
            }
        }
        assertThat(poisonAt).hasSize(poisons.size() + 3);
        assertThat(poisonAt.values().stream().map(Poison::kind).distinct())
                .hasSizeGreaterThanOrEqualTo(40);
        assertThat(goodIds).hasSize(goods);

        JobConfig config =
                Jobs.config(
                        KAFKA.bootstrapServers(),
                        tmp.resolve("checkpoints"),
                        "--batch-size",
                        "8",
                        "--checkpoint-interval",
                        "2s");
        JobClient job = Jobs.start(config, PARALLELISM, "poison-input-it");
        List<ConsumerRecord<byte[], byte[]>> recs;
        List<ConsumerRecord<byte[], byte[]>> dead;
        try {
            recs =
                    KafkaTestSupport.drain(
                            KAFKA.bootstrapServers(),
                            OUT,
                            r -> r.size() >= goods,
                            Duration.ofSeconds(90));
            dead =
                    KafkaTestSupport.drain(
                            KAFKA.bootstrapServers(),
                            DLQ,
                            r -> r.size() >= poisonAt.size(),
                            Duration.ofSeconds(30));

            // Bad input never restarted anything: every task is still in its first attempt.
            assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
            AccessExecutionGraph graph = miniCluster.getExecutionGraph(job.getJobID()).get();
            for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
                assertThat(v.getCurrentExecutionAttempt().getAttemptNumber())
                        .as("attempt of %s", v.getTaskNameWithSubtaskIndex())
                        .isZero();
            }
        } finally {
            job.cancel().get();
        }

        // Each bad record: once, from where it was produced, with its reason and original bytes.
        Map<String, String> problems = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            String at =
                    KafkaTestSupport.header(d, DeadLetterSerializer.SOURCE_PARTITION)
                            + "/"
                            + KafkaTestSupport.header(d, DeadLetterSerializer.SOURCE_OFFSET);
            Poison p = poisonAt.get(at);
            assertThat(p).as("dead letter from %s is one of the bad records", at).isNotNull();
            assertThat(seen.add(at)).as("%s dead-lettered twice", p.kind()).isTrue();
            assertThat(KafkaTestSupport.header(d, DeadLetterSerializer.SOURCE_TOPIC)).isEqualTo(IN);
            String reason = KafkaTestSupport.header(d, DeadLetterSerializer.REASON);
            if (!p.reason().equals(reason)) {
                problems.put(
                        p.kind(),
                        reason
                                + " ("
                                + KafkaTestSupport.header(d, DeadLetterSerializer.DETAIL)
                                + ")");
            }
            assertThat(KafkaTestSupport.header(d, DeadLetterSerializer.DETAIL))
                    .as(p.kind())
                    .isNotBlank();
            assertThat(d.key()).as("key of %s", p.kind()).isEqualTo(p.key());
            assertThat(d.value()).as("value of %s", p.kind()).isEqualTo(p.value());
        }
        assertThat(problems).as("bad records given another reason than expected").isEmpty();
        assertThat(seen).as("dead-lettered bad records").isEqualTo(poisonAt.keySet());

        // Each good event: exactly one recommendation.
        List<String> answered = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            Recommendation rec = RecommendationCodec.fromJson(r.value());
            answered.add(rec.eventId());
            assertThat(rec.itemIds()).hasSize(10);
            assertThat(new String(r.key(), UTF_8)).isEqualTo(rec.userId());
        }
        assertThat(answered).containsExactlyInAnyOrderElementsOf(goodIds);

        // Counts balance: events in = accepted + dead-lettered.
        assertThat(recs.size() + dead.size()).isEqualTo(records.size());

        // Training data from the same input: exactly the events the job answered, each once,
        // and the rest counted by the job's reasons.
        Path exported = tmp.resolve("exported.jsonl");
        CliRun export =
                CliRun.of(
                        "export-events",
                        "--bootstrap-servers",
                        KAFKA.bootstrapServers(),
                        "--topic",
                        IN,
                        "--from-timestamp",
                        "0",
                        "--out",
                        exported.toString());
        assertThat(export.status()).as(export.err()).isZero();
        List<String> lines = Files.readAllLines(exported, UTF_8);
        List<String> exportedIds = new ArrayList<>();
        for (String line : lines) {
            exportedIds.add(new ObjectMapper().readTree(line).get("event_id").asText());
        }
        assertThat(exportedIds).containsExactlyInAnyOrderElementsOf(goodIds);
        assertThat(export.out())
                .contains("exported " + goods + " events of " + records.size() + " records")
                .contains("duplicate_event_id 2")
                .contains("late 1")
                .contains("invalid_json 12");
        assertThat(Files.exists(tmp.resolve("exported.jsonl.part"))).isFalse();
    }

    private static ProducerRecord<byte[], byte[]> record(byte[] key, byte[] value, long timestamp) {
        return new ProducerRecord<>(IN, null, timestamp, key, value);
    }
}
