package io.seqrec;

import java.nio.file.Path;

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
}
