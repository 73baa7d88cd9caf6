package io.seqrec.broker;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.metadata.storage.Formatter;

/**
 * What the in-process broker and the tests' child-process broker ({@code KafkaBrokerProcess}, in
 * the test sources of this package) share: the single-node KRaft configuration, storage formatting
 * with Kafka's own {@link Formatter}, readiness and topic creation. Both run the same code path as
 * {@code kafka.Kafka} ({@code KafkaRaftServer}).
 */
final class KraftNode {

    /** Listener that {@code bootstrapServers()} points at; its security protocol may change. */
    static final String CLIENT_LISTENER = "CLIENT";

    /**
     * Always-PLAINTEXT listener for inter-broker traffic (the transaction coordinator sends its
     * markers to itself over it) and for our own Admin client, so that securing the client listener
     * with SASL needs no inter-broker or admin credentials.
     */
    static final String INTERNAL_LISTENER = "INTERNAL";

    static final String CONTROLLER_LISTENER = "CONTROLLER";

    /**
     * A second client listener, PLAINTEXT unless {@code listener.security.protocol.map} names it:
     * lets one broker offer two security protocols at once (e.g. SSL with client certificates and
     * SASL_SSL). A protocol map that leaves it out gets it appended as PLAINTEXT.
     */
    static final String SECOND_CLIENT_LISTENER = "CLIENT2";

    /** The broker decides these; letting callers override them would break bootstrapServers(). */
    private static final Set<String> OWNED_KEYS =
            Set.of(
                    "process.roles",
                    "node.id",
                    "listeners",
                    "advertised.listeners",
                    "controller.listener.names",
                    "controller.quorum.voters",
                    "controller.quorum.bootstrap.servers",
                    "inter.broker.listener.name",
                    "log.dir",
                    "log.dirs",
                    "metadata.log.dir");

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(60);

    /** Ports handed out in this JVM, so two brokers starting at once never get the same one. */
    private static final Set<Integer> ISSUED_PORTS = new LinkedHashSet<>();

    private KraftNode() {}

    record Ports(int client, int internal, int controller, int secondClient) {}

    static void checkExtraProperties(Map<String, String> extra) {
        List<String> owned = extra.keySet().stream().filter(OWNED_KEYS::contains).sorted().toList();
        if (!owned.isEmpty()) {
            throw new IllegalArgumentException(
                    "These broker properties are set by the embedded broker itself: " + owned);
        }
    }

    /**
     * Finds four free loopback ports. The ports must be known before start-up because the
     * controller's address is part of the quorum configuration and the child process must keep its
     * ports across restarts; a port taken in between shows up as a bind failure.
     */
    static Ports freePorts() {
        int[] ports = new int[4];
        synchronized (ISSUED_PORTS) {
            List<ServerSocket> held = new ArrayList<>();
            try {
                int found = 0;
                while (found < ports.length) {
                    // Holding all sockets open until the end keeps the ports distinct.
                    ServerSocket socket = new ServerSocket();
                    held.add(socket);
                    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                    if (ISSUED_PORTS.add(socket.getLocalPort())) {
                        ports[found++] = socket.getLocalPort();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Could not find free loopback ports", e);
            } finally {
                held.forEach(KraftNode::closeQuietly);
            }
            while (ISSUED_PORTS.size() > 1024) {
                ISSUED_PORTS.remove(ISSUED_PORTS.iterator().next());
            }
        }
        return new Ports(ports[0], ports[1], ports[2], ports[3]);
    }

    /** Broker + controller on one node, tuned for one node; {@code extra} wins over defaults. */
    static Properties serverProperties(
            int nodeId, Path dataDir, Ports ports, Map<String, String> extra) {
        checkExtraProperties(extra);
        String host = "127.0.0.1";
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(nodeId));
        p.put("controller.quorum.voters", nodeId + "@" + host + ":" + ports.controller());
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put(
                "listeners",
                String.join(
                        ",",
                        CLIENT_LISTENER + "://" + host + ":" + ports.client(),
                        INTERNAL_LISTENER + "://" + host + ":" + ports.internal(),
                        SECOND_CLIENT_LISTENER + "://" + host + ":" + ports.secondClient(),
                        CONTROLLER_LISTENER + "://" + host + ":" + ports.controller()));
        p.put(
                "advertised.listeners",
                String.join(
                        ",",
                        CLIENT_LISTENER + "://" + host + ":" + ports.client(),
                        INTERNAL_LISTENER + "://" + host + ":" + ports.internal(),
                        SECOND_CLIENT_LISTENER + "://" + host + ":" + ports.secondClient()));
        p.put("inter.broker.listener.name", INTERNAL_LISTENER);
        p.put(
                "listener.security.protocol.map",
                CLIENT_LISTENER
                        + ":PLAINTEXT,"
                        + INTERNAL_LISTENER
                        + ":PLAINTEXT,"
                        + CONTROLLER_LISTENER
                        + ":PLAINTEXT,"
                        + SECOND_CLIENT_LISTENER
                        + ":PLAINTEXT");
        p.put("log.dirs", dataDir.toAbsolutePath().toString());

        // One node: every internal topic has exactly one replica.
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        // 50 partitions each (the default) makes the first group join / transaction slow.
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        // The default 128 MB dedupe buffer is allocated up front, per broker.
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(16 * 1024 * 1024));

        p.putAll(extra);
        String protocols = p.get("listener.security.protocol.map");
        if (Arrays.stream(protocols.split(","))
                .noneMatch(entry -> entry.trim().startsWith(SECOND_CLIENT_LISTENER + ":"))) {
            p.put(
                    "listener.security.protocol.map",
                    protocols + "," + SECOND_CLIENT_LISTENER + ":PLAINTEXT");
        }
        Properties props = new Properties();
        props.putAll(p);
        return props;
    }

