package io.seqrec.cli;

import io.seqrec.config.JobConfig;
import io.seqrec.kafka.KafkaPreflight;
import io.seqrec.launch.JobLauncher;
import io.seqrec.pipeline.JobEnvironment;
import java.time.Duration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code seqrec run}: the job against an existing Kafka. Locally (through {@code ./seqrec}) it runs
 * on an embedded Flink; under {@code flink run} on the cluster it is submitted to. Before that, the
 * model is probed and Kafka is checked with the job's own client settings, so a broken model, a
 * wrong password or a missing topic fails the command with a clear message instead of a restarting
 * job.
 */
final class RunCommand {
    /** How long the start-up check waits for Kafka before refusing to submit the job. */
    static final Duration KAFKA_CHECK_TIMEOUT = Duration.ofSeconds(30);

    private RunCommand() {}

    static final Command COMMAND =
            new Command(
                    "run",
                    "the job against your Kafka (--bootstrap-servers HOST:PORT)",
                    java.util.List.of(),
                    true,
                    RunCommand::run);

    static int run(Flags f) throws Exception {
        java.util.Map<String, String> raw = f.jobOptions();
        Main.defaultModel(raw);
        JobConfig config = JobConfig.fromMap(raw);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        JobEnvironment.flinkConfiguration(config));
        JobEnvironment.configure(env, config);
        JobLauncher.build(config, env);
        KafkaPreflight.check(config, KAFKA_CHECK_TIMEOUT);
        env.execute(config.jobName());
        return 0;
    }
}
