package io.seqrec.kafka;

import io.seqrec.config.JobConfig;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/** Creates the job's three topics on a local broker, configured as the README recommends. */
public final class Topics {
    private Topics() {}

    /** The topics {@code config} names, on the broker it names. */
    public static void create(JobConfig config, int partitions) throws Exception {
        create(
                config.bootstrapServers(),
                config.inputTopic(),
                config.outputTopic(),
                config.dlqTopic(),
                partitions);
    }

    public static void create(
            String bootstrapServers,
            String input,
            String output,
            String deadLetters,
            int partitions)
            throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(
                            List.of(
                                    new NewTopic(input, partitions, (short) 1),
                                    // Consumers want each user's latest list: compaction keeps
                                    // exactly that.
                                    new NewTopic(output, partitions, (short) 1)
                                            .configs(Map.of("cleanup.policy", "compact")),
                                    new NewTopic(deadLetters, 1, (short) 1)))
                    .all()
                    .get();
        }
    }
}
