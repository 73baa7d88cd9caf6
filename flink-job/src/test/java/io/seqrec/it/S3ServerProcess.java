package io.seqrec.it;

import io.seqrec.broker.ParentWatchdog;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.Utils;

/**
 * A real S3-compatible server, <a href="https://github.com/gaul/s3proxy">S3Proxy</a> over a local
 * directory, run as a child JVM: its Jetty, Jackson, Guava and jclouds never meet Flink's on the
 * test class path.
 *
 * <p>What it promises:
 *
 * <ul>
 *   <li>{@link #start} launches S3Proxy's self-contained jar (system property {@code
 *       seqrec.s3proxy.jar}, which Maven copies into {@code target/s3proxy/} before the ITCases) on
 *       a free port of 127.0.0.1, storing objects under a new directory of {@code workDir}, and
 *       returns once it answers HTTP. Path-style addressing only.
 *   <li>Requests must be signed (AWS signature V2 or V4) with the access key and secret given to
 *       {@link #start}; others get 403 Access Denied, as from S3.
 *   <li>The child dies with this JVM, even if this JVM is killed: it watches its standard input,
 *       which closes when the parent goes away.
 *   <li>{@link #close()} stops it and deletes its directory. Its output goes to {@code s3proxy.log}
 *       in that directory until then.
 * </ul>
 */
public final class S3ServerProcess implements AutoCloseable {
    private static final long START_TIMEOUT_MS = 60_000;

    private final Path home;
    private final int port;
    private final Process process;
    private final Thread killOnExit;

    private S3ServerProcess(Path home, int port, Process process) {
        this.home = home;
        this.port = port;
        this.process = process;
        this.killOnExit = new Thread(process::destroyForcibly, "s3-server-process-reaper");
    }

    /**
     * Starts a server that accepts requests signed with {@code accessKey} and {@code secretKey}.
     *
     * @param workDir created if missing; the server uses a new subdirectory of it
     */
    public static S3ServerProcess start(Path workDir, String accessKey, String secretKey) {
        String jar = System.getProperty("seqrec.s3proxy.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException(
                    "No S3Proxy jar at system property seqrec.s3proxy.jar ("
                            + jar
                            + "): run the ITCases through Maven (failsafe), which copies it");
        }
        Path home;
        try {
            Files.createDirectories(workDir);
            home = Files.createTempDirectory(workDir, "s3proxy-");
            Files.createDirectories(home.resolve("data"));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a directory in " + workDir, e);
        }
        try {
            int port = freePort();
            Path properties = home.resolve("s3proxy.properties");
            Files.writeString(
                    properties,
                    String.join(
                            "\n",
                            "s3proxy.endpoint=http://127.0.0.1:" + port,
                            "s3proxy.authorization=aws-v2-or-v4",
                            "s3proxy.identity=" + accessKey,
                            "s3proxy.credential=" + secretKey,
                            "jclouds.provider=filesystem-nio2",
                            // the backend's own login, which a local directory ignores
                            "jclouds.identity=local",
                            "jclouds.credential=local",
                            "jclouds.filesystem.basedir=" + home.resolve("data"),
                            ""),
                    StandardCharsets.UTF_8);
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(
                    List.of(
                            // Small, serial GC, C1 only: a test server needs little speed.
                            "-Xmx256m",
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                            "-Djava.awt.headless=true",
                            // S3Proxy's logback configuration reads these.
                            "-DLOG_LEVEL=warn",
                            "-DJETTY_LOG_LEVEL=warn",
                            "-Dlogback.statusListenerClass="
                                    + "ch.qos.logback.core.status.NopStatusListener",
                            "-cp",
                            Path.of(jar).toAbsolutePath()
                                    + File.pathSeparator
                                    + ownClassPathEntry(),
                            ChildServerMain.class.getName(),
                            "--properties",
                            properties.toString()));
            Process process =
                    new ProcessBuilder(command)
                            .directory(home.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(home.resolve("s3proxy.log").toFile())
                            .start();
            S3ServerProcess server = new S3ServerProcess(home, port, process);
            Runtime.getRuntime().addShutdownHook(server.killOnExit);
            try {
                server.awaitServing();
            } catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
            return server;
        } catch (IOException e) {
            deleteQuietly(home);
            throw new UncheckedIOException(e);
        }
    }

    /** Where clients send requests: {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /**
     * Creates a bucket (a directory of the file-system backend, which S3Proxy serves as a bucket).
     */
    public void createBucket(String name) {
        try {
            Files.createDirectories(home.resolve("data").resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create bucket " + name, e);
        }
    }

    /** Stops the server and deletes its directory; idempotent. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down; the hook kills the process anyway.
            }
            deleteQuietly(home);
        }
    }

    private void awaitServing() {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "S3Proxy exited with status " + process.exitValue() + ":\n" + logTail());
            }
            try {
                HttpURLConnection c = (HttpURLConnection) endpoint().toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(1000);
                // Any status (403 to an unsigned request) means it serves.
                c.getResponseCode();
                c.disconnect();
                return;
            } catch (IOException notYet) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException(
                            "S3Proxy did not serve within "
                                    + START_TIMEOUT_MS
                                    + " ms:\n"
                                    + logTail());
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while S3Proxy started", e);
            }
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(home.resolve("s3proxy.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The class-path entry (directory or jar) holding {@link ChildServerMain}. */
    private static String ownClassPathEntry() {
        try {
            return Path.of(
                            ChildServerMain.class
                                    .getProtectionDomain()
                                    .getCodeSource()
                                    .getLocation()
                                    .toURI())
                    .toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Utils.delete(dir.toFile());
        } catch (IOException e) {
            // Left-over files under a work dir are harmless; failing close() over them is not.
        }
    }

    /**
     * Entry point of the child JVM: S3Proxy's {@code Main}, plus a watchdog that halts the server
     * when the parent's end of standard input closes. Only this class and {@link ParentWatchdog}
     * are loaded from the test classes; S3Proxy is reached by reflection, so nothing else of the
     * tests comes along.
     */
    static final class ChildServerMain {
        private ChildServerMain() {}

        public static void main(String[] args) throws Exception {
            ParentWatchdog.start();
            Class.forName("org.gaul.s3proxy.Main")
                    .getMethod("main", String[].class)
                    .invoke(null, (Object) args);
        }
    }
}
