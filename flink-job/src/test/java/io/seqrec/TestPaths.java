package io.seqrec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Where tests find the repository's files (set by the Maven build, else the working dir). */
public final class TestPaths {
    private TestPaths() {}

    public static Path repoRoot() {
        return Path.of(System.getProperty("seqrec.repo.root", "..")).toAbsolutePath().normalize();
    }

    /** The shipped default model: the artifact every test that needs a real model uses. */
    public static Path defaultModel() {
        return repoRoot().resolve("model/artifacts/default");
    }

    /** A copy of the shipped default model in {@code dir} (created), for tests that break it. */
    public static Path copyOfDefaultModel(Path dir) throws IOException {
        return copy(defaultModel(), dir);
    }

    /**
     * The tiny type-aware artifact of the job's tests (format version 2: a behaviors input, steps
     * by the strongest repeat rule, served for the next purchase; its README says how it was made).
     */
    public static Path typedModel() {
        return repoRoot().resolve("flink-job/src/test/resources/io/seqrec/model/typed-artifact");
    }

    /** A copy of {@link #typedModel()} in {@code dir} (created), for tests that edit it. */
    public static Path copyOfTypedModel(Path dir) throws IOException {
        return copy(typedModel(), dir);
    }

    private static Path copy(Path from, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }
}
