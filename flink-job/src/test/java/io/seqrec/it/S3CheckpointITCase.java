package io.seqrec.it;

import static io.seqrec.it.RecoveryRuns.assertSameContents;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.config.JobConfig;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import io.seqrec.registry.ModelRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot;
import org.apache.flink.runtime.checkpoint.RestoredCheckpointStats;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The job with everything durable on {@code s3://} of a real S3-compatible server, through the S3
 * plugin, settings and environment credentials of the Kubernetes deployment ({@link S3Extension}):
 * its model from a model registry there, exactly-once checkpoints (RocksDB, incremental) there, a
 * task-manager failure restored from such a checkpoint, a stop with a savepoint there and a new job
 * restored from it. Its output equals an uninterrupted run's: one record per accepted event, the
 * same recommendation and {@code seq} for each, {@code seq} contiguous per user.
 */
class S3CheckpointITCase {
    private static final int PARALLELISM = 2;
    private static final int EVENTS = 2000;
    private static final int FAIL_AFTER = 400;

    // First, so that it is set up before the cluster starts and torn down after it stops.
    @RegisterExtension static final S3Extension S3 = new S3Extension();

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final List<String[]> INPUT = RecoveryRuns.syntheticInput(100, EVENTS, 23);

    @BeforeAll
    static void publishTheModelToS3() {
        ModelRegistry.open(S3.uri("models")).publish(TestPaths.defaultModel(), "v1");
    }

    @Test
    void checkpointsAndSavepointsOnS3RestoreToTheOutputOfAnUninterruptedRun(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        // Uninterrupted.
        KAFKA.createJobTopics(PARALLELISM, "events-ref", "recs-ref", "dlq-ref");
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "events-ref", INPUT);
        JobClient reference = Jobs.start(config("ref", null), PARALLELISM, "s3-ref");
        Output expected =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "recs-ref",
                        "dlq-ref",
                        EVENTS,
                        Duration.ofMinutes(2));
        reference.cancel().get();
        assertThat(expected.distinctEvents() + expected.deadLetters()).isEqualTo(EVENTS);
        assertThat(expected.records()).hasSize(expected.byEvent().size());

        // The first half, with a task manager lost mid-stream, then a stop with a savepoint.
        KAFKA.createJobTopics(PARALLELISM, "events-s3", "recs-s3", "dlq-s3");
        List<String[]> firstHalf = new ArrayList<>(INPUT.subList(0, EVENTS / 2));
        JobClient first = Jobs.start(config("s3", null), PARALLELISM, "s3-first");
        CompletableFuture<Void> producing =
                RecoveryRuns.produceInBackground(
                        KAFKA.bootstrapServers(), "events-s3", firstHalf, 1000);
        try (KafkaConsumer<byte[], byte[]> watch =
                RecoveryRuns.progressWatcher(KAFKA.bootstrapServers(), "recs-s3", "watch")) {
            RecoveryRuns.awaitProgress(watch, 0, FAIL_AFTER);
            awaitCompletedCheckpoint(cluster, first);
            // The cluster's first task manager runs the job; a new one takes over.
            cluster.terminateTaskManager(0).get();
            cluster.startTaskManager();
        }
        producing.get();
        Output half =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "recs-s3",
                        "dlq-s3",
                        EVENTS / 2,
                        Duration.ofMinutes(2));
        assertThat(half.distinctEvents() + half.deadLetters()).isEqualTo(EVENTS / 2);
        assertThat(restoredFrom(cluster, first))
                .as("the failed job resumed from a checkpoint on S3")
                .startsWith(S3.uri("checkpoints/" + first.getJobID() + "/chk-"));
        String savepoint =
                first.stopWithSavepoint(false, S3.uri("savepoints"), SavepointFormatType.CANONICAL)
                        .get();
        assertThat(savepoint).startsWith(S3.uri("savepoints/savepoint-"));

        // The second half, by a new job restored from the savepoint.
        KafkaTestSupport.produce(
                KAFKA.bootstrapServers(), "events-s3", INPUT.subList(EVENTS / 2, EVENTS));
        JobClient second = Jobs.start(config("s3", savepoint), PARALLELISM, "s3-second");
        Output restored =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "recs-s3",
                        "dlq-s3",
                        EVENTS,
                        Duration.ofMinutes(2));
        assertThat(restoredFrom(cluster, second)).isEqualTo(savepoint);
        second.cancel().get();

        assertThat(restored.records())
                .as("exactly-once through S3: one record per accepted event")
                .hasSize(expected.records().size());
        Map<String, Recommendation> byEvent = restored.byEvent();
        assertSameContents(byEvent, expected.byEvent());
        assertThat(restored.deadLetters()).isEqualTo(expected.deadLetters());
        Map<String, List<Long>> seqByUser =
                restored.records().stream()
                        .collect(
                                Collectors.groupingBy(
                                        Recommendation::userId,
                                        TreeMap::new,
                                        Collectors.mapping(
                                                Recommendation::seq, Collectors.toList())));
        seqByUser.forEach(
                (user, seqs) ->
                        assertThat(seqs.stream().sorted().toList())
                                .as("seq of %s", user)
                                .isEqualTo(
                                        LongStream.rangeClosed(1, seqs.size()).boxed().toList()));
    }

    /** The external path of the checkpoint or savepoint {@code job} last restored from. */
    private static String restoredFrom(MiniCluster cluster, JobClient job) throws Exception {
        CheckpointStatsSnapshot stats =
                cluster.getExecutionGraph(job.getJobID()).get().getCheckpointStatsSnapshot();
        RestoredCheckpointStats restored = stats.getLatestRestoredCheckpoint();
        assertThat(restored).as("%s restored from something", job.getJobID()).isNotNull();
        return restored.getExternalPath();
    }

    /** Waits until {@code job} has completed a checkpoint, so that a failure restores one. */
    private static void awaitCompletedCheckpoint(MiniCluster cluster, JobClient job)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        long completed = 0;
        while (completed == 0 && System.nanoTime() < deadline) {
            completed =
                    cluster.getExecutionGraph(job.getJobID())
                            .get()
                            .getCheckpointStatsSnapshot()
                            .getCounts()
                            .getNumberOfCompletedCheckpoints();
            Thread.sleep(50);
        }
        assertThat(completed).as("checkpoints completed on S3").isPositive();
    }

    /**
     * One run's configuration, on the topics {@code events-RUN}, {@code recs-RUN} and {@code
     * dlq-RUN}: the model from the S3 registry, checkpoints on S3 (every 500 ms, exactly-once),
     * restored from {@code savepoint} if not {@code null}.
     */
    private static JobConfig config(String run, String savepoint) {
        List<String> extra = new ArrayList<>(List.of("--model-registry", S3.uri("models")));
        if (savepoint != null) {
            extra.addAll(List.of("--from-savepoint", savepoint));
        }
        return RecoveryRuns.config(
                KAFKA.bootstrapServers(),
                run,
                "events-" + run,
                "recs-" + run,
                "dlq-" + run,
                "exactly-once",
                S3.uri("checkpoints"),
                extra.toArray(String[]::new));
    }
}
