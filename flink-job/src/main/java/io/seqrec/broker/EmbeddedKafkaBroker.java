package io.seqrec.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller roles) running inside this
 * JVM, for {@code seqrec demo}, benchmarks and tests.
 *
 * <p>What it promises:
 *
 * <ul>
 *   <li>{@link #start} returns only once the broker serves requests; it listens on free ports of
 *       127.0.0.1 only and keeps all its data in a fresh directory under the given work directory,
 *       formatted with a random cluster id.
 *   <li>Settings suit a single node: internal topics have one replica ({@code min.isr} 1), consumer
 *       groups rebalance without initial delay, topics are never created automatically (use {@link
 *       #createTopics}), {@code num.partitions} is 1. Any broker property except the listeners,
 *       node identity and directories can be overridden at start.
 *   <li>Several brokers may run in one JVM at once, and a JVM may start brokers one after another.
 *   <li>{@link #close} shuts the broker down cleanly and deletes the directory it created.
 *   <li>Broker log output is capped at WARN (when log4j-core is present).
 * </ul>
 *
 * <p>It is a real broker in every respect, including that a fatal fault (e.g. its metadata log
 * becoming unwritable) halts the JVM.
 *
 * <p>Clients connect to {@link #bootstrapServers()}, the listener named {@value #CLIENT_LISTENER}
 * (PLAINTEXT unless overridden, e.g. {@code listener.security.protocol.map=
 * CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT} with {@code
 * listener.name.client.*} settings). Inter-broker traffic and this class's own Admin client use a
 * separate PLAINTEXT loopback listener named {@value #INTERNAL_LISTENER}, so securing the client
 * listener needs no further credentials; with an authorizer enabled, {@code User:ANONYMOUS} has to
 * be a super user for that reason.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    /** Name of the listener behind {@link #bootstrapServers()}, for listener-scoped settings. */
    public static final String CLIENT_LISTENER = KraftNode.CLIENT_LISTENER;

    /**
     * Name of the listener behind {@link #secondBootstrapServers()}: PLAINTEXT unless {@code
     * listener.security.protocol.map} names it, for a second security protocol on one broker.
     */
    public static final String SECOND_CLIENT_LISTENER = KraftNode.SECOND_CLIENT_LISTENER;

    /** Name of the PLAINTEXT listener for inter-broker and administrative traffic. */
    public static final String INTERNAL_LISTENER = KraftNode.INTERNAL_LISTENER;

    private static final int START_ATTEMPTS = 3;

    // Distinct node ids keep two brokers in one JVM from fighting over the same JMX app-info name.
    private static final AtomicInteger NEXT_NODE_ID = new AtomicInteger(1);

    private final KafkaRaftServer server;
    private final KraftNode.Ports ports;
    private final String clusterId;
    private final Path home;
    private final Admin admin;
    private boolean closed;

    private EmbeddedKafkaBroker(
            KafkaRaftServer server, KraftNode.Ports ports, String clusterId, Path home) {
        this.server = server;
        this.ports = ports;
        this.clusterId = clusterId;
        this.home = home;
        this.admin = KraftNode.internalAdmin(ports);
    }

    /** Starts a broker with the default single-node settings; see the class documentation. */
    public static EmbeddedKafkaBroker start(Path workDir) {
        return start(workDir, Map.of());
    }

    /**
     * Starts a broker whose configuration is the single-node defaults overridden by {@code
     * brokerProperties} (e.g. {@code transaction.max.timeout.ms}, {@code num.partitions}, SASL
     * settings).
     *
     * @param workDir created if missing; the broker uses a new subdirectory of it
     * @throws IllegalArgumentException if {@code brokerProperties} sets a listener, node-identity
     *     or directory property
     */
    public static EmbeddedKafkaBroker start(Path workDir, Map<String, String> brokerProperties) {
        KraftNode.checkExtraProperties(brokerProperties);
        BrokerLogging.capAtWarn();
        Path home;
        try {
            Files.createDirectories(workDir);
            home = Files.createTempDirectory(workDir, "kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a broker directory in " + workDir, e);
        }
        try {
            return startIn(home, brokerProperties);
        } catch (RuntimeException | Error e) {
            deleteQuietly(home);
            throw e;
        }
    }

    private static EmbeddedKafkaBroker startIn(Path home, Map<String, String> brokerProperties) {
        int nodeId = NEXT_NODE_ID.getAndIncrement();
        Path dataDir = home.resolve("data");
        for (int attempt = 1; ; attempt++) {
            KraftNode.Ports ports = KraftNode.freePorts();
            KafkaConfig config =
                    KafkaConfig.fromProps(
                            KraftNode.serverProperties(nodeId, dataDir, ports, brokerProperties),
                            false);
            String clusterId = KraftNode.formatStorage(config, dataDir);
            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            try {
                server.startup();
            } catch (RuntimeException e) {
                shutdown(server);
                // Another process may take a port between our probe and the broker's bind.
                if (attempt < START_ATTEMPTS && KraftNode.causedByBindFailure(e)) {
                    deleteQuietly(dataDir);
                    continue;
                }
                throw e;
            }
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, ports, clusterId, home);
            try {
                KraftNode.awaitReady(broker.admin, () -> null);
            } catch (RuntimeException e) {
                broker.close();
                throw e;
            }
            return broker;
        }
    }

    /** {@code host:port} of the client listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return KraftNode.bootstrap(ports);
    }

    /** {@code host:port} of the {@value #SECOND_CLIENT_LISTENER} listener. */
    public String secondBootstrapServers() {
        return KraftNode.secondBootstrap(ports);
    }

    /**
     * {@code host:port} of the always-PLAINTEXT {@value #INTERNAL_LISTENER} listener: for
     * administration (e.g. creating SCRAM credentials) and test clients when the client listener
     * requires authentication.
     */
    public String internalBootstrapServers() {
        return KraftNode.internalBootstrap(ports);
    }

    /** The random cluster id the storage was formatted with. */
    public String clusterId() {
        return clusterId;
    }

    /**
     * Creates topics with one replica and the broker's default topic configuration, and returns
     * once every partition has a leader.
     *
     * @throws org.apache.kafka.common.KafkaException if a topic exists already or creation fails
     */
    public void createTopics(int partitions, String... names) {
        createTopics(partitions, Map.of(), names);
    }

    /**
     * Like {@link #createTopics(int, String...)}, with topic-level configs (e.g. {@code
     * cleanup.policy=compact}) applied to every topic named.
     */
    public void createTopics(int partitions, Map<String, String> topicConfigs, String... names) {
        KraftNode.createTopics(admin, partitions, topicConfigs, names);
    }

    /** Shuts the broker down cleanly and deletes its directory; calling it again does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // The admin first: it would otherwise keep reconnecting to the stopping broker.
        admin.close();
        shutdown(server);
        deleteQuietly(home);
    }

    private static void shutdown(KafkaRaftServer server) {
        server.shutdown();
        server.awaitShutdown();
    }

    private static void deleteQuietly(Path dir) {
        try {
            Utils.delete(dir.toFile());
        } catch (IOException e) {
            // Left-over files under a work dir are harmless; failing close() over them is not.
        }
    }
}
