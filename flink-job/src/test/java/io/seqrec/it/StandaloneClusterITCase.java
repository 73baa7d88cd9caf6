package io.seqrec.it;

import static io.seqrec.it.RecoveryRuns.assertSameContents;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.seqrec.TestPaths;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.CoreOptions;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shaded job on a real Flink cluster of separate processes — a JobManager and two TaskManagers
 * started as Flink's scripts start them ({@link StandaloneFlinkCluster}), configured with the
 * {@code flinkConfiguration} of {@code k8s/base/flinkdeployment.yaml} (ONNX Runtime and DJL
 * parent-first from {@code lib/}, RocksDB, exactly-once checkpoints) — submitted through Flink's
 * own command-line frontend as {@code flink run -d} does.
 *
 * <p>A TaskManager process is killed with SIGKILL mid-stream (after output started and a checkpoint
 * completed) and a replacement started: the job restores from the checkpoint and its {@code
 * read_committed} output equals a failure-free run's on the same cluster, one record per accepted
 * event with the same items, scores and {@code seq}, {@code seq} contiguous per user.
 *
 * <p>The surviving TaskManager ran three generations of the job's tasks in one JVM: the reference
 * job, the job under test, and that job again after the restore. Each job gets its own user-code
 * class loader there; ONNX Runtime's native library must still be loaded once per JVM, which only
 * the parent-first patterns give (without them every new class loader maps another copy of it:
 * docs/RELIABILITY.md).
 */
class StandaloneClusterITCase {
    private static final int PARALLELISM = 2;
    private static final int EVENTS = 3000;
    private static final int RATE = 250;
    private static final int FAIL_AFTER = 500;

