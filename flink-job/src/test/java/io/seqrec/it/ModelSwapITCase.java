package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import io.seqrec.model.TestArtifacts;
import io.seqrec.registry.ModelRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new model rolled out while events flow, without stopping the job: a real broker, a MiniCluster
 * at parallelism 2, exactly-once output, the job serving a file:// model registry. v2 is published
 * and promoted mid-stream; later a corrupt v3 is pointed to. The job switches to v2 between
 * batches, refuses v3 and keeps serving v2, and never restarts.
 */
class ModelSwapITCase {
    private static final int PARALLELISM = 2;
    private static final int EVENTS = 4000;

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);
    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    @Test
    void swapsMidStreamWithoutLossRepeatsOrRestartsAndRefusesACorruptVersion(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        Path registryDir = tmp.resolve("registry");
        ModelRegistry registry = ModelRegistry.open(registryDir.toString());
        registry.publish(TestArtifacts.defaultModelAs(tmp.resolve("m1"), "swap-v1"), "v1");

        JobClient job =
                RecoveryRuns.startServingRegistry(
                        KAFKA,
                        "swap",
                        "exactly-once",
                        registryDir,
                        tmp.resolve("ckpt"),
                        PARALLELISM);
        List<String[]> input = RecoveryRuns.syntheticInput(300, EVENTS, 23);
        long corruptPointedTo;
        CompletableFuture<Void> producing =
                RecoveryRuns.produceInBackground(KAFKA.bootstrapServers(), "swap-in", input, 300);
        try (KafkaConsumer<byte[], byte[]> watch =
                RecoveryRuns.progressWatcher(KAFKA.bootstrapServers(), "swap-out", "swap-watch")) {
            long seen = RecoveryRuns.awaitProgress(watch, 0, 1000);
            registry.publish(TestArtifacts.defaultModelAs(tmp.resolve("m2"), "swap-v2"), "v2");
            registry.canary("v2", 100);
            registry.promote();
            RecoveryRuns.awaitProgress(watch, seen, 2500);
            publishCorrupt(registryDir, "v2", "v3");
            registry.canary("v3", 100);
            corruptPointedTo = System.currentTimeMillis();
        }
        List<AccessExecutionVertex> tasks = tasks(cluster, job.getJobID());
        Output output =
                RecoveryRuns.finish(
                        job, producing, KAFKA.bootstrapServers(), "swap-out", "swap-dlq", EVENTS);

        assertThat(tasks)
                .as("no task restarted")
                .allSatisfy(
                        v ->
                                assertThat(v.getCurrentExecutionAttempt().getAttemptNumber())
                                        .isZero());
        assertThat(output.records())
                .as("exactly-once: one record per accepted event")
                .hasSize((int) output.distinctEvents());
        assertThat(output.distinctEvents() + output.deadLetters()).isEqualTo(EVENTS);
        assertThat(output.records())
                .extracting(Recommendation::modelVersion)
                .as("v1 before the switch, v2 after it, never the corrupt v3")
                .contains("swap-v1", "swap-v2")
                .containsOnly("swap-v1", "swap-v2");

        Map<String, List<Recommendation>> byUser = new HashMap<>();
        output.records()
                .forEach(r -> byUser.computeIfAbsent(r.userId(), u -> new ArrayList<>()).add(r));
        int carriedOver = 0;
        for (List<Recommendation> recs : byUser.values()) {
            recs.sort((a, b) -> Long.compare(a.seq(), b.seq()));
            for (int i = 0; i < recs.size(); i++) {
                assertThat(recs.get(i).seq()).as("seq contiguous per user").isEqualTo(i + 1);
            }
            boolean onV2 = false;
            for (Recommendation r : recs) {
                if (r.modelVersion().equals("swap-v2")) {
                    onV2 = true;
                } else {
                    assertThat(onV2)
                            .as("once its subtask switched, only v2 answers the user")
                            .isFalse();
                }
            }
            if (onV2 && recs.get(0).modelVersion().equals("swap-v1")) {
                carriedOver++;
            }
        }
        assertThat(carriedOver).as("users whose history carried on across the switch").isPositive();
        // Everything emitted after v3 was pointed to came from v2: refused, v3 changed nothing.
        List<Recommendation> afterV3 =
                output.records().stream().filter(r -> r.emittedTs() > corruptPointedTo).toList();
        assertThat(afterV3).hasSizeGreaterThan(500);
        assertThat(afterV3).extracting(Recommendation::modelVersion).containsOnly("swap-v2");
    }

    private static List<AccessExecutionVertex> tasks(MiniCluster cluster, JobID job)
            throws Exception {
        List<AccessExecutionVertex> out = new ArrayList<>();
        cluster.getExecutionGraph(job).get().getAllExecutionVertices().forEach(out::add);
        return out;
    }

    /**
     * A version {@code publish} would refuse, written straight into the registry: {@code from}'s
     * files with a model.onnx that is not a model, and a marker whose digests match it, so it gets
     * past the fetch and fails where a broken model fails, in loading.
     */
    private static void publishCorrupt(Path registry, String from, String version)
            throws Exception {
        Path source = registry.resolve("versions").resolve(from);
        Path dir = registry.resolve("versions").resolve(version);
        Files.createDirectories(dir);
        for (String f :
                List.of("metadata.json", "items.txt", "reference.jsonl", "item_vectors.f32")) {
            Files.copy(source.resolve(f), dir.resolve(f));
        }
        byte[] garbage = "this is not an ONNX model".getBytes(StandardCharsets.UTF_8);
        Files.write(dir.resolve("model.onnx"), garbage);
        ObjectMapper json = new ObjectMapper();
        ObjectNode marker = (ObjectNode) json.readTree(source.resolve("_COMPLETE").toFile());
        ((ObjectNode) marker.path("files").path("model.onnx"))
                .put("bytes", garbage.length)
                .put(
                        "sha256",
                        HexFormat.of()
                                .formatHex(MessageDigest.getInstance("SHA-256").digest(garbage)));
        json.writeValue(dir.resolve("_COMPLETE").toFile(), marker);
    }
}
