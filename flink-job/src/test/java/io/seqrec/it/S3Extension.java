package io.seqrec.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.seqrec.TestPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.DefaultPluginManager;
import org.apache.flink.core.plugin.DirectoryBasedPluginFinder;
import org.apache.flink.core.plugin.PluginConfig;
import org.apache.flink.core.plugin.PluginManager;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * S3 for the tests of one class, set up as the Kubernetes deployment sets it up: a real
 * S3-compatible server ({@link S3ServerProcess}) with the bucket of {@code
 * k8s/base/flinkdeployment.yaml}, and Flink's {@code s3://} file system in this JVM loaded the way
 * a Flink process loads it:
 *
 * <ul>
 *   <li>the plugin the image installs ({@code plugins/s3-fs-presto/}), from a plugins directory
 *       through Flink's plugin class loader, not from the test class path;
 *   <li>every {@code s3.*} setting of the deployment's {@code flinkConfiguration}, with {@code
 *       s3.endpoint} pointed at the test server;
 *   <li>no credentials in the configuration: the file system finds them in {@code
 *       AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY}, which the pods get from Secret {@code
 *       seqrec-s3} and failsafe sets for the ITCases. The server accepts only those.
 * </ul>
 *
 * <p>Flink's file systems are JVM-wide: after the last test the default (no plugins) is restored.
 * Register it on a static field, before a {@code MiniClusterExtension}, so that the cluster stops
 * before S3 goes away.
 */
public final class S3Extension implements BeforeAllCallback, AfterAllCallback {
    /** The bucket of the deployment's checkpoint, savepoint and HA directories. */
    public static final String BUCKET = "seqrec-flink";

    private Path workDir;
    private S3ServerProcess server;
    private Map<String, String> settings;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        String accessKey = requiredEnv("AWS_ACCESS_KEY_ID");
        String secretKey = requiredEnv("AWS_SECRET_ACCESS_KEY");
        workDir = Files.createTempDirectory("s3-" + context.getRequiredTestClass().getSimpleName());
        server = S3ServerProcess.start(workDir, accessKey, secretKey);
        server.createBucket(BUCKET);
        settings = deploymentSettings(server.endpoint());
        Configuration conf = Configuration.fromMap(settings);
        FileSystem.initialize(conf, pluginManager(conf));
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            FileSystem.initialize(new Configuration(), null);
            if (server != null) {
                server.close();
            }
        } finally {
            server = null;
            if (workDir != null) {
                Utils.delete(workDir.toFile());
                workDir = null;
            }
        }
    }

    /** {@code s3://seqrec-flink/PATH}. */
    public String uri(String path) {
        return "s3://" + BUCKET + "/" + path;
    }

    /** The test server's address. */
    public URI endpoint() {
        return server.endpoint();
    }

    /**
     * The {@code s3.*} settings this JVM's file system got: the deployment's, with the test
     * server's endpoint. For a child process's {@code config.yaml}.
     */
    public Map<String, String> flinkSettings() {
        return settings;
    }

    /**
     * The plugins directory Maven assembles, checked to hold the S3 plugin every Dockerfile
     * installs, in the same folder: {@code s3-fs-presto/flink-s3-fs-presto-*.jar}.
     */
    public static Path pluginsDir() {
        String dir = System.getProperty("seqrec.flink.plugins.dir");
        if (dir == null) {
            throw new IllegalStateException(
                    "System property seqrec.flink.plugins.dir is not set: run the ITCases"
                            + " through Maven (failsafe), which copies the S3 plugin there");
        }
        for (String dockerfile : List.of("docker/Dockerfile", "docker/Dockerfile.gpu")) {
            Matcher m;
            try {
                m =
                        IMAGE_S3_PLUGIN.matcher(
                                Files.readString(TestPaths.repoRoot().resolve(dockerfile)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (!m.find()) {
                throw new IllegalStateException(dockerfile + " installs no flink-s3-fs-* plugin");
            }
            Path folder = Path.of(dir, m.group(2));
            try (Stream<Path> jars = Files.list(folder)) {
                if (jars.noneMatch(j -> j.getFileName().toString().startsWith(m.group(1) + "-"))) {
                    throw new IllegalStateException(folder + " holds no " + m.group(1));
                }
            } catch (IOException e) {
                throw new IllegalStateException(
                        dockerfile
                                + " installs "
                                + m.group(1)
                                + " into plugins/"
                                + m.group(2)
                                + "/, which the tests' "
                                + dir
                                + " lacks (flink-job/pom.xml, execution s3-test-artifacts)",
                        e);
            }
        }
        return Path.of(dir);
    }

    /** {@code cp [/opt/flink/]opt/flink-s3-fs-KIND-*.jar [/opt/flink/]plugins/FOLDER/}. */
    private static final Pattern IMAGE_S3_PLUGIN =
            Pattern.compile(
                    "cp (?:/opt/flink/)?opt/(flink-s3-fs-[a-z]+)-\\*\\.jar"
                            + " (?:/opt/flink/)?plugins/([a-z0-9-]+)/");

    /** As {@code PluginUtils.createPluginManagerFromRootFolder}, from {@link #pluginsDir()}. */
    private static PluginManager pluginManager(Configuration conf) throws IOException {
        return new DefaultPluginManager(
                new DirectoryBasedPluginFinder(pluginsDir()).findPlugins(),
                PluginConfig.fromConfiguration(conf).getAlwaysParentFirstPatterns());
    }

    /** The {@code s3.*} entries of the deployment's {@code flinkConfiguration}. */
    private static Map<String, String> deploymentSettings(URI endpoint) throws IOException {
        JsonNode conf =
                new ObjectMapper(new YAMLFactory())
                        .readTree(
                                TestPaths.repoRoot()
                                        .resolve("k8s/base/flinkdeployment.yaml")
                                        .toFile())
                        .path("spec")
                        .path("flinkConfiguration");
        String checkpoints = conf.path("execution.checkpointing.dir").asText();
        if (!checkpoints.startsWith("s3://" + BUCKET + "/")) {
            throw new IllegalStateException(
                    "flinkdeployment.yaml checkpoints to "
                            + checkpoints
                            + ", not bucket "
                            + BUCKET);
        }
        Map<String, String> s3 = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = conf.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith("s3.")) {
                s3.put(e.getKey(), e.getValue().asText());
            }
        }
        if (s3.put("s3.endpoint", endpoint.toString()) == null) {
            throw new IllegalStateException("flinkdeployment.yaml sets no s3.endpoint");
        }
        return s3;
    }

    private static String requiredEnv(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException(
                    name + " is not set: run the ITCases through Maven (failsafe), which sets it");
        }
        return value;
    }
}
