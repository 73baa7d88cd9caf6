package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.TestPaths;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.ModelContractException;
import io.seqrec.registry.LiveReport;
import io.seqrec.registry.ModelRegistry;
import io.seqrec.registry.RegistryException;
import io.seqrec.registry.RegistryPointer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model registry on {@code s3://}, against a real S3-compatible server, through the S3 plugin
 * and settings of the Kubernetes deployment ({@link S3Extension}), credentials from the environment
 * only: publishing, the traffic pointer, fetching with digests, live reports, and {@code seqrec
 * models status} run as an operator runs it.
 */
class ModelRegistryS3ITCase {
    @RegisterExtension static final S3Extension S3 = new S3Extension();

    @TempDir static Path tmp;

    @Test
    void publishesAndMovesTrafficBetweenVersionsOnS3() throws Exception {
        ModelRegistry registry = ModelRegistry.open(S3.uri("lifecycle"));
        assertThat(registry.versions()).isEmpty();

        assertThat(registry.publish(TestPaths.defaultModel(), "v1")).isEqualTo("v1");
        assertThat(registry.publish(TestPaths.defaultModel(), "v2")).isEqualTo("v2");
        assertThat(registry.versions()).containsExactly("v1", "v2");
        assertThat(registry.pointer()).isEqualTo(new RegistryPointer(1, "v1", null, 0, null));
        assertThat(objects("lifecycle/versions/v1"))
                .containsExactlyInAnyOrder(
                        "metadata.json",
                        "items.txt",
                        "model.onnx",
                        "reference.jsonl",
                        "item_vectors.f32",
                        "_COMPLETE");
        assertThatThrownBy(() -> registry.publish(TestPaths.defaultModel(), "v1"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("version v1 exists already");

        assertThat(registry.canary("v2", 10))
                .isEqualTo(new RegistryPointer(2, "v1", "v2", 10, null));
        assertThat(registry.promote()).isEqualTo(new RegistryPointer(3, "v2", null, 0, "v1"));
        assertThat(registry.rollback()).isEqualTo(new RegistryPointer(4, "v1", null, 0, null));
        assertThat(ModelRegistry.open(S3.uri("lifecycle")).pointer())
                .as("a fresh reader sees the last pointer written")
                .isEqualTo(new RegistryPointer(4, "v1", null, 0, null));
    }

    @Test
    void aVersionWithoutItsCompleteMarkerIsInvisibleAndBlocksItsName() throws Exception {
        ModelRegistry registry = ModelRegistry.open(S3.uri("partial"));
        registry.publish(TestPaths.defaultModel(), "v1");
        // What a reader finds while a publish of v2 has uploaded a file but not yet the marker.
        write("partial/versions/v2/metadata.json", "{}".getBytes(StandardCharsets.UTF_8));

        assertThat(registry.versions()).containsExactly("v1");
        assertThatThrownBy(() -> registry.canary("v2", 10))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("version v2 is not in");
        assertThatThrownBy(() -> registry.publish(TestPaths.defaultModel(), "v2"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("exists without _COMPLETE");
    }

    @Test
    void fetchesByteForByteAndRefusesAnObjectChangedAfterPublishing() throws Exception {
        ModelRegistry registry = ModelRegistry.open(S3.uri("fetch"));
        registry.publish(TestPaths.defaultModel(), "v1");

        Path local = tmp.resolve("fetched/v1");
        ModelArtifact fetched = registry.fetch("v1", local);
        assertThat(fetched.modelVersion())
                .isEqualTo(ModelArtifact.load(TestPaths.defaultModel()).modelVersion());
        for (String file :
                new String[] {
                    "metadata.json",
                    "items.txt",
                    "model.onnx",
                    "reference.jsonl",
                    "item_vectors.f32"
                }) {
            assertThat(Files.mismatch(local.resolve(file), TestPaths.defaultModel().resolve(file)))
                    .as(file)
                    .isEqualTo(-1L);
        }

        byte[] model = Files.readAllBytes(TestPaths.defaultModel().resolve("model.onnx"));
        model[model.length / 2] ^= 0x5a;
        write("fetch/versions/v1/model.onnx", model);
        assertThatThrownBy(() -> registry.fetch("v1", tmp.resolve("fetched/again")))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx")
                .hasMessageContaining("the file changed after it was published");
    }

    @Test
    void liveReportsAreReplacedWholeAndReadBack() {
        ModelRegistry registry = ModelRegistry.open(S3.uri("live"));
        assertThat(registry.liveReports()).isEmpty();
        LiveReport first =
                new LiveReport(0, 2, 1_000, 2_000, 30_000, Map.of("v1", LiveTotals.NONE));
        LiveReport later =
                new LiveReport(
                        0, 2, 1_000, 61_000, 30_000, Map.of("v1", new LiveTotals(120, 30, 17, 11)));
        LiveReport other =
                new LiveReport(
                        1, 2, 1_000, 60_000, 30_000, Map.of("v1", new LiveTotals(80, 20, 9, 6)));

        registry.writeLiveReport(first);
        registry.writeLiveReport(other);
        registry.writeLiveReport(later);
        assertThat(registry.liveReports()).containsExactlyInAnyOrder(later, other);
    }

    /**
     * {@code seqrec models publish} and {@code status} from the packaged jar in a process of their
     * own, set up as README says for {@code s3://}: {@code FLINK_PLUGINS_DIR} with {@code
     * s3-fs-presto/}, {@code FLINK_CONF_DIR} with the deployment's {@code s3.*} settings, and the
     * credentials only in {@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY}, as the pods
     * get them from Secret {@code seqrec-s3}. With a wrong secret in the environment the same
     * command is refused by the server: the file system does use the environment's keys.
     */
    @Test
    void modelsCommandsReachS3WithTheEnvironmentsCredentials() throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("flink-conf"));
        Files.writeString(
                conf.resolve("config.yaml"),
                S3.flinkSettings().entrySet().stream()
                        .map(e -> e.getKey() + ": \"" + e.getValue() + "\"\n")
                        .collect(Collectors.joining()));
        String uri = S3.uri("cli");

        String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
        Cli publish =
                seqrec(
                        conf,
                        secret,
                        "models",
                        "publish",
                        TestPaths.defaultModel().toString(),
                        "--registry",
                        uri);
        assertThat(publish.status).as(publish.output).isZero();
        assertThat(publish.output).contains("published ");

        Cli status = seqrec(conf, secret, "models", "status", "--registry", uri);
        assertThat(status.status).as(status.output).isZero();
        assertThat(status.output)
                .contains("registry " + uri)
                .containsPattern("(?m)^\\S+ +stable +100%");

        Cli refused = seqrec(conf, "not-the-secret", "models", "status", "--registry", uri);
        assertThat(refused.status).as(refused.output).isNotZero();
        assertThat(refused.output).containsPattern("403|Access Denied|SignatureDoesNotMatch");
    }

    private record Cli(int status, String output) {}

    /** Runs the packaged jar with the S3 plugin, {@code confDir} and {@code secret}. */
    private static Cli seqrec(Path confDir, String secret, String... args) throws Exception {
        Path log = Files.createTempFile(tmp, "seqrec-", ".log");
        ProcessBuilder pb =
                PackagedJar.seqrec(
                        log,
                        TestPaths.repoRoot().resolve("flink-job/conf/log4j2-cli.properties"),
                        tmp,
                        args);
        Map<String, String> env = pb.environment();
        env.put("FLINK_PLUGINS_DIR", S3Extension.pluginsDir().toString());
        env.put("FLINK_CONF_DIR", confDir.toString());
        env.put("AWS_SECRET_ACCESS_KEY", secret);
        Process p = pb.start();
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("seqrec %s ended", args[1]).isTrue();
        return new Cli(p.exitValue(), Files.readString(log));
    }

    /** The names of the objects under {@code prefix}. */
    private static java.util.List<String> objects(String prefix) throws Exception {
        org.apache.flink.core.fs.Path dir = new org.apache.flink.core.fs.Path(S3.uri(prefix));
        return java.util.Arrays.stream(dir.getFileSystem().listStatus(dir))
                .map(s -> s.getPath().getName())
                .toList();
    }

    /** Writes an object directly, past the registry. */
    private static void write(String key, byte[] bytes) throws Exception {
        org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(S3.uri(key));
        try (FSDataOutputStream out =
                path.getFileSystem().create(path, FileSystem.WriteMode.OVERWRITE)) {
            out.write(bytes);
        }
        try (InputStream in = path.getFileSystem().open(path)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
    }
}
