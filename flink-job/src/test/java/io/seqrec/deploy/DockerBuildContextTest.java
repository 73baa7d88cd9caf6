package io.seqrec.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every image builds from what its build context holds, checked without a Docker engine: the
 * context is assembled as Docker would send it (the {@code .dockerignore} applied), each stage a
 * later stage copies from is carried out ({@link DockerBuild}: COPY as Docker copies, RUN on this
 * machine, Maven offline against the local repository), and every file the final stage copies, from
 * the context or from a built stage, must then exist. What the base images bring (the JDK image's
 * Java, the Flink and CUDA images' files) is not checked here: the build stages run on the test's
 * own JDK, and COPY from an image is skipped.
 *
 * <p>Two nested Maven builds (the CPU and the {@code -Pgpu} build stage; stages that are the same
 * text are built once), each about a minute on this 2-core machine; the GPU one needs {@code
 * onnxruntime_gpu} in the local repository ({@code ./mvnw -Pgpu -pl flink-job dependency:resolve}
 * once, 371 MB).
 */
class DockerBuildContextTest {
    /**
     * The build context of {@code docker build ... .} from the repository root (and of the compose
     * file's {@code context: ..}).
     */
    private static final Path CONTEXT = TestPaths.repoRoot();

    /** Built stages by their text and ignore file: identical stages are built once per run. */
    private static final Map<String, Path> BUILT = new HashMap<>();

    @TempDir static Path builds;

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile", "Dockerfile.gpu", "Dockerfile.train"})
    void everyFileTheImageCopiesExistsAfterItsBuildStages(String name) {
        Path dockerfile = Manifests.docker().resolve(name);
        Map<String, TreeSet<String>> built = buildStages(dockerfile, CONTEXT);
        List<String> copied = checkFinalStage(dockerfile, CONTEXT, built);
        assertThat(copied).as(name + ": files the final stage copies").isNotEmpty();

        // The model the runtime stage checks for ('test -f .../model.onnx') is the one copied.
        if (!name.equals("Dockerfile.train")) {
            assertThat(copied).contains("model/artifacts/default/model.onnx");
            // ONNX Runtime on Flink's parent class path is the build's variant of it.
            String ort =
                    (name.endsWith(".gpu") ? "onnxruntime_gpu-" : "onnxruntime-")
                            + Images.pomProperty("onnxruntime.version")
                            + ".jar";
            assertThat(built.get("build"))
                    .contains("src/flink-job/target/seqrec-job.jar")
                    .contains("src/flink-job/target/parent-first/" + ort);
        } else {
            assertThat(copied).contains("model/seqrec_model/__main__.py");
        }
    }

    /**
     * What the test is for: the Dockerfile as it was before issue 18 (no benchmarks POM in the
     * context) fails its build stage as `docker build` failed, on Maven's reactor.
     */
    @Test
    void aContextWithoutAModuleOfTheReactorFailsTheBuildStage(@TempDir Path tmp)
            throws IOException {
        String dockerfile = Manifests.read(Images.dockerfile());
        String withoutBenchmarks = dockerfile.replaceAll("(?m)^COPY benchmarks/.*\\n", "");
        assertThat(withoutBenchmarks).isNotEqualTo(dockerfile);
        Path broken = tmp.resolve("Dockerfile");
        Files.writeString(broken, withoutBenchmarks);

        assertThatThrownBy(() -> buildStages(broken, CONTEXT))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Child module")
                .hasMessageContaining("benchmarks");
    }

    /** A file the final stage copies that the ignore file leaves out fails, as in Docker. */
    @Test
    void aCopySourceTheIgnoreFileLeavesOutIsMissing() {
        // The ignore file before issue 18: model/* out, only the artifacts back in.
        DockerIgnore before =
                DockerIgnore.parse(
                        "**/target/\n.git/\nruns/\nmodel/*\n!model/artifacts/\n"
                                + "model/artifacts/*\n!model/artifacts/default/\n");
        TreeSet<String> context = DockerBuild.contextFiles(CONTEXT, before);
        DockerBuild.Copy copy =
                DockerBuild.copy("COPY model/seqrec_model /opt/seqrec/model/seqrec_model");
        assertThatThrownBy(() -> DockerBuild.resolve(copy, context, "the build context"))
                .hasMessageContaining("COPY model/seqrec_model: not in the build context");
        assertThat(DockerBuild.resolve(copy, DockerBuild.contextFiles(CONTEXT, ignore()), "x"))
                .containsKey("model/seqrec_model/__main__.py");
    }

    /** The matching rules the ignore file relies on, as Docker's patternmatcher applies them. */
    @Test
    void ignorePatternsMatchAsDockersDo() {
        DockerIgnore ignore =
                DockerIgnore.parse(
                        "# comment\n**/target/\n/.git\nmodel/*\n!model/artifacts/\n"
                                + "model/artifacts/*\n!model/artifacts/default/\n*.tmp\nd?c/\n");
        // "**/" matches no directory or any number of them; a matched directory takes its
        // contents with it.
        assertThat(ignore.excludes("target")).isTrue();
        assertThat(ignore.excludes("target/classes/A.class")).isTrue();
        assertThat(ignore.excludes("flink-job/target/seqrec-job.jar")).isTrue();
        assertThat(ignore.excludes("a/b/target/x")).isTrue();
        assertThat(ignore.excludes("flink-job/src/main/java/target.txt")).isFalse();
        // A leading '/' is the context root.
        assertThat(ignore.excludes(".git")).isTrue();
        assertThat(ignore.excludes("sub/.git")).isFalse();
        // '*' stays within one path element.
        assertThat(ignore.excludes("x.tmp")).isTrue();
        assertThat(ignore.excludes("dir/x.tmp")).isFalse();
        assertThat(ignore.excludes("doc/readme")).isTrue();
        assertThat(ignore.excludes("docs/readme")).isFalse();
        // The last matching line decides; '!' brings back part of what an earlier line left out.
        assertThat(ignore.excludes("model/seqrec_model/cli.py")).isTrue();
        assertThat(ignore.excludes("model/artifacts/default/model.onnx")).isFalse();
        assertThat(ignore.excludes("model/artifacts/ml1m/model.onnx")).isTrue();
        assertThat(ignore.mayReinclude("model")).isTrue();
        assertThat(ignore.mayReinclude("model/seqrec_model")).isFalse();
    }

    /**
     * The context Docker sends stays small: no build output, no repository metadata, no training
     * runs or other models than the shipped one (and ../shared is outside the context).
     */
    @Test
    void theContextHoldsSourcesAndTheShippedModelOnly() throws IOException {
        TreeSet<String> files = DockerBuild.contextFiles(CONTEXT, ignore());
        long bytes = 0;
        for (String f : files) {
            bytes += Files.size(CONTEXT.resolve(f));
        }
        System.out.printf("build context: %d files, %.1f MB%n", files.size(), bytes / 1e6);
        assertThat(files)
                .contains("pom.xml", "flink-job/pom.xml", "model/artifacts/default/model.onnx")
                .noneMatch(f -> ("/" + f).contains("/target/"))
                .noneMatch(f -> f.equals(".git") || f.startsWith(".git/"))
                .noneMatch(f -> f.startsWith("runs/"))
                .noneMatch(f -> f.contains("__pycache__"))
                .noneMatch(
                        f ->
                                f.startsWith("model/")
                                        && !f.startsWith("model/artifacts/default/")
                                        && !f.startsWith("model/seqrec_model/"));
        // 3.5 MB in 298 files when written (the shipped model about half); a data set or a second
        // model would be far more.
        assertThat(bytes).as("bytes in the build context").isLessThan(20L << 20);
    }

    private static DockerIgnore ignore() {
        return DockerBuild.ignore(Images.dockerfile(), CONTEXT);
    }

    /**
     * Carries out every stage a later stage copies from that the Dockerfile defines with
     * instructions of its own (a bare {@code FROM image AS name} is that image: not built here),
     * and returns each built stage's files.
     */
    static Map<String, TreeSet<String>> buildStages(Path dockerfile, Path context) {
        List<DockerBuild.Stage> stages = DockerBuild.stages(dockerfile);
        DockerIgnore ignore = DockerBuild.ignore(dockerfile, context);
        String ignoreText =
                Files.exists(DockerBuild.ignoreFile(dockerfile, context))
                        ? Manifests.read(DockerBuild.ignoreFile(dockerfile, context))
                        : "";
        TreeSet<String> contextFiles = DockerBuild.contextFiles(context, ignore);
        Map<String, TreeSet<String>> built = new HashMap<>();
        for (DockerBuild.Stage stage : stages) {
            if (stage.name() == null
                    || stage.instructions().isEmpty()
                    || !copiedFrom(stages, stage.name())) {
                continue;
            }
            String key =
                    ignoreText
                            + "\n--\n"
                            + stage.base()
                            + "\n"
                            + String.join("\n", stage.instructions());
            Path root;
            synchronized (BUILT) {
                root = BUILT.get(key);
                if (root == null) {
                    try {
                        root = Files.createTempDirectory(builds, stage.name() + "-");
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    long start = System.nanoTime();
                    DockerBuild.build(
                            stage,
                            context,
                            contextFiles,
                            root,
                            root.resolveSibling(root.getFileName() + ".log"));
                    System.out.printf(
                            "%s: stage %s built in %d s%n",
                            dockerfile.getFileName(),
                            stage.name(),
                            (System.nanoTime() - start) / 1_000_000_000L);
                    BUILT.put(key, root);
                }
            }
            built.put(stage.name(), DockerBuild.filesUnder(root));
        }
        return built;
    }

    private static boolean copiedFrom(List<DockerBuild.Stage> stages, String name) {
        for (DockerBuild.Stage s : stages) {
            for (String line : s.instructions()) {
                if (DockerBuild.keyword(line).equals("COPY")
                        && name.equals(DockerBuild.copy(line).from())) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Resolves every COPY of the final stage (against the context or a built stage; from an image,
     * skipped) and every {@code test -f}/{@code test -x} of its RUN lines that names a copied path;
     * returns the context files it copies.
     */
    private static List<String> checkFinalStage(
            Path dockerfile, Path context, Map<String, TreeSet<String>> built) {
        List<DockerBuild.Stage> stages = DockerBuild.stages(dockerfile);
        DockerBuild.Stage last = stages.get(stages.size() - 1);
        TreeSet<String> contextFiles =
                DockerBuild.contextFiles(context, DockerBuild.ignore(dockerfile, context));
        List<String> fromContext = new ArrayList<>();
        // Where each copied file lands in the image, for the RUN lines' checks.
        TreeSet<String> inImage = new TreeSet<>();
        String workdir = "/";
        for (String line : last.instructions()) {
            String keyword = DockerBuild.keyword(line);
            if (keyword.equals("WORKDIR")) {
                workdir = Path.of(workdir).resolve(line.substring(8).trim()).normalize().toString();
            } else if (keyword.equals("COPY")) {
                DockerBuild.Copy copy = DockerBuild.copy(line);
                Map<String, String> resolved;
                if (copy.from() == null) {
                    resolved = DockerBuild.resolve(copy, contextFiles, "the build context");
                    fromContext.addAll(resolved.keySet());
                } else if (built.containsKey(copy.from())) {
                    resolved =
                            DockerBuild.resolve(
                                    copy,
                                    built.get(copy.from()),
                                    "stage " + copy.from() + " after its build");
                } else {
                    resolved = Map.of();
                    System.out.printf(
                            "%s: not checked (an image's files): %s%n",
                            dockerfile.getFileName(), line);
                }
                String dir = workdir;
                resolved.values()
                        .forEach(
                                to -> inImage.add(Path.of(dir).resolve(to).normalize().toString()));
            } else if (keyword.equals("RUN")) {
                Matcher test = Pattern.compile("test -[fx] (\\S+?);?(?:\\s|$)").matcher(line);
                while (test.find()) {
                    String path = Path.of(workdir).resolve(test.group(1)).normalize().toString();
                    boolean underACopy =
                            inImage.stream()
                                    .anyMatch(f -> f.startsWith(Path.of(path).getParent() + "/"));
                    if (underACopy) {
                        assertThat(inImage)
                                .as(dockerfile.getFileName() + ": " + test.group())
                                .contains(path);
                    }
                }
            }
        }
        return fromContext;
    }
}
