package io.seqrec.launch;

import io.seqrec.config.JobConfig;
import io.seqrec.model.ModelArtifact;
import io.seqrec.pipeline.JobEnvironment;
import io.seqrec.pipeline.RecommendOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
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
    private final JobConfig config;
    private final ModelArtifact artifact;
    private final WorkDir scratch;

    private LocalJob(JobClient client, JobConfig config, ModelArtifact artifact, WorkDir scratch) {
        this.client = client;
        this.config = config;
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
        LocalJob job = new LocalJob(env.executeAsync(config.jobName()), config, artifact, scratch);
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

    /** Whether the job ended, or its per-job cluster already shut down and cannot say. */
    private boolean endedOrGone() {
        try {
            return ended();
        } catch (Exception e) {
            return true;
        }
    }

    /**
     * Cancels the job just after a checkpoint has completed, so that none is in flight: a cancel
     * aborts a running checkpoint ("Checkpoint Coordinator is suspending"), which Flink reports as
     * a warning although nothing is wrong. Waits at most one checkpoint interval plus timeout for
     * that moment (the checkpoint's {@code _metadata} file appearing in a local checkpoint
     * directory), then cancels anyway.
     */
    public void cancelBetweenCheckpoints() throws Exception {
        Path jobCheckpoints = localCheckpoints();
        if (jobCheckpoints != null) {
            long seen = newestCompleted(jobCheckpoints);
            long deadline =
                    System.currentTimeMillis()
                            + config.checkpointInterval()
                                    .plus(config.checkpointTimeout())
                                    .toMillis();
            while (newestCompleted(jobCheckpoints) == seen
                    && System.currentTimeMillis() < deadline
                    && !ended()) {
                Thread.sleep(20);
            }
        }
        cancel();
    }

    /** This job's checkpoint directory, if checkpoints go to the local file system. */
    private Path localCheckpoints() {
        if (config.checkpointDir() == null || !config.checkpointDir().startsWith("file:")) {
            return null;
        }
        return Path.of(URI.create(config.checkpointDir())).resolve(client.getJobID().toString());
    }

    /** The number of the newest checkpoint with its metadata written, -1 if none. */
    private static long newestCompleted(Path jobCheckpoints) throws IOException {
        if (!Files.isDirectory(jobCheckpoints)) {
            return -1;
        }
        try (Stream<Path> dirs = Files.list(jobCheckpoints)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("chk-"))
                    .filter(d -> Files.exists(d.resolve("_metadata")))
                    .mapToLong(d -> Long.parseLong(d.getFileName().toString().substring(4)))
                    .max()
                    .orElse(-1);
        }
    }

    /**
     * Cancels the job and removes its scratch files once the job has ended: an acknowledged cancel
     * still leaves the tasks closing their state backends, which write into the scratch directory.
     */
    public void cancel() throws Exception {
        try {
            client.cancel().get();
            long deadline = System.currentTimeMillis() + START_TIMEOUT.toMillis();
            while (!endedOrGone() && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            scratch.close();
        }
    }
}
