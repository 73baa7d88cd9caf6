package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.TestPaths;
import io.seqrec.config.JobConfig;
import io.seqrec.event.EventType;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.kafka.DeadLetterSerializer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.model.TopK;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job on a MiniCluster (parallelism 2, RocksDB) between topics of a real KRaft broker:
 * thousands of events of hundreds of users, some out of order, some redelivered, some malformed.
 * Every accepted event yields exactly one recommendation, equal to a direct model call on the
 * user's sequence as a plain-Java reference computes it from the input.
 */
class RecommenderPipelineITCase {
    private static final int PARALLELISM = 2;

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    @BeforeAll
    static void createTopics() {
        KAFKA.createJobTopics(
                PARALLELISM, "behavior-events", "recommendations", "behavior-events-dlq");
    }

    @Test
    void everyAcceptedEventGetsTheModelsRecommendationForTheReferenceSequence() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String[]> input = new ArrayList<>();
        List<GeneratedRecord> generated = new ArrayList<>();
        new SyntheticBehaviorGenerator(
                        new GeneratorConfig(
                                2000,
                                20,
                                300,
                                4000,
                                99,
                                7,
                                System.currentTimeMillis() - 60_000,
                                10,
                                0.02))
                .forEachRemaining(generated::add);
        Random random = new Random(5);
        // Move a few events later in the stream (out of order, within the allowed lateness) and
        // redeliver a few right after their original, as a retrying producer would.
        for (int i = 0; i < generated.size(); i++) {
            GeneratedRecord r = generated.get(i);
            if (r.valid() && random.nextInt(40) == 0 && i + 5 < generated.size()) {
                generated.add(i + 5, generated.remove(i));
            }
        }
        int redelivered = 0;
        for (GeneratedRecord r : generated) {
            input.add(new String[] {r.key(), r.value()});
            if (r.valid() && random.nextInt(50) == 0) {
                input.add(new String[] {r.key(), r.value()});
                redelivered++;
            }
        }
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "behavior-events", input);

        JobConfig config =
                Jobs.config(
                        KAFKA.bootstrapServers(),
                        tmp.resolve("checkpoints"),
                        "--batch-size",
                        "16",
                        "--checkpoint-interval",
                        "2s");
        JobClient job = Jobs.start(config, PARALLELISM, "pipeline-it");

        int total = input.size();
        List<ConsumerRecord<byte[], byte[]>> recs;
        List<ConsumerRecord<byte[], byte[]>> dead;
        long deadline = System.currentTimeMillis() + 180_000;
        do {
            recs =
                    KafkaTestSupport.drain(
                            KAFKA.bootstrapServers(),
                            "recommendations",
                            r -> false,
                            Duration.ofSeconds(2));
            dead =
                    KafkaTestSupport.drain(
                            KAFKA.bootstrapServers(),
                            "behavior-events-dlq",
                            r -> false,
                            Duration.ofSeconds(1));
        } while (recs.size() + dead.size() < total && System.currentTimeMillis() < deadline);
        job.cancel().get();

        // Counts balance: events in = accepted + dead-lettered.
        assertThat(recs.size() + dead.size()).isEqualTo(total);
        Map<String, Long> reasons = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            reasons.merge(KafkaTestSupport.header(d, DeadLetterSerializer.REASON), 1L, Long::sum);
            assertThat(KafkaTestSupport.header(d, DeadLetterSerializer.SOURCE_OFFSET)).isNotNull();
        }
        assertThat(reasons.get("duplicate_event_id")).isEqualTo((long) redelivered);
        long malformed = generated.stream().filter(r -> !r.valid()).count();
        assertThat(dead.size() - redelivered).isEqualTo(malformed);

        // Exactly one recommendation per accepted event.
        Map<String, Recommendation> byEvent = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            Recommendation rec = RecommendationCodec.fromJson(r.value());
            assertThat(byEvent.put(rec.eventId(), rec))
                    .as("second recommendation for %s", rec.eventId())
                    .isNull();
            assertThat(new String(r.key())).isEqualTo(rec.userId());
        }

        // Plain-Java reference: per user, in input order, insert by time, one step per run of the
        // same item (known to the model or not); the row is the newest max_len items the model
        // knows; then the model called directly.
        ModelArtifact artifact = ModelArtifact.load(TestPaths.defaultModel());
        Map<String, List<long[]>> sequences = new HashMap<>(); // [ts, item index or -1 if unknown]
        Map<String, Integer> unknownIds = new HashMap<>();
        Map<String, Long> lastSeq = new HashMap<>();
        java.util.Set<String> applied = new java.util.HashSet<>();
        int checked = 0;
        try (OnnxSequenceModel model = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
            for (String[] kv : input) {
                JsonNode e;
                try {
                    e = json.readTree(kv[1]);
                } catch (Exception notJson) {
                    continue;
                }
                if (!e.path("event_id").isTextual() || !applied.add(e.get("event_id").asText())) {
                    continue;
                }
                String eventId = e.get("event_id").asText();
                Recommendation rec = byEvent.get(eventId);
                if (rec == null) {
                    continue; // malformed: already accounted for in the dead letters
                }
                String user = rec.userId();
                List<long[]> seq = sequences.computeIfAbsent(user, k -> new ArrayList<>());
                String itemId = e.get("item_id").asText();
                int index = artifact.indexOf(itemId);
                long step =
                        index != 0
                                ? index
                                : -1 - unknownIds.computeIfAbsent(itemId, k -> unknownIds.size());
                insert(seq, e.get("ts").asLong(), step);
                // the job keeps --max-history steps; these users never reach it
                assertThat(seq).hasSizeLessThanOrEqualTo(config.maxHistory());
                long[] known = seq.stream().mapToLong(x -> x[1]).filter(i -> i > 0).toArray();
                long[] window =
                        Arrays.copyOfRange(
                                known, Math.max(0, known.length - artifact.maxLen()), known.length);

                float[] scores =
                        model.score(
                                window.length == 0 ? new long[] {0} : window,
                                1,
                                Math.max(1, window.length));
                for (long item : window) {
                    scores[(int) item] = Float.NEGATIVE_INFINITY;
                }
                int[] idx = new int[10];
                float[] val = new float[10];
                TopK.select(scores, 0, scores.length, 10, idx, val);
                for (int i = 0; i < 10; i++) {
                    assertThat(rec.itemIds()[i])
                            .as("%s rank %d", eventId, i)
                            .isEqualTo(artifact.itemId(idx[i]));
                    assertThat(rec.scores()[i])
                            .isCloseTo(val[i], org.assertj.core.data.Offset.offset(1e-4f));
                }
                long expectedSeq = lastSeq.merge(user, 1L, Long::sum);
                assertThat(rec.seq()).isEqualTo(expectedSeq);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(byEvent.size()).isGreaterThan(3000);
        assertThat(sequences).hasSizeGreaterThan(250);
    }

    /**
     * The type-aware test model (format version 2: items and behaviors, steps by the strongest
     * repeat rule) served by the whole job on events of every type: each recommendation equals a
     * direct model call on the user's items and each step's strongest behavior, as a plain-Java
     * reference computes them from the input.
     */
    @Test
    void aTypedModelGetsEachStepsStrongestBehavior() throws Exception {
        KAFKA.createJobTopics(PARALLELISM, "typed-events", "typed-recs", "typed-dlq");
        List<String[]> input = TypedEvents.input(80, 2000, 17, System.currentTimeMillis() - 60_000);
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "typed-events", input);
        JobConfig config =
                Jobs.config(
                        KAFKA.bootstrapServers(),
                        tmp.resolve("typed-checkpoints"),
                        "--model",
                        TestPaths.typedModel().toString(),
                        "--input-topic",
                        "typed-events",
                        "--output-topic",
                        "typed-recs",
                        "--dlq-topic",
                        "typed-dlq",
                        "--group-id",
                        "typed",
                        "--batch-size",
                        "16",
                        "--checkpoint-interval",
                        "2s");
        JobClient job = Jobs.start(config, PARALLELISM, "typed-pipeline-it");
        List<ConsumerRecord<byte[], byte[]>> recs;
        long deadline = System.currentTimeMillis() + 180_000;
        do {
            recs =
                    KafkaTestSupport.drain(
                            KAFKA.bootstrapServers(),
                            "typed-recs",
                            r -> false,
                            Duration.ofSeconds(2));
        } while (recs.size() < input.size() && System.currentTimeMillis() < deadline);
        job.cancel().get();
        assertThat(recs).hasSize(input.size());
        assertThat(
                        KafkaTestSupport.drain(
                                KAFKA.bootstrapServers(),
                                "typed-dlq",
                                r -> false,
                                Duration.ofSeconds(1)))
                .isEmpty();
        Map<String, Recommendation> byEvent = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            Recommendation rec = RecommendationCodec.fromJson(r.value());
            assertThat(byEvent.put(rec.eventId(), rec)).isNull();
        }

        // Reference: per user, one step per run of one item, with the run's strongest behavior
        // (view < click < cart < purchase = rate); the row is the newest max_len known items.
        ModelArtifact artifact = ModelArtifact.load(TestPaths.typedModel());
        Map<String, List<String>> items = new HashMap<>();
        Map<String, List<EventType>> strongest = new HashMap<>();
        ObjectMapper json = new ObjectMapper();
        int upgrades = 0;
        try (OnnxSequenceModel model = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
            for (String[] kv : input) {
                JsonNode e = json.readTree(kv[1]);
                String user = e.get("user_id").asText();
                String item = e.get("item_id").asText();
                EventType type = EventType.fromWireName(e.get("event_type").asText());
                List<String> steps = items.computeIfAbsent(user, k -> new ArrayList<>());
                List<EventType> types = strongest.computeIfAbsent(user, k -> new ArrayList<>());
                if (!steps.isEmpty() && steps.get(steps.size() - 1).equals(item)) {
                    EventType was = types.get(types.size() - 1);
                    if (strength(type) > strength(was)) {
                        types.set(types.size() - 1, type);
                        upgrades++;
                    }
                } else {
                    steps.add(item);
                    types.add(type);
                }
                List<Long> row = new ArrayList<>();
                List<Long> codes = new ArrayList<>();
                for (int i = 0; i < steps.size(); i++) {
                    int index = artifact.indexOf(steps.get(i));
                    if (index != 0) {
                        row.add((long) index);
                        codes.add((long) artifact.behaviorCode(types.get(i)));
                    }
                }
                int from = Math.max(0, row.size() - artifact.maxLen());
                long[] window = row.subList(from, row.size()).stream().mapToLong(x -> x).toArray();
                long[] behaviors =
                        codes.subList(from, codes.size()).stream().mapToLong(x -> x).toArray();
                float[] scores = model.run(window, behaviors, 1, window.length, false).scores();
                for (long index : window) {
                    scores[(int) index] = Float.NEGATIVE_INFINITY;
                }
                int[] idx = new int[10];
                float[] val = new float[10];
                TopK.select(scores, 0, scores.length, 10, idx, val);
                Recommendation rec = byEvent.get(e.get("event_id").asText());
                assertThat(rec.strategy()).isEqualTo(Recommendation.MODEL);
                assertThat(rec.modelVersion()).isEqualTo(artifact.modelVersion());
                for (int i = 0; i < 10; i++) {
                    assertThat(rec.itemIds()[i])
                            .as("%s rank %d", rec.eventId(), i)
                            .isEqualTo(artifact.itemId(idx[i]));
                    assertThat(rec.scores()[i])
                            .isCloseTo(val[i], org.assertj.core.data.Offset.offset(1e-4f));
                }
            }
        }
        assertThat(upgrades).isGreaterThan(100);
    }

    private static int strength(EventType type) {
        return type == EventType.RATE ? EventType.PURCHASE.ordinal() : type.ordinal();
    }

    private static void insert(List<long[]> seq, long ts, long item) {
        int pos = seq.size();
        while (pos > 0 && seq.get(pos - 1)[0] > ts) {
            pos--;
        }
        boolean repeat =
                (pos > 0 && seq.get(pos - 1)[1] == item)
                        || (pos < seq.size() && seq.get(pos)[1] == item);
        if (!repeat) {
            seq.add(pos, new long[] {ts, item});
        }
    }
}
