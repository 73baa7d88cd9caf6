package io.seqrec.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.model.TopK;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.LongBuffer;
import java.util.Locale;

/**
 * The JMH cases measured in CPU time of the calling thread instead of wall time, for a machine
 * shared with other work: with one ONNX Runtime thread the inference runs on the caller, so its CPU
 * time per call barely depends on what else competes for the cores (wall time does). Not a
 * replacement for JMH on a quiet machine; a cross-check that survives contention.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.seqrec.benchmarks.CpuTimeBenchmarks djl|ort MODEL_DIR...
 * </pre>
 *
 * Run {@code djl} and {@code ort} in separate JVMs (DJL cannot start after plain ORT).
 */
public final class CpuTimeBenchmarks {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int[] BATCHES = {1, 8, 32, 128, 512};
    private static final long BUDGET_NANOS = 1_500_000_000L;

    private CpuTimeBenchmarks() {}

    /** Something to time: one call. */
    private interface Call {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String impl = args[0];
        System.out.println("impl model case batch cpu_us_per_call cpu_us_per_seq wall_us_per_call");
        for (int a = 1; a < args.length; a++) {
            ModelArtifact artifact = Sequences.artifact(args[a]);
            int len = artifact.maxLen();
            if (impl.equals("ort")) {
                ort(artifact, len);
                continue;
            }
            try (OnnxSequenceModel model =
                    OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
                for (int batch : BATCHES) {
                    long[] input = Sequences.fullRows(artifact, batch, len, 1);
                    report(
                            impl,
                            args[a],
                            "full-length",
                            batch,
                            () -> model.score(input, batch, len));
                }
                for (BatchScorer.Padding padding : BatchScorer.Padding.values()) {
                    BatchScorer scorer = new BatchScorer(model, artifact, padding);
                    int[][] rows = Sequences.mixedRows(artifact, 32, 2);
                    report(
                            impl,
                            args[a],
                            "mixed-lengths-" + padding.toString().toLowerCase(Locale.ROOT),
                            32,
                            () -> scorer.score(rows, 32));
                }
                float[] scores = model.score(Sequences.fullRows(artifact, 1, len, 3), 1, len);
                float[] work = new float[scores.length];
                int[] idx = new int[10];
                float[] val = new float[10];
                report(
                        impl,
                        args[a],
                        "top10-of-row",
                        1,
                        () -> {
                            System.arraycopy(scores, 0, work, 0, scores.length);
                            TopK.select(work, 0, work.length, 10, idx, val);
                        });
            }
        }
    }

    private static void ort(ModelArtifact artifact, int len) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = OrtSessions.open(env, artifact.modelFile().toString(), 1)) {
            for (int batch : BATCHES) {
                LongBuffer input = OrtSessions.direct(Sequences.fullRows(artifact, batch, len, 1));
                long[] shape = {batch, len};
                float[] out = new float[batch * (artifact.numItems() + 1)];
                report(
                        "ort",
                        artifact.dir().toString(),
                        "full-length",
                        batch,
                        () ->
                                OrtSessions.scores(
                                        env, session, artifact.inputName(), input, shape, out));
            }
        }
    }

    private static void report(String impl, String model, String name, int batch, Call call)
            throws Exception {
        long warmEnd = THREADS.getCurrentThreadCpuTime() + BUDGET_NANOS / 3;
        while (THREADS.getCurrentThreadCpuTime() < warmEnd) {
            call.run();
        }
        long calls = 0;
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        long cpu = 0;
        while (cpu < BUDGET_NANOS || calls < 5) {
            call.run();
            calls++;
            cpu = THREADS.getCurrentThreadCpuTime() - cpu0;
        }
        long wall = System.nanoTime() - wall0;
        System.out.printf(
                Locale.ROOT,
                "%s %s %s %d %.1f %.1f %.1f%n",
                impl,
                model,
                name,
                batch,
                cpu / 1e3 / calls,
                cpu / 1e3 / calls / batch,
                wall / 1e3 / calls);
    }
}
