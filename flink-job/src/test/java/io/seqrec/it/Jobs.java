package io.seqrec.it;

import io.seqrec.TestPaths;
import io.seqrec.config.JobConfig;
import io.seqrec.launch.JobLauncher;
import io.seqrec.pipeline.JobEnvironment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** Starts the Kafka-backed job on the test's MiniCluster, built as {@code seqrec run} builds it. */
final class Jobs {
    private Jobs() {}

    /** A MiniCluster of one task manager with {@code slots} slots, for the test's jobs. */
    static MiniClusterExtension miniCluster(int slots) {
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(slots)
                        .build());
    }

    /**
     * The job's configuration in tests: the given broker, the shipped model (unless {@code flags}
     * name another with {@code --model}), input read from the earliest offset, checkpoints in
     * {@code checkpointDir}; {@code flags} add the rest.
     */
    static JobConfig config(String bootstrap, Path checkpointDir, String... flags) {
        return config(bootstrap, checkpointDir.toUri().toString(), flags);
    }

    /** As above, with checkpoints under a URI of any Flink file system (e.g. {@code s3://}). */
    static JobConfig config(String bootstrap, String checkpointUri, String... flags) {
        String[] base = {
            "--bootstrap-servers",
            bootstrap,
            "--starting-offsets",
            "earliest",
            "--checkpoint-dir",
            checkpointUri
        };
        String[] model =
                Arrays.asList(flags).contains("--model")
                        ? new String[0]
                        : new String[] {"--model", TestPaths.defaultModel().toString()};
        return JobConfig.fromArgs(
                Stream.of(base, model, flags).flatMap(Arrays::stream).toArray(String[]::new));
    }

    /**
     * Builds the job with {@link JobLauncher#build}, model probe included, on the MiniCluster at
     * {@code parallelism}, and submits it without waiting for it to end.
     */
    static JobClient start(JobConfig config, int parallelism, String name) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobEnvironment.configure(env, config);
        env.setParallelism(parallelism);
        JobLauncher.build(config, env);
        return env.executeAsync(name);
    }
}
