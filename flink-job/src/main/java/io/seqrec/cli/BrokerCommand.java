package io.seqrec.cli;

import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.config.JobOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code seqrec broker}: a single-node KRaft Kafka broker on a free loopback port with the job's
 * topics created, for trying {@code run}, {@code produce} and {@code tail} without a Kafka of your
 * own (and for the soak runs in docs/RELIABILITY.md). Runs until interrupted; its log directory is
 * created under {@code --dir} (the system temp directory by default) and deleted on exit.
 */
final class BrokerCommand {
    private BrokerCommand() {}

    static int run(String[] args) throws Exception {
        Flags f =
                new Flags(
                        args,
                        Set.of(
                                "dir",
                                "partitions",
                                "bootstrap-file",
                                "input-topic",
                                "output-topic",
                                "dlq-topic"));
        if (!f.rest().isEmpty()) {
            throw new UsageException("unknown option(s) for broker: " + f.rest().keySet());
        }
        int partitions = (int) f.longValue("partitions", 2, 1);
        String dir = f.string("dir", null);
        Path work = dir == null ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(dir);
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    broker.close();
                                    stopped.countDown();
                                },
                                "seqrec-broker-shutdown"));
        Topics.create(
                broker.bootstrapServers(),
                f.string("input-topic", JobOptions.INPUT_TOPIC.defaultValue()),
                f.string("output-topic", JobOptions.OUTPUT_TOPIC.defaultValue()),
                f.string("dlq-topic", JobOptions.DLQ_TOPIC.defaultValue()),
                partitions);
        String bootstrapFile = f.string("bootstrap-file", null);
        if (bootstrapFile != null) {
            Files.writeString(
                    Path.of(bootstrapFile),
                    broker.bootstrapServers() + "\n",
                    StandardCharsets.UTF_8);
        }
        System.out.println(
                "seqrec broker: bootstrap servers "
                        + broker.bootstrapServers()
                        + "; Ctrl-C stops it");
        stopped.await();
        return 0;
    }
}
