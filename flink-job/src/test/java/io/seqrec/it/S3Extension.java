package io.seqrec.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.seqrec.TestPaths;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
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

    /** The plugins directory Maven assembles: {@code s3-fs-presto/} with Flink's S3 plugin. */
    public static Path pluginsDir() {
        String dir = System.getProperty("seqrec.flink.plugins.dir");
        if (dir == null || !Files.isDirectory(Path.of(dir, "s3-fs-presto"))) {
            throw new IllegalStateException(
                    "No s3-fs-presto plugin under system property seqrec.flink.plugins.dir ("
                            + dir
                            + "): run the ITCases through Maven (failsafe), which copies it");
        }
        return Path.of(dir);
    }

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
