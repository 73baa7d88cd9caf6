package io.seqrec.broker;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.utils.Utils;

/**
 * The same single-node KRaft broker as {@link EmbeddedKafkaBroker}, run as a child JVM so that it
 * can be crashed and restarted: for fault-injection tests.
 *
 * <p>What it promises:
 *
 * <ul>
 *   <li>{@link #start} formats storage with Kafka's own formatter (random cluster id), launches
 *       {@code kafka.Kafka server.properties} on this JVM's class path and returns once the broker
 *       serves requests.
 *   <li>{@link #kill()} ends the process abruptly, as a crash would; {@link #restart()} starts it
 *       again on the same ports, log directory and cluster id, so clients configured with {@link
 *       #bootstrapServers()} reconnect by themselves and acknowledged records survive.
 *   <li>The child dies with this JVM, even if this JVM is killed: it watches its standard input,
 *       which closes when the parent goes away.
 *   <li>{@link #close()} stops the broker and deletes the directory it created. The broker's output
 *       (log4j at WARN) goes to {@code broker.log} in that directory until then.
 * </ul>
 *
 * <p>Broker properties and listener names are those of {@link EmbeddedKafkaBroker}, except that the
 * broker's session with its controller lasts 3 s instead of 9 s ({@code
 * broker.session.timeout.ms}), since a restart after a crash waits for the old session to expire.
 */
public final class KafkaBrokerProcess implements AutoCloseable {

    private static final long STOP_TIMEOUT_SECONDS = 30;

    /**
     * After a crash the restarted controller refuses the broker's new registration until the old
     * incarnation's session expires (9 s by default): a shorter session makes restarts quicker.
     */
    private static final Map<String, String> RESTART_FRIENDLY =
            Map.of("broker.heartbeat.interval.ms", "500", "broker.session.timeout.ms", "3000");

    private final Path home;
    private final KraftNode.Ports ports;
    private final String clusterId;
    private final List<String> command;
    private final Thread killOnExit;
    // Volatile so the JVM shutdown hook can kill the child without waiting for this lock.
    private volatile Process process;
    private boolean closed;

    private KafkaBrokerProcess(
            Path home, KraftNode.Ports ports, String clusterId, List<String> command) {
        this.home = home;
        this.ports = ports;
        this.clusterId = clusterId;
        this.command = command;
        this.killOnExit =
                new Thread(
                        () -> {
                            Process running = process;
                            if (running != null) {
                                running.destroyForcibly();
                            }
                        },
                        "kafka-broker-process-reaper");
    }

    /** Starts a broker process with the default single-node settings. */
    public static KafkaBrokerProcess start(Path workDir) {
        return start(workDir, Map.of());
    }

    /**
     * Starts a broker process whose configuration is the single-node defaults of {@link
     * EmbeddedKafkaBroker} overridden by {@code brokerProperties}.
     *
     * @param workDir created if missing; the broker uses a new subdirectory of it
     */
    public static KafkaBrokerProcess start(Path workDir, Map<String, String> brokerProperties) {
        KraftNode.checkExtraProperties(brokerProperties);
        Path home;
        try {
            Files.createDirectories(workDir);
            home = Files.createTempDirectory(workDir, "kafka-process-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a broker directory in " + workDir, e);
        }
        try {
            KraftNode.Ports ports = KraftNode.freePorts();
            Path dataDir = home.resolve("data");
            Map<String, String> extra = new LinkedHashMap<>(RESTART_FRIENDLY);
            extra.putAll(brokerProperties);
            Properties props = KraftNode.serverProperties(1, dataDir, ports, extra);
            String clusterId =
                    KraftNode.formatStorage(KafkaConfig.fromProps(props, false), dataDir);
            Path serverProperties = home.resolve("server.properties");
            try (Writer out = Files.newBufferedWriter(serverProperties, StandardCharsets.UTF_8)) {
                props.store(out, "seqrec KafkaBrokerProcess");
            }
            Path log4j = home.resolve("log4j2.properties");
            Files.writeString(log4j, LOG4J_CONFIG, StandardCharsets.UTF_8);

            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(
                    List.of(
                            // Small, serial GC, C1 only: starts faster and leaves the
                            // machine's cores to the test; a test broker needs little speed.
                            "-Xmx512m",
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                            "-Djava.awt.headless=true",
                            "-Dlog4j2.configurationFile=" + log4j.toUri(),
                            "-cp",
                            absoluteClassPath(),
                            ChildBrokerMain.class.getName(),
                            serverProperties.toString()));
            KafkaBrokerProcess broker = new KafkaBrokerProcess(home, ports, clusterId, command);
            Runtime.getRuntime().addShutdownHook(broker.killOnExit);
            try {
                broker.launch();
            } catch (RuntimeException | Error e) {
                broker.close();
                throw e;
            }
            return broker;
        } catch (IOException e) {
            deleteQuietly(home);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(home);
            throw e;
        }
    }