    /**
     * Java 17 module options of Flink's processes. The Flink image's {@code config.yaml} and the
     * Kubernetes operator's default configuration carry them; the operator's in {@code
     * env.java.default-opts.all}, which the manifest's {@code env.java.opts.all} adds to rather
     * than replaces. Without them {@code flink run} fails in Flink's own client code.
     */
    private static final String JAVA_17_OPTIONS =
            String.join(
                    " ",
                    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
                    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
                    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "--add-opens=java.base/java.net=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.text=ALL-UNNAMED",
                    "--add-opens=java.base/java.time=ALL-UNNAMED",
                    "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    /** A load of ONNX Runtime's JNI library in a {@code -Xlog:library} file. */
    private static final Pattern ORT_JNI_LOAD =
            Pattern.compile("Loaded library \\S*/libonnxruntime4j_jni\\.so");

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final List<String[]> INPUT = RecoveryRuns.syntheticInput(100, EVENTS, 29);

    @Test
    void lostTaskManagerProcessRestoresExactlyOnceAndOnnxRuntimeLoadsOncePerJvm() throws Exception {
        // Under target/, kept after the test: each process's configuration, logs, checkpoints.
        Path target = Path.of(System.getProperty("seqrec.job.jar")).getParent();
        Files.createDirectories(target.resolve("standalone-cluster"));
        Path work = Files.createTempDirectory(target.resolve("standalone-cluster"), "run-");
        try (StandaloneFlinkCluster cluster =
                StandaloneFlinkCluster.start(work, clusterSettings(work))) {
            assertThat(
                            cluster.configuration()
                                    .get(
                                            CoreOptions
                                                    .ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL))
                    .as("the manifest's parent-first patterns")
                    .contains("ai.onnxruntime.", "ai.djl.");
            cluster.startTaskManager("tm-a");
            cluster.startTaskManager("tm-b");
            String bootstrap = KAFKA.bootstrapServers();

            // Failure-free, on the same cluster.
            KAFKA.createJobTopics(PARALLELISM, "sa-ref-in", "sa-ref-out", "sa-ref-dlq");
            KafkaTestSupport.produce(bootstrap, "sa-ref-in", INPUT);
            String reference = cluster.submit(jobArgs("sa-ref"));
            Output expected =
                    Output.await(
                            bootstrap, "sa-ref-out", "sa-ref-dlq", EVENTS, Duration.ofMinutes(3));
            cluster.flink("cancel", reference);
            assertThat(expected.distinctEvents() + expected.deadLetters()).isEqualTo(EVENTS);
            assertThat(expected.records()).hasSize(expected.byEvent().size());

            // A task manager process lost mid-stream, a new one started.
            KAFKA.createJobTopics(PARALLELISM, "sa-eo-in", "sa-eo-out", "sa-eo-dlq");
            String job = cluster.submit(jobArgs("sa-eo"));
            awaitAllTasksRunning(cluster, job);
            CompletableFuture<Void> producing =
                    RecoveryRuns.produceInBackground(bootstrap, "sa-eo-in", INPUT, RATE);
            try (KafkaConsumer<byte[], byte[]> watch =
                    RecoveryRuns.progressWatcher(bootstrap, "sa-eo-out", "sa-watch")) {
                RecoveryRuns.awaitProgress(watch, 0, FAIL_AFTER);
                StandaloneFlinkCluster.await(
                        "a completed checkpoint",
                        () ->
                                checkpoints(cluster, job).path("counts").path("completed").asLong()
                                        > 0,
                        Duration.ofMinutes(1));
                assertThat(producing).as("input still arriving at the kill").isNotDone();
                cluster.kill("tm-a");
            }
            cluster.startTaskManager("tm-c");
            producing.get();
            Output actual =
                    Output.await(
                            bootstrap, "sa-eo-out", "sa-eo-dlq", EVENTS, Duration.ofMinutes(3));
            assertThat(cluster.rest("/jobs/" + job).path("state").asText()).isEqualTo("RUNNING");
            assertThat(
                            checkpoints(cluster, job)
                                    .path("latest")
                                    .path("restored")
                                    .path("external_path")
                                    .asText())
                    .as("the job restored from a checkpoint after the kill")
                    .startsWith("file:" + work.resolve("checkpoints").resolve(job) + "/chk-");
            cluster.flink("cancel", job);

            assertThat(actual.records())
                    .as("exactly-once: one record per accepted event")
                    .hasSize(expected.records().size());
            assertSameContents(actual.byEvent(), expected.byEvent());
            assertThat(actual.deadLetters()).isEqualTo(expected.deadLetters());
            assertSeqContiguousPerUser(actual.records());

            // The survivor ran both jobs, and the second one again from its checkpoint.
            String survivor = Files.readString(cluster.log("tm-b.log"));
            assertThat(survivor)
                    .contains("Establish JobManager connection for job " + reference)
                    .contains("Establish JobManager connection for job " + job)
                    .contains(
                            "Starting RocksDB incremental recovery in operator RecommendOperator");
            assertThat(ortLoads(cluster, "tm-b"))
                    .as("ONNX Runtime loads in the surviving task manager's JVM")
                    .isEqualTo(1);
            assertThat(ortLoads(cluster, "tm-c")).isLessThanOrEqualTo(1);
            for (String process : List.of("tm-a", "tm-b", "tm-c", "jobmanager")) {
                assertThat(Files.readString(cluster.log(process + ".log")))
                        .as("%s.log", process)
                        .doesNotContain("UnsatisfiedLinkError");
            }
        }
    }

    /**
     * The manifest's {@code flinkConfiguration}, without what needs Kubernetes or S3 (HA services,
     * {@code s3://} directories, the S3 endpoint): checkpoints and savepoints go to {@code file://}
     * under {@code work}. Added for one host: the reporter's port as a range (three processes share
     * the host), the two subtasks spread over both task managers (so that one survives the kill and
     * runs its tasks again), and failure detection in seconds instead of 50 s.
     */
    private static Map<String, String> clusterSettings(Path work) throws IOException {
        JsonNode manifest =
                new ObjectMapper(new YAMLFactory())
                        .readTree(
                                TestPaths.repoRoot()
                                        .resolve("k8s/base/flinkdeployment.yaml")
                                        .toFile());
        Map<String, String> settings = new LinkedHashMap<>();
        manifest.path("spec")
                .path("flinkConfiguration")
                .fields()
                .forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
        settings.keySet()
                .removeIf(
                        k ->
                                k.startsWith("s3.")
                                        || k.startsWith("high-availability")
                                        || k.startsWith("execution.checkpointing."));
        settings.put("execution.checkpointing.dir", work.resolve("checkpoints").toUri().toString());
        settings.put(
                "execution.checkpointing.savepoint-dir",
                work.resolve("savepoints").toUri().toString());
        settings.put("metrics.reporter.prom.port", "9249-9299");
        settings.put("taskmanager.load-balance.mode", "slots");
        settings.put("heartbeat.interval", "1s");
        settings.put("heartbeat.timeout", "10s");
        settings.put("env.java.default-opts.all", JAVA_17_OPTIONS);
        return settings;
    }

    /**
     * {@code flink run -d} arguments: the manifest's job arguments for a local broker and model
     * (topics, group and transactional ids named after {@code run}), exactly-once with checkpoints
     * every 500 ms, at the manifest's parallelism.
     */
    private static String[] jobArgs(String run) {
        return new String[] {
            "-p",
            Integer.toString(PARALLELISM),
            System.getProperty("seqrec.job.jar"),
            "run",
            "--bootstrap-servers",
            KAFKA.bootstrapServers(),
            "--model",
            TestPaths.defaultModel().toString(),
            "--input-topic",
            run + "-in",
            "--output-topic",
            run + "-out",
            "--dlq-topic",
            run + "-dlq",
            "--group-id",
            run,
            "--inference-threads",
            "1",
            "--starting-offsets",
            "earliest",
            "--delivery-guarantee",
            "exactly-once",
            "--transactional-id-prefix",
            run,
            "--batch-size",
            "8",
            "--checkpoint-interval",
            "500ms",
            "--checkpoint-timeout",
            "30s",
            "--min-pause-between-checkpoints",
            "100ms",
            "--transaction-timeout",
            "2m"
        };
    }

    private static JsonNode checkpoints(StandaloneFlinkCluster cluster, String job) {
        return cluster.rest("/jobs/" + job + "/checkpoints");
    }

    /** Waits until every task of {@code job} runs, so that the input meets a running job. */
    private static void awaitAllTasksRunning(StandaloneFlinkCluster cluster, String job)
            throws IOException {
        StandaloneFlinkCluster.await(
                "all tasks of " + job + " running",
                () -> {
                    JsonNode vertices = cluster.rest("/jobs/" + job).path("vertices");
                    for (JsonNode v : vertices) {
                        if (!v.path("status").asText().equals("RUNNING")) {
                            return false;
                        }
                    }
                    return !vertices.isEmpty();
                },
                Duration.ofMinutes(2));
    }

    /** How often the JVM of {@code process} loaded ONNX Runtime's JNI library. */
    private static long ortLoads(StandaloneFlinkCluster cluster, String process)
            throws IOException {
        try (var lines = Files.lines(cluster.log(process + "-library.log"))) {
            return lines.filter(l -> ORT_JNI_LOAD.matcher(l).find()).count();
        }
    }

    /** Each user's {@code seq} values are 1..n, each once: nothing skipped, nothing repeated. */
    private static void assertSeqContiguousPerUser(List<Recommendation> records) {
        Map<String, LongSummaryStatistics> byUser =
                records.stream()
                        .collect(
                                Collectors.groupingBy(
                                        Recommendation::userId,
                                        Collectors.summarizingLong(Recommendation::seq)));
        Map<String, Long> distinct =
                records.stream()
                        .collect(
                                Collectors.groupingBy(
                                        Recommendation::userId,
                                        Collectors.mapping(
                                                Recommendation::seq,
                                                Collectors.collectingAndThen(
                                                        Collectors.toSet(),
                                                        set -> (long) set.size()))));
        byUser.forEach(
                (user, stats) -> {
                    assertThat(stats.getMin()).as("first seq of %s", user).isEqualTo(1);
                    assertThat(stats.getMax())
                            .as("last seq of %s", user)
                            .isEqualTo(stats.getCount())
                            .isEqualTo(distinct.get(user));
                });
    }
}
