package io.seqrec.cli;

import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.nonEmpty;

import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
import io.seqrec.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code seqrec broker}: a single-node KRaft Kafka broker on a free loopback port with the job's
 * topics created, for trying {@code run}, {@code produce} and {@code tail} without a Kafka of your
 * own (and for the soak runs in docs/RELIABILITY.md). Runs until interrupted; its log directory is
 * created under {@code --dir} (the system temp directory by default) and deleted on exit.
 */
final class BrokerCommand {
    private BrokerCommand() {}

    static final Option<java.nio.file.Path> DIR =
            new Option<>(
                    "dir",
                    null,
                    "DIR",
                    "Where the broker's log directory is created (default: the temp directory).",
                    s -> java.nio.file.Path.of(nonEmpty().apply(s)));
    static final Option<Integer> PARTITIONS =
            new Option<>(
                    "partitions", "2", "N", "Partitions of each topic.", intInRange(1, 10_000));
    static final Option<java.nio.file.Path> BOOTSTRAP_FILE =
            new Option<>(
                    "bootstrap-file",
                    null,
                    "FILE",
                    "Also write the bootstrap servers to this file.",
                    s -> java.nio.file.Path.of(nonEmpty().apply(s)));
    // The topics to create: the job's own options, so their names and defaults are the job's.
    static final Command COMMAND =
            new Command(
                    "broker",
                    "a local single-node Kafka (KRaft) with the job's topics, until Ctrl-C",
                    List.of(
                            DIR,
                            PARTITIONS,
                            BOOTSTRAP_FILE,
                            JobOptions.INPUT_TOPIC,
                            JobOptions.OUTPUT_TOPIC,
                            JobOptions.DLQ_TOPIC),
                    false,
                    BrokerCommand::run);

    static int run(Flags f) throws Exception {
        int partitions = f.get(PARTITIONS);
        Path work = f.get(DIR, Path.of(System.getProperty("java.io.tmpdir")));
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
                f.get(JobOptions.INPUT_TOPIC),
                f.get(JobOptions.OUTPUT_TOPIC),
                f.get(JobOptions.DLQ_TOPIC),
                partitions);
        Path bootstrapFile = f.get(BOOTSTRAP_FILE);
        if (bootstrapFile != null) {
            Files.writeString(
                    bootstrapFile, broker.bootstrapServers() + "\n", StandardCharsets.UTF_8);
        }
        System.out.println(
                "seqrec broker: bootstrap servers "
                        + broker.bootstrapServers()
                        + "; Ctrl-C stops it");
        stopped.await();
        return 0;
    }
}