    /** {@code host:port} of the client listener; unchanged across restarts. */
    public String bootstrapServers() {
        return KraftNode.bootstrap(ports);
    }

    /** {@code host:port} of the second client listener (see {@code EmbeddedKafkaBroker}). */
    public String secondBootstrapServers() {
        return KraftNode.secondBootstrap(ports);
    }

    /**
     * {@code host:port} of the always-PLAINTEXT internal listener, as {@link
     * EmbeddedKafkaBroker#internalBootstrapServers()}; unchanged across restarts.
     */
    public String internalBootstrapServers() {
        return KraftNode.internalBootstrap(ports);
    }

    /** The random cluster id the storage was formatted with; unchanged across restarts. */
    public String clusterId() {
        return clusterId;
    }

    /** Whether the broker process is running. */
    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /**
     * Creates topics with one replica and returns once every partition has a leader; see {@link
     * EmbeddedKafkaBroker#createTopics(int, String...)}.
     */
    public void createTopics(int partitions, String... names) {
        createTopics(partitions, Map.of(), names);
    }

    /** Like {@link #createTopics(int, String...)}, with topic-level configs for every topic. */
    public void createTopics(int partitions, Map<String, String> topicConfigs, String... names) {
        try (Admin admin = KraftNode.internalAdmin(ports)) {
            KraftNode.createTopics(admin, partitions, topicConfigs, names);
        }
    }

    /** Kills the broker process at once (SIGKILL), like a crash, and waits until it is gone. */
    public synchronized void kill() {
        destroyForcibly();
    }

    /**
     * Starts the broker again on the same ports, log directory and cluster id, and returns once it
     * serves requests. A broker still running is first stopped cleanly.
     */
    public synchronized void restart() {
        checkOpen();
        stopGracefully();
        launch();
    }

    /** Stops the broker (cleanly if it runs) and deletes its directory; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stopGracefully();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down; the hook kills the process anyway.
            }
            deleteQuietly(home);
        }
    }

    private synchronized void launch() {
        checkOpen();
        try {
            process =
                    new ProcessBuilder(command)
                            .directory(home.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(
                                    ProcessBuilder.Redirect.appendTo(
                                            home.resolve("broker.log").toFile()))
                            .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not launch " + command, e);
        }
        Process launched = process;
        try (Admin admin = KraftNode.internalAdmin(ports)) {
            KraftNode.awaitReady(
                    admin,
                    () ->
                            launched.isAlive()
                                    ? null
                                    : "the process exited with status "
                                            + launched.exitValue()
                                            + "; end of "
                                            + home.resolve("broker.log")
                                            + ":\n"
                                            + logTail());
        } catch (RuntimeException e) {
            destroyForcibly();
            throw e;
        }
    }

    private synchronized void stopGracefully() {
        if (process == null || !process.isAlive()) {
            return;
        }
        // SIGTERM runs kafka.Kafka's shutdown hook: a controlled shutdown.
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                destroyForcibly();
            }
        } catch (InterruptedException e) {
            destroyForcibly();
            throw new InterruptException(e);
        }
    }

    private synchronized void destroyForcibly() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            throw new InterruptException(e);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("KafkaBrokerProcess is closed");
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(home.resolve("broker.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    // The child runs in the broker's directory: relative entries would resolve against it.
    private static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static void deleteQuietly(Path dir) {
        try {
            Utils.delete(dir.toFile());
        } catch (IOException e) {
            // Left-over files under a work dir are harmless; failing close() over them is not.
        }
    }

    private static final String LOG4J_CONFIG =
            String.join(
                    "\n",
                    "rootLogger.level = WARN",
                    "rootLogger.appenderRef.out.ref = OUT",
                    "appender.out.type = Console",
                    "appender.out.name = OUT",
                    "appender.out.layout.type = PatternLayout",
                    "appender.out.layout.pattern = [%d] %p %m (%c)%n",
                    "");

    /**
     * Entry point of the child JVM: {@code kafka.Kafka}, plus a watchdog that halts the broker when
     * the parent's end of standard input closes, so that a killed test JVM leaves no broker behind
     * holding ports and CPU.
     */
    static final class ChildBrokerMain {

        private ChildBrokerMain() {}

        public static void main(String[] args) throws Exception {
            ParentWatchdog.start();
            kafka.Kafka.main(args);
        }
    }
}
