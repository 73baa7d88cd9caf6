package io.seqrec.launch;

import io.seqrec.config.JobConfig;
import io.seqrec.model.ModelArtifact;
import io.seqrec.pipeline.JobEnvironment;
import io.seqrec.pipeline.RecommendOptions;
import java.time.Duration;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job on a Flink embedded in this process, as {@code seqrec demo} and {@code bench} run it:
 * configured like a cluster job ({@link JobEnvironment}), launched through {@link JobLauncher},
 * with Flink's scratch files (RocksDB's working directories among them) in a temporary directory of
 * its own, removed by {@link #cancel()}. That directory sits right under {@code java.io.tmpdir}
 * (the launcher's per-run directory): RocksDB's paths append job, operator and key-group ids, and a
 * deep base path makes them too long for the files RocksDB names after them.
 */
public final class LocalJob {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final JobClient client;
    private final ModelArtifact artifact;
    private final WorkDir scratch;

    private LocalJob(JobClient client, ModelArtifact artifact, WorkDir scratch) {
        this.client = client;
        this.artifact = artifact;
        this.scratch = scratch;
    }

    /**
     * Submits the job and returns once it runs and its tasks have had time to deploy and load the
     * model, so that what is measured next is the running job rather than its start-up.
     *
     * @param options the operator's options (the bench varies batching per phase)
     */
    public static LocalJob start(JobConfig config, RecommendOptions options) throws Exception {
        WorkDir scratch = WorkDir.create("f");
        Configuration conf = JobEnvironment.flinkConfiguration(config);
        conf.set(CoreOptions.TMP_DIRS, scratch.path().toString());
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(config.parallelism(), conf);
        JobEnvironment.configure(env, config);
        ModelArtifact artifact = JobLauncher.build(config, env, options);
        LocalJob job = new LocalJob(env.executeAsync(config.jobName()), artifact, scratch);
        job.awaitRunning();
        return job;
    }

    private void awaitRunning() throws Exception {
        long deadline = System.currentTimeMillis() + START_TIMEOUT.toMillis();
        while (client.getJobStatus().get() != JobStatus.RUNNING) {
            if (client.getJobStatus().get().isTerminalState()
                    || System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(
                        "the job did not start: " + client.getJobStatus().get());
            }
            Thread.sleep(100);
        }
        // RUNNING is reported when the tasks are scheduled; they still deploy and load the model.
        Thread.sleep(3000);
    }

    public ModelArtifact artifact() {
        return artifact;
    }

    public boolean ended() throws Exception {
        return client.getJobStatus().get().isTerminalState();
    }

    /** Cancels the job and removes its scratch files. */
    public void cancel() throws Exception {
        try {
            client.cancel().get();
        } finally {
            scratch.close();
        }
    }
}
