package io.seqrec.benchmarks;

import io.seqrec.model.ModelArtifact;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Seeded random model inputs of a given shape, for an artifact given by directory. */
final class Sequences {
    private Sequences() {}

    /**
     * The artifact at {@code dir}, relative to the working directory (run from the repository root)
     * unless absolute.
     */
    static ModelArtifact artifact(String dir) {
        return ModelArtifact.load(Path.of(dir));
    }

    /** {@code seqLen} as a number, or the artifact's {@code max_len} for {@code "max"}. */
    static int length(String seqLen, ModelArtifact artifact) {
        return seqLen.equals("max")
                ? artifact.maxLen()
                : Math.min(artifact.maxLen(), Integer.parseInt(seqLen));
    }

    /** {@code batch} rows of {@code len} random item indices each, row-major. */
    static long[] fullRows(ModelArtifact artifact, int batch, int len, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] input = new long[batch * len];
        for (int i = 0; i < input.length; i++) {
            input[i] = 1 + random.nextInt(artifact.numItems());
        }
        return input;
    }

    /** {@code batch} unpadded rows, lengths uniform in 1..max_len. */
    static int[][] mixedRows(ModelArtifact artifact, int batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] rows = new int[batch][];
        for (int r = 0; r < batch; r++) {
            rows[r] = new int[1 + random.nextInt(artifact.maxLen())];
            for (int i = 0; i < rows[r].length; i++) {
                rows[r][i] = 1 + random.nextInt(artifact.numItems());
            }
        }
        return rows;
    }
}