    /**
     * Formats the node's storage with a fresh random cluster id, the way {@code kafka-storage.sh
     * format} does for a node with static controller voters.
     *
     * @return the cluster id
     */
    static String formatStorage(KafkaConfig config, Path dataDir) {
        String clusterId = Uuid.randomUuid().toString();
        try {
            Files.createDirectories(dataDir);
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(config.nodeId())
                    .setClusterId(clusterId)
                    .setUnstableFeatureVersionsEnabled(config.unstableFeatureVersionsEnabled())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setMetadataLogDirectory(config.metadataLogDir())
                    .setHasDynamicQuorum(false)
                    .addDirectory(dataDir.toAbsolutePath().toString())
                    .run();
        } catch (Exception e) {
            throw new KafkaException("Could not format Kafka storage in " + dataDir, e);
        }
        return clusterId;
    }

    static String bootstrap(Ports ports) {
        return "127.0.0.1:" + ports.client();
    }

    static String secondBootstrap(Ports ports) {
        return "127.0.0.1:" + ports.secondClient();
    }

    static String internalBootstrap(Ports ports) {
        return "127.0.0.1:" + ports.internal();
    }

    static Admin internalAdmin(Ports ports) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, internalBootstrap(ports));
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "seqrec-embedded-broker-admin");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        props.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "200");
        return Admin.create(props);
    }

    /**
     * Waits until the broker answers a metadata request and lists itself.
     *
     * @param failure checked between attempts; a non-null message (e.g. "the process exited") ends
     *     the wait at once
     */
    static void awaitReady(Admin admin, Supplier<String> failure) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            String failed = failure.get();
            if (failed != null) {
                throw new IllegalStateException("Kafka broker did not start: " + failed, last);
            }
            try {
                if (!admin.describeCluster().nodes().get(1, TimeUnit.SECONDS).isEmpty()
                        && groupCoordinatorAnswers(admin)) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                last = e; // not listening yet: ask again
            } catch (InterruptedException e) {
                throw new InterruptException(e);
            }
        }
        throw new IllegalStateException(
                "Kafka broker was not ready within " + READY_TIMEOUT.toSeconds() + " s", last);
    }

    /**
     * Whether the group coordinator answers. The first request for one creates the offsets topic;
     * until its partitions have leaders, offset commits fail with "coordinator not available",
     * which a Flink source logs as a warning at its first checkpoint. Asking here makes a new
     * broker ready for consumer groups before anyone uses it.
     */
    private static boolean groupCoordinatorAnswers(Admin admin)
            throws InterruptedException, TimeoutException {
        try {
            admin.describeConsumerGroups(List.of("seqrec-readiness-probe"))
                    .all()
                    .get(1, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            // An unknown group is an answer from the coordinator; anything else is not yet.
            return e.getCause() instanceof GroupIdNotFoundException;
        }
    }

    /** Creates the topics and returns once every partition has a leader. */
    static void createTopics(
            Admin admin, int partitions, Map<String, String> topicConfigs, String... names) {
        if (names.length == 0) {
            return;
        }
        List<NewTopic> topics =
                Arrays.stream(names)
                        .map(
                                name ->
                                        new NewTopic(name, partitions, (short) 1)
                                                .configs(topicConfigs))
                        .toList();
        long deadline = System.nanoTime() + TOPIC_TIMEOUT.toNanos();
        try {
            admin.createTopics(topics).all().get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            awaitLeaders(admin, Arrays.asList(names), deadline);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new KafkaException(
                    "Could not create topics " + Arrays.toString(names) + ": " + cause, cause);
        } catch (InterruptedException e) {
            throw new InterruptException(e);
        }
    }

    // The controller has committed the topics when createTopics completes; the broker serves
    // them only once it has applied that metadata.
    private static void awaitLeaders(Admin admin, Collection<String> names, long deadline)
            throws InterruptedException, TimeoutException, ExecutionException {
        while (true) {
            try {
                Map<String, TopicDescription> described =
                        admin.describeTopics(names).allTopicNames().get(5, TimeUnit.SECONDS);
                if (described.values().stream()
                        .flatMap(d -> d.partitions().stream())
                        .map(TopicPartitionInfo::leader)
                        .allMatch(leader -> leader != null && !leader.isEmpty())) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException)) {
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        "Partitions of "
                                + names.stream().collect(Collectors.joining(", "))
                                + " have no leader yet");
            }
            Thread.sleep(20); // back-off between metadata polls, bounded by the deadline
        }
    }

    static boolean causedByBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException
                    || String.valueOf(t.getMessage()).contains("failed to bind")) {
                return true;
            }
        }
        return false;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // only releasing a probe socket
        }
    }
}
