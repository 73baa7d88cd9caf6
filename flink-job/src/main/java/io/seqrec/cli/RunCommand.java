package io.seqrec.cli;

import io.seqrec.config.JobConfig;
import io.seqrec.pipeline.JobEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code seqrec run}: the job against an existing Kafka. Locally (through {@code ./seqrec}) it runs
 * on an embedded Flink; under {@code flink run} on the cluster it is submitted to.
 */
final class RunCommand {
    private RunCommand() {}

    static int run(String[] args) throws Exception {
        java.util.Map<String, String> raw = JobConfig.toMap(args);
        Main.defaultModel(raw);
        JobConfig config = JobConfig.fromMap(raw);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        JobEnvironment.flinkConfiguration(config));
        JobEnvironment.configure(env, config);
        JobLauncher.build(config, env);
        env.execute(config.jobName());
        return 0;
    }
}
