package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.model.ModelArtifact;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The models {@code seqrec bench} measures without {@code --model}. */
class BenchModelsTest {
    private static final Path ROOT = TestPaths.repoRoot();

    @Test
    void theBenchModelHasTheMl1mShapeAndItsNaiveTwinTheSameWeightsWithTheFullGraph()
            throws Exception {
        Path served = ROOT.resolve(BenchCommand.BENCH_MODEL);
        Path naive = ROOT.resolve(BenchCommand.BENCH_NAIVE_MODEL);
        ModelArtifact model = ModelArtifact.load(served);

        assertThat(model.maxLen()).isEqualTo(200);
        assertThat(model.numItems()).isEqualTo(3416);
        // ML-1M's numbering, so that the ML-1M replay reaches the model.
        assertThat(model.itemId(1)).isEqualTo("1");
        assertThat(model.itemId(3416)).isEqualTo("3416");
        BenchCommand.checkNaiveModel(naive, served); // throws unless the same version and shape
        assertThat(Files.readString(naive.resolve("metadata.json")))
                .contains("\"graph\": \"full\"");
        assertThat(Files.readString(served.resolve("metadata.json")))
                .contains("random-weights")
                .contains("\"graph\": \"last_position\"");
    }
}
