package io.seqrec.it;

import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.broker.KafkaBrokerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real single-node KRaft broker for the tests of one class: started before the first test (and
 * before the class's {@code @BeforeAll} methods, which may create topics), in a temporary directory
 * of its own, and stopped after the last test, its directory deleted. Register it on a static
 * field:
 *
 * <pre>
 * &#64;RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
 * </pre>
 *
 * <p>By default the broker runs in the test JVM ({@link EmbeddedKafkaBroker}) with its single-node
 * settings; {@link #withBrokerProperties} overrides broker settings (e.g. SASL on the client
 * listener), and {@link #asChildProcess} runs it as a child JVM ({@link KafkaBrokerProcess}) that
 * {@link #kill} and {@link #restart} crash and bring back on the same address.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, String> brokerProperties;
    private final boolean childProcess;
    private Path workDir;
    private EmbeddedKafkaBroker embedded;
    private KafkaBrokerProcess process;

    /** An in-process broker with the single-node defaults. */
    public KafkaBrokerExtension() {
        this(Map.of(), false);
    }

    private KafkaBrokerExtension(Map<String, String> brokerProperties, boolean childProcess) {
        this.brokerProperties = brokerProperties;
        this.childProcess = childProcess;
    }

    /**
     * The same broker with {@code properties} over the single-node defaults; see {@link
     * EmbeddedKafkaBroker#start(Path, Map)} for what may be set.
     */
    public KafkaBrokerExtension withBrokerProperties(Map<String, String> properties) {
        return new KafkaBrokerExtension(Map.copyOf(properties), childProcess);
    }

    /** The same broker as a child JVM, for tests that crash and restart it. */
    public KafkaBrokerExtension asChildProcess() {
        return new KafkaBrokerExtension(brokerProperties, true);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        workDir =
                Files.createTempDirectory(
                        "kafka-" + context.getRequiredTestClass().getSimpleName() + "-");
        if (childProcess) {
            process = KafkaBrokerProcess.start(workDir, brokerProperties);
        } else {
            embedded = EmbeddedKafkaBroker.start(workDir, brokerProperties);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (embedded != null) {
                embedded.close();
            }
            if (process != null) {
                process.close();
            }
        } finally {
            embedded = null;
            process = null;
            if (workDir != null) {
                Utils.delete(workDir.toFile());
                workDir = null;
            }
        }
    }

    /** {@code host:port} of the client listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return childProcess ? process().bootstrapServers() : embedded().bootstrapServers();
    }

    /**
     * {@code host:port} of the second client listener, for a second security protocol on the same
     * broker (see {@link EmbeddedKafkaBroker#SECOND_CLIENT_LISTENER}).
     */
    public String secondBootstrapServers() {
        return childProcess
                ? process().secondBootstrapServers()
                : embedded().secondBootstrapServers();
    }

    /**
     * {@code host:port} of the always-PLAINTEXT internal listener: for test clients and
     * administration when the client listener requires authentication.
     */
    public String internalBootstrapServers() {
        return childProcess
                ? process().internalBootstrapServers()
                : embedded().internalBootstrapServers();
    }

    /** The random cluster id the broker's storage was formatted with. */
    public String clusterId() {
        return childProcess ? process().clusterId() : embedded().clusterId();
    }

    /** Creates topics with one replica; returns once every partition has a leader. */
    public void createTopics(int partitions, String... names) {
        createTopics(partitions, Map.of(), names);
    }

    /** Like {@link #createTopics(int, String...)}, with topic-level configs for every topic. */
    public void createTopics(int partitions, Map<String, String> topicConfigs, String... names) {
        if (childProcess) {
            process().createTopics(partitions, topicConfigs, names);
        } else {
            embedded().createTopics(partitions, topicConfigs, names);
        }
    }

    /**
     * The job's three topics: input and output with {@code partitions} partitions each, the
     * dead-letter topic with one.
     */
    public void createJobTopics(int partitions, String input, String output, String deadLetters) {
        createTopics(partitions, input, output);
        createTopics(1, deadLetters);
    }

    /** Kills the child-process broker at once (SIGKILL), as a crash would. */
    public void kill() {
        process().kill();
    }

    /** Starts the child-process broker again on the same ports, data and cluster id. */
    public void restart() {
        process().restart();
    }

    private EmbeddedKafkaBroker embedded() {
        if (embedded == null) {
            throw new IllegalStateException(notRunning());
        }
        return embedded;
    }

    private KafkaBrokerProcess process() {
        if (process == null) {
            throw new IllegalStateException(
                    childProcess ? notRunning() : "kill and restart need asChildProcess()");
        }
        return process;
    }

    private static String notRunning() {
        return "No broker running: register KafkaBrokerExtension with @RegisterExtension on a"
                + " static field";
    }
}
