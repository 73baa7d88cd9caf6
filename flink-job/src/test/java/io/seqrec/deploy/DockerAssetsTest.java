package io.seqrec.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.seqrec.cli.CliContract;
import io.seqrec.config.JobConfig;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.server.config.AbstractKafkaConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker/ checked by reading it (no Docker engine here): image versions against the pom, what the
 * images contain against what the compose file and the manifests expect, every Flink key against
 * Flink's options, every Kafka broker setting against Kafka's, every command line against the CLI.
 */
class DockerAssetsTest {
    private static JsonNode compose;
    private static FlinkConfigKeys flinkKeys;

    @BeforeAll
    static void load() {
        compose = Manifests.compose();
        flinkKeys = FlinkConfigKeys.scan();
    }

    /**
     * The training image holds the seqrec_model package on the Debian packages CI tests it with,
     * importable from where it is copied, and runs as the same non-root user as the job's image.
     */
    @Test
    void theTrainingImageHoldsTheModelPackageOnTheTestedStack() throws Exception {
        Path dockerfile = Images.trainingDockerfile();
        List<String> lines = Images.instructions(dockerfile);
        String ci = Files.readString(Manifests.docker().resolve("../.ci/run").normalize());
        java.util.regex.Matcher packages =
                java.util.regex.Pattern.compile("for pkg in ([^;]+); do").matcher(ci);
        assertThat(packages.find()).isTrue();
        for (String pkg : packages.group(1).trim().split("\\s+")) {
            if (pkg.equals("python3-pytest")) {
                continue; // CI runs the tests; the image only trains
            }
            assertThat(Manifests.read(dockerfile)).as("CI's package " + pkg).contains(pkg);
        }
        List<String[]> copies = Images.finalStageCopies(dockerfile);
        assertThat(copies).hasSize(1);
        String source = copies.get(0)[0];
        String destination = copies.get(0)[1];
        assertThat(Manifests.docker().resolve("..").resolve(source).resolve("__main__.py"))
                .as("the package the image copies")
                .exists();
        Path onPath = Path.of(destination).getParent();
        assertThat(lines)
                .anyMatch(l -> l.startsWith("ENV ") && l.contains("PYTHONPATH=" + onPath))
                .anyMatch(l -> l.startsWith("ENV ") && l.contains("OMP_WAIT_POLICY=PASSIVE"))
                .anyMatch(l -> l.startsWith("RUN ") && l.contains("import seqrec_model"))
                .anyMatch(l -> l.startsWith("ENTRYPOINT ") && l.contains("seqrec_model"));
        assertThat(Images.user(dockerfile)).isEqualTo("9999:9999");
    }

    @Test
    void imagesAreBuiltOnTheFlinkAndJavaVersionsOfThePom() {
        String flink = Images.pomProperty("flink.version");
        String java = Images.pomProperty("maven.compiler.release");
        for (Path dockerfile : List.of(Images.dockerfile(), Images.gpuDockerfile())) {
            assertThat(Images.flinkImageTags(dockerfile))
                    .as(dockerfile.toString())
                    .isNotEmpty()
                    .allMatch(tag -> tag.equals(flink + "-java" + java));
            assertThat(Images.instructions(dockerfile))
                    .anyMatch(
                            l ->
                                    l.startsWith("FROM eclipse-temurin:" + java + "-jdk")
                                            && l.endsWith(" AS build"))
                    .anyMatch(l -> l.startsWith("ENV ") && l.contains("OPT_OUT_TRACKING=true"));
            assertThat(Images.user(dockerfile)).isEqualTo("9999:9999");
            // Flink configuration comes from the deployments (compose, FlinkDeployment), not the
            // image.
            assertThat(Manifests.read(dockerfile))
                    .doesNotContain("config.yaml")
                    .doesNotContain("config-parser-utils");
        }
    }

    @Test
    void gpuImageMatchesTheOnnxRuntimeGpuBuild() {
        String dockerfile = Manifests.read(Images.gpuDockerfile());
        assertThat(Images.instructions(Images.gpuDockerfile()))
                .anyMatch(
                        l ->
                                l.matches(
                                        "FROM nvidia/cuda:12\\.\\d+\\.\\d+-cudnn-runtime-ubuntu\\d+\\.\\d+"))
                .anyMatch(
                        l ->
                                l.startsWith("RUN ./mvnw")
                                        && l.contains(" -Pgpu ")
                                        && l.contains(" package"));
        assertThat(dockerfile)
                .contains("onnxruntime_gpu " + Images.pomProperty("onnxruntime.version"))
                .contains("libcudnn.so.9")
                .contains("plugins/external-resource-gpu")
                .contains("nvidia-gpu-discovery.sh");
    }

