package io.seqrec.pipeline;

import io.seqrec.config.JobConfig;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Flink settings the job needs to keep its guarantees: RocksDB with incremental checkpoints,
 * exactly-once checkpoints at the configured interval, retained on cancellation (so {@code
 * --from-savepoint} can restore the latest), and a restart strategy whose backoff is capped and
 * whose attempts are unlimited unless {@code --restart-attempts} bounds them.
 */
public final class JobEnvironment {
    private JobEnvironment() {}

    /** Flink configuration derived from the job configuration. */
    public static Configuration flinkConfiguration(JobConfig c) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, c.checkpointInterval());
        conf.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, c.checkpointTimeout());
        conf.set(
                CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, c.minPauseBetweenCheckpoints());
        conf.set(
                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                CheckpointingMode.EXACTLY_ONCE);
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (c.checkpointDir() != null) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, c.checkpointDir());
            conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
                c.restartBackoff());
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
                c.restartMaxBackoff());
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS,
                c.restartAttempts());
        conf.set(ExecutionOptions.BUFFER_TIMEOUT, c.bufferTimeout());
        // The job needs no delegation tokens (Kerberos, Hadoop): without this a local Flink starts
        // the token framework and warns that it obtained none. A cluster's own setting governs it
        // there; a job cannot change it.
        conf.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        if (c.fromSavepoint() != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, c.fromSavepoint());
        }
        return conf;
    }

    /** Applies the job's settings to an environment (parallelism, object reuse). */
    public static void configure(StreamExecutionEnvironment env, JobConfig c) {
        env.configure(flinkConfiguration(c));
        if (c.parallelism() > 0) {
            env.setParallelism(c.parallelism());
        }
        // Records between chained operators are immutable: no defensive copies needed.
        env.getConfig().enableObjectReuse();
    }
}
