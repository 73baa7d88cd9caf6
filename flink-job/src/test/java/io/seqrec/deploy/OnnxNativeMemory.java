package io.seqrec.deploy;

import io.seqrec.model.BatchScorer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Measures the memory ONNX Runtime takes outside the Java heap in a task manager's JVM: the
 * process' resident set ({@code VmRSS} of /proc/self/status) before and after each step a subtask
 * takes with a model, through the job's own code ({@link OnnxSequenceModel#load}, then a {@link
 * BatchScorer} warmed up on every batch shape, as the operator's {@code serve} does, then batches
 * scored), for one session and then for each further session in the same JVM (another slot of the
 * task manager, or a canary or the next version during a swap). Run it with the heap fixed and
 * touched up front, so that the heap adds nothing to the resident set after the start:
 *
 * <pre>{@code
 * ./mvnw -B -q -ntp -pl flink-job test-compile dependency:build-classpath \
 *     -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath -Dspotless.check.skip=true
 * for m in model/artifacts/default runs/ml1m-random; do
 *   java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -Dai.djl.offline=true \
 *     -cp flink-job/target/test-classes:flink-job/target/classes:$(cat flink-job/target/test.classpath) \
 *     io.seqrec.deploy.OnnxNativeMemory $m 4 32 cpu 1000
 * done
 * }</pre>
 *
 * ({@code runs/ml1m-random}: the ML-1M-sized model of docs/BENCHMARKS.md, {@code export-random}.)
 * Arguments: the artifact, the number of sessions, the batch size, {@code cpu} or {@code gpu} (GPU
 * 0; build with {@code -Pgpu} for ONNX Runtime's CUDA build) and optionally the number of batches
 * per session (default 100). Every tenth batch has full {@code max_len} histories (the largest
 * input a call gets), the others histories of random lengths (the many shapes the bucketed padding
 * makes of them). The resident set also grows with what the JVM itself commits outside the heap
 * (classes, compiled code) and with direct buffers; both are printed, so the rest is ONNX Runtime's
 * (and DJL's native) memory.
 */
public final class OnnxNativeMemory {
    private OnnxNativeMemory() {}

    public static void main(String[] args) throws IOException {
        ModelArtifact artifact = ModelArtifact.load(Path.of(args[0]));
        int sessions = Integer.parseInt(args[1]);
        int batchSize = Integer.parseInt(args[2]);
        InferenceOptions device =
                args.length > 3 && args[3].equals("gpu")
                        ? new InferenceOptions(1, 0)
                        : InferenceOptions.cpu(1);
        int batches = args.length > 4 ? Integer.parseInt(args[4]) : 100;
        System.out.printf(
                "model %s: %d items, max_len %d; %d sessions, batch %d, %s%n",
                artifact.modelVersion(),
                artifact.numItems(),
                artifact.maxLen(),
                sessions,
                batchSize,
                device);
        System.out.println(
                "step | VmRSS MB | JVM non-heap MB | direct MB | VmRSS - start - JVM MB");
        Sample start = Sample.take();
        start.print("start", start);
        List<OnnxSequenceModel> loaded = new ArrayList<>();
        int[][][] rows = new int[10][][];
        SplittableRandom random = new SplittableRandom(18);
        for (int b = 0; b < rows.length; b++) {
            rows[b] = rows(artifact, batchSize, b == 0, random);
        }
        for (int s = 1; s <= sessions; s++) {
            OnnxSequenceModel model = OnnxSequenceModel.load(artifact, device);
            loaded.add(model);
            Sample.take().print("session " + s + " loaded", start);
            BatchScorer scorer = new BatchScorer(model, artifact, BatchScorer.Padding.BUCKETED);
            scorer.warmUp(batchSize);
            Sample.take().print("session " + s + " warmed up", start);
            for (int b = 0; b < batches; b++) {
                scorer.score(rows[b % rows.length], batchSize);
            }
            Sample.take().print("session " + s + " after " + batches + " batches", start);
        }
        for (int s = loaded.size() - 1; s >= 1; s--) {
            loaded.remove(s).close();
        }
        Sample.take().print("all but one session closed", start);
        System.out.printf("VmHWM (peak resident) MB: %.1f%n", status("VmHWM") / 1024.0);
        loaded.forEach(OnnxSequenceModel::close);
    }

    private static int[][] rows(
            ModelArtifact artifact, int batchSize, boolean full, SplittableRandom random) {
        int[][] rows = new int[batchSize][];
        for (int r = 0; r < batchSize; r++) {
            rows[r] = new int[full ? artifact.maxLen() : 1 + random.nextInt(artifact.maxLen())];
            for (int i = 0; i < rows[r].length; i++) {
                rows[r][i] = 1 + random.nextInt(artifact.numItems());
            }
        }
        return rows;
    }

    /** A field of /proc/self/status, in kB. */
    static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException(field + " not in /proc/self/status");
    }

    private record Sample(long rssKb, long nonHeapBytes, long directBytes) {
        static Sample take() {
            System.gc();
            long direct = 0;
            for (BufferPoolMXBean pool :
                    ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                direct += pool.getMemoryUsed();
            }
            return new Sample(
                    status("VmRSS"),
                    ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage().getCommitted(),
                    direct);
        }

        void print(String step, Sample start) {
            double jvm =
                    (nonHeapBytes - start.nonHeapBytes + directBytes - start.directBytes)
                            / (double) (1 << 20);
            double rest = (rssKb - start.rssKb) / 1024.0 - jvm;
            System.out.printf(
                    "%s | %.1f | %.1f | %.1f | %.1f%n",
                    step,
                    rssKb / 1024.0,
                    nonHeapBytes / (double) (1 << 20),
                    directBytes / (double) (1 << 20),
                    rest);
        }
    }
}