    @Test
    void onnxRuntimeAndDjlGoOnFlinksParentClasspath() {
        for (Path dockerfile : List.of(Images.dockerfile(), Images.gpuDockerfile())) {
            Matcher m =
                    Pattern.compile("-DincludeArtifactIds=(\\S+)")
                            .matcher(Manifests.read(dockerfile));
            assertThat(m.find()).isTrue();
            List<String> ids = Arrays.asList(m.group(1).split(","));
            // Each id is an artifact of the job's runtime classpath (the CPU build: onnxruntime;
            // the GPU build swaps in onnxruntime_gpu, same version).
            List<String> jars = new ArrayList<>();
            for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
                jars.add(new File(e).getName());
            }
            for (String id : ids) {
                if (!id.equals("onnxruntime_gpu")) {
                    assertThat(jars)
                            .as(id)
                            .anyMatch(j -> j.matches(Pattern.quote(id) + "-\\d.*\\.jar"));
                }
            }
            assertThat(ids).contains("api", "onnxruntime-engine", "onnxruntime", "onnxruntime_gpu");
            assertThat(Images.finalStageCopies(dockerfile))
                    .anySatisfy(
                            c ->
                                    assertThat(c)
                                            .containsExactly(
                                                    "/src/flink-job/target/parent-first/",
                                                    "/opt/flink/lib/"));
        }
        assertThat(
                        flinkProperties("jobmanager")
                                .get("classloader.parent-first-patterns.additional"))
                .isEqualTo("ai.onnxruntime.;ai.djl.");
    }

    @Test
    void composeFlinkPropertiesAreFlinkOptions() {
        Map<String, String> jm = flinkProperties("jobmanager");
        assertThat(flinkProperties("taskmanager")).isEqualTo(jm);
        assertThat(jm.keySet()).allMatch(k -> flinkKeys.isKnown(k, jm), "a Flink option");
        assertThat(jm.get("env.java.opts.jobmanager")).contains("-Dai.djl.offline=true");
        assertThat(jm.get("env.java.opts.taskmanager")).contains("-Dai.djl.offline=true");
        // The image keeps Flink's Java 17 module options in env.java.opts.all: not to be replaced.
        assertThat(jm).doesNotContainKey("env.java.opts.all");
        assertThat(jm.get("metrics.reporter.prom.factory.class"))
                .isEqualTo(
                        org.apache.flink.metrics.prometheus.PrometheusReporterFactory.class
                                .getName());
        String prometheus = Manifests.read(Manifests.docker().resolve("prometheus.yml"));
        assertThat(prometheus)
                .contains("jobmanager:" + jm.get("metrics.reporter.prom.port"))
                .contains("taskmanager:" + jm.get("metrics.reporter.prom.port"));
        assertThat(compose.path("services").path("prometheus").path("profiles").toString())
                .contains("metrics");
    }

    @Test
    void composeRunsTheJobFromTheImageWithArgumentsTheCliAccepts() {
        JsonNode jm = compose.path("services").path("jobmanager");
        assertThat(jm.path("build").path("dockerfile").asText()).isEqualTo("docker/Dockerfile");
        String image = jm.path("image").asText();
        for (String service : List.of("taskmanager", "producer")) {
            assertThat(compose.path("services").path(service).path("image").asText())
                    .isEqualTo(image);
        }
        List<String> command = strings(jm.path("command"));
        assertThat(command.subList(0, 4))
                .containsExactly(
                        "standalone-job",
                        "--job-classname",
                        io.seqrec.cli.Main.class.getName(),
                        "run");
        JobConfig config =
                JobConfig.fromArgs(command.subList(4, command.size()).toArray(String[]::new));
        assertThat(config.bootstrapServers()).isEqualTo("kafka:9092");
        assertThat(Images.finalStageCopies(Images.dockerfile()))
                .anySatisfy(
                        c ->
                                assertThat(c)
                                        .containsExactly(
                                                "model/artifacts/default/",
                                                config.modelDir() + "/"));
        assertThat(config.checkpointDir()).isEqualTo("file:///opt/flink/checkpoints");
        assertThat(strings(jm.path("volumes"))).contains("checkpoints:/opt/flink/checkpoints");
        assertThat(strings(compose.path("services").path("taskmanager").path("volumes")))
                .contains("checkpoints:/opt/flink/checkpoints");

        List<String> producer = strings(compose.path("services").path("producer").path("command"));
        assertThat(producer.subList(0, 4))
                .containsExactly(
                        "java",
                        "-cp",
                        "/opt/flink/usrlib/seqrec-job.jar:/opt/flink/lib/*",
                        io.seqrec.cli.Main.class.getName());
        assertThat(Images.finalStageCopyDestinations(Images.dockerfile()))
                .contains("/opt/flink/usrlib/seqrec-job.jar");
        CliContract.assertAccepted(producer.subList(4, producer.size()));
        assertThat(producer).contains("produce", "kafka:9092");

        // The topic-creation step creates the job's topics, the output compacted.
        String topics = compose.path("services").path("topics").path("command").toString();
        for (String topic : List.of(config.inputTopic(), config.outputTopic(), config.dlqTopic())) {
            assertThat(topics).contains("--topic " + topic + " ");
        }
        assertThat(topics)
                .containsPattern(
                        "--topic " + config.outputTopic() + " [^\\n]*cleanup.policy=compact");
    }

    @Test
    void composeKafkaSettingsAreKafkaBrokerConfigs() {
        Set<String> known = AbstractKafkaConfig.CONFIG_DEF.names();
        JsonNode env = compose.path("services").path("kafka").path("environment");
        assertThat(env.size()).isGreaterThan(5);
        env.fieldNames()
                .forEachRemaining(
                        name -> {
                            // The apache/kafka image maps KAFKA_FOO_BAR to foo.bar.
                            assertThat(name).startsWith("KAFKA_");
                            String key = name.substring(6).toLowerCase().replace('_', '.');
                            assertThat(known).as(name).contains(key);
                        });
        assertThat(compose.path("services").path("kafka").path("image").asText())
                .isEqualTo("apache/kafka:" + Images.pomProperty("kafka.version"));
    }

    @Test
    void readmeShowsUpTailAndDown() {
        String readme = Manifests.read(Manifests.docker().resolve("README.md"));
        assertThat(readme)
                .contains("docker compose up")
                .contains(" tail ")
                .contains("docker compose down");
    }

    private static Map<String, String> flinkProperties(String service) {
        return Manifests.flinkProperties(compose, service);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
