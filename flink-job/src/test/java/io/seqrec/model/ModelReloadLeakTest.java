package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Loading, using and closing the model over and over, as every hot swap will, leaks neither native
 * memory nor file handles. ONNX Runtime sessions are known to leak on reload when something on the
 * way is left open (microsoft/onnxruntime#14641, DJL #3713).
 */
class ModelReloadLeakTest {
    private static final int WARM_UP_CYCLES = 5;
    private static final int CYCLES = 50;
    private static final int BATCH = 32;

    /**
     * How much resident memory may grow from the warm-up to the last cycle: fifteen times the size
     * of the default model.onnx (753 kB, so 11 MB). A cycle that left one model's bytes behind
     * would grow it by 45 sizes over the 45 measured cycles (three times the bound), and a session
     * left open grows it by about six sizes per cycle (weights plus ONNX Runtime's arena: 4.8 MB
     * measured when close() skipped the model). What remains with every handle closed is the JVM's
     * own drift (compiled code, class metadata, malloc arenas): 0.3 to 1.7 MB over these cycles in
     * five runs on a 2-core machine, alone and after other tests in the same JVM, and 4.5 MB in one
     * clean-clone CI run (2026-12-02), which failed the earlier bound of five sizes.
     */
    private static final long RSS_TOLERANCE_MODEL_SIZES = 15;

    /**
     * Descriptors the JVM may open for itself meanwhile (a jar of a class loaded late); a leak of
     * one per cycle would show as 45.
     */
    private static final long FD_TOLERANCE = 2;

    @Test
    void loadingScoringAndClosingTheModelFiftyTimesKeepsMemoryAndFileHandlesFlat()
            throws IOException {
        ModelArtifact artifact = ModelArtifact.load(TestPaths.defaultModel());
        long[] batch = new long[BATCH * artifact.maxLen()];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = 1 + i % artifact.numItems();
        }
        // DJL's models and predictors close themselves when finalized: holding the closed models
        // keeps the finalizers from releasing what close() did not.
        List<OnnxSequenceModel> closed = new ArrayList<>();
        Usage warm = null;
        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            OnnxSequenceModel model = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1));
            closed.add(model);
            try (model) {
                assertThat(model.score(batch, BATCH, artifact.maxLen()))
                        .hasSize(BATCH * (artifact.numItems() + 1));
            }
            // A collection per cycle keeps the Java heap from spreading into pages it has not
            // touched before, which would count as resident memory.
            Usage now = Usage.now();
            if (cycle == WARM_UP_CYCLES) {
                warm = now;
            }
        }
        Usage end = Usage.now();
        System.out.printf(
                "model reload: after %d cycles VmRSS %d kB, %d fds; after %d cycles VmRSS %d kB,"
                        + " %d fds%n",
                WARM_UP_CYCLES, warm.rssKb, warm.fds, CYCLES, end.rssKb, end.fds);

        long modelKb = Files.size(artifact.modelFile()) / 1024;
        assertThat(end.rssKb - warm.rssKb)
                .as("VmRSS growth in kB over %d reloads", CYCLES - WARM_UP_CYCLES)
                .isLessThan(RSS_TOLERANCE_MODEL_SIZES * modelKb);
        assertThat(end.fds - warm.fds)
                .as("open file descriptors gained over %d reloads", CYCLES - WARM_UP_CYCLES)
                .isLessThanOrEqualTo(FD_TOLERANCE);
        assertThat(closed).hasSize(CYCLES);
    }

    /** This process's resident memory and open file descriptors, after a garbage collection. */
    private record Usage(long rssKb, long fds) {
        static Usage now() throws IOException {
            System.gc();
            long rss = -1;
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                return new Usage(rss, fds.count());
            }
        }
    }
}
