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
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(defaultModel())) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }
}
