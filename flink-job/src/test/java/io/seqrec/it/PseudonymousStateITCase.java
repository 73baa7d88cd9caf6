package io.seqrec.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.config.JobConfig;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.event.RecommendationCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --pseudonymize-key-file}: the job keys its state by HMAC-SHA256(key, user_id), so no raw
 * user id is in any byte of any file under the checkpoint directory (every checkpoint, shared
 * RocksDB files included), while the output is still keyed by the raw ids. The same scan finds the
 * ids in the checkpoints of a run without the flag, so it would see them. With {@code
 * --emit-pseudonym} the output names users by the pseudonyms the state holds.
 */
class PseudonymousStateITCase {
    private static final int PARALLELISM = 2;
    private static final List<String> USERS =
            IntStream.range(0, 6).mapToObj(i -> "raw-user-id-Qx7" + i + "-unmistakable").toList();

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    @Test
    void noRawUserIdReachesAnyCheckpointFile() throws Exception {
        Path key = tmp.resolve("pseudonym.key");
        byte[] secret = new byte[32];
        new Random(17).nextBytes(secret);
        Files.write(key, secret);

        Run pseudonymous = run("pseudo", "--pseudonymize-key-file", key.toString());
        assertThat(pseudonymous.outputKeys()).as("output keyed by the raw ids").isEqualTo(ids());
        assertThat(idsIn(pseudonymous.checkpoints())).as("raw ids in checkpoint files").isEmpty();
        Set<String> pseudonyms =
                CheckpointState.historyLengths(
                                CheckpointState.latest(pseudonymous.checkpoints()),
                                pseudonymous.config().stateTtl().toMillis())
                        .keySet();
        assertThat(pseudonyms).hasSize(USERS.size()).allMatch(p -> p.length() == 43);

        Run plain = run("plain");
        assertThat(idsIn(plain.checkpoints())).as("the scan sees ids that are there").isNotEmpty();

        Run emitting =
                run("emit", "--pseudonymize-key-file", key.toString(), "--emit-pseudonym", "true");
        assertThat(emitting.outputKeys()).isEqualTo(pseudonyms);
    }

    private static Set<String> ids() {
        return new TreeSet<>(USERS);
    }

    /** What one run left: its configuration, checkpoint directory and output keys. */
    private record Run(JobConfig config, Path checkpoints, Set<String> outputKeys) {}

    /** Three events per user on fresh topics, answered, then the job cancelled. */
    private static Run run(String name, String... flags) throws Exception {
        KAFKA.createJobTopics(PARALLELISM, name + "-in", name + "-out", name + "-dlq");
        Path checkpoints = tmp.resolve(name + "-ckpt");
        List<String> all =
                new ArrayList<>(
                        List.of(
                                "--input-topic",
                                name + "-in",
                                "--output-topic",
                                name + "-out",
                                "--dlq-topic",
                                name + "-dlq",
                                "--delivery-guarantee",
                                "exactly-once",
                                "--transactional-id-prefix",
                                name,
                                "--checkpoint-interval",
                                "500ms",
                                "--min-pause-between-checkpoints",
                                "100ms"));
        all.addAll(List.of(flags));
        JobConfig config =
                Jobs.config(KAFKA.bootstrapServers(), checkpoints, all.toArray(String[]::new));
        JobClient job = Jobs.start(config, PARALLELISM, name);
        long t0 = System.currentTimeMillis() - 60_000;
        List<String[]> events = new ArrayList<>();
        for (int step = 0; step < 3; step++) {
            for (String user : USERS) {
                String json =
                        EventCodec.toJson(
                                new InputEvent(
                                        user + "-e" + step,
                                        user,
                                        Integer.toString(1 + step),
                                        EventType.VIEW,
                                        t0 + step));
                events.add(new String[] {user, json});
            }
        }
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), name + "-in", events);
        List<ConsumerRecord<byte[], byte[]>> out =
                KafkaTestSupport.drain(
                        KAFKA.bootstrapServers(),
                        name + "-out",
                        read -> read.size() >= events.size(),
                        Duration.ofMinutes(2));
        // Committed output means a checkpoint after these events completed.
        job.cancel().get();
        assertThat(out).hasSize(events.size());
        Set<String> keys = new TreeSet<>();
        for (ConsumerRecord<byte[], byte[]> r : out) {
            String key = new String(r.key(), UTF_8);
            assertThat(RecommendationCodec.fromJson(r.value()).userId()).isEqualTo(key);
            keys.add(key);
        }
        return new Run(config, checkpoints, keys);
    }

    /** The user ids whose UTF-8 bytes occur in any file under {@code dir}. */
    private static Set<String> idsIn(Path dir) throws IOException {
        Set<String> found = new TreeSet<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertThat(files).as("checkpoint files").isNotEmpty();
        for (Path file : files) {
            byte[] bytes = Files.readAllBytes(file);
            for (String user : USERS) {
                if (indexOf(bytes, user.getBytes(UTF_8)) >= 0) {
                    found.add(user);
                }
            }
        }
        return found;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
