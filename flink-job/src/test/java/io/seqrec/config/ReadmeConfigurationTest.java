package io.seqrec.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The README's configuration table is the option table: they cannot drift apart. */
class ReadmeConfigurationTest {
    @Test
    void readmeListsEveryOptionWithItsDefaultAndDescription() throws Exception {
        String readme = Files.readString(TestPaths.repoRoot().resolve("README.md"));
        assertThat(readme).contains(JobOptions.markdownTable());
    }
}
