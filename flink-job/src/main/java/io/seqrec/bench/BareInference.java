package io.seqrec.bench;

import io.seqrec.event.EventType;
import io.seqrec.event.StableHash;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.model.TopK;
import io.seqrec.pipeline.RecommendOptions;
import io.seqrec.pipeline.UserState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * The ceiling of {@code seqrec bench}: the job's model step alone, without Kafka, Flink, state or
 * serialization. The events are applied to per-user sequences exactly as the job does, split over
 * {@code parallelism} workers by Flink's key-group assignment, and each worker runs its own model
 * ({@code inferenceThreads} ONNX Runtime threads) on full batches of {@code batchSize} with the
 * job's padding policy, then selects the top-K without seen items, as the operator does.
 */
final class BareInference {
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private BareInference() {}

    /** Events per second over all workers, and the workers' CPU time per event. */
    record Result(double eventsPerSecond, double cpuMicrosPerEvent) {}

    /**
     * Runs every event once, after a warm-up pass over a few batches per worker.
     *
     * @param history events applied to the users' sequences first and not scored (the phases'
     *     unmeasured history), so that the measured events meet the same sequences as in the job
     */
    static Result run(
            ModelArtifact artifact,
            List<BenchEvent> history,
            List<BenchEvent> events,
            RecommendOptions options,
            int parallelism)
            throws Exception {
        int maxParallelism = KeyGroupRangeAssignment.computeDefaultMaxParallelism(parallelism);
        List<List<UserState.ModelRow>> rows = new ArrayList<>();
        for (int w = 0; w < parallelism; w++) {
            rows.add(new ArrayList<>());
        }
        Map<String, UserState> states = new HashMap<>();
        UserState.Limits limits = options.stateLimits();
        for (int i = 0; i < history.size(); i++) {
            BenchEvent e = history.get(i);
            long ts = i - (long) history.size();
            states.put(
                    e.userId(),
                    states.getOrDefault(e.userId(), new UserState())
                            .apply("h" + i, StableHash.of(e.itemId()), EventType.VIEW, ts, limits)
                            .state());
        }
        for (int i = 0; i < events.size(); i++) {
            BenchEvent e = events.get(i);
            UserState st =
                    states.getOrDefault(e.userId(), new UserState())
                            .apply("e" + i, StableHash.of(e.itemId()), EventType.VIEW, i, limits)
                            .state();
            states.put(e.userId(), st);
            int worker =
                    KeyGroupRangeAssignment.assignKeyToParallelOperator(
                            e.userId(), maxParallelism, parallelism);
            rows.get(worker).add(st.modelRow(artifact));
        }

        CountDownLatch ready = new CountDownLatch(parallelism);
        CountDownLatch go = new CountDownLatch(1);
        long[] finished = new long[parallelism];
        long[] cpu = new long[parallelism];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < parallelism; w++) {
            int worker = w;
            Thread t =
                    new Thread(
                            () -> {
                                try (OnnxSequenceModel model =
                                        OnnxSequenceModel.load(
                                                artifact,
                                                InferenceOptions.cpu(options.inferenceThreads()))) {
                                    Worker run = new Worker(model, options, rows.get(worker));
                                    run.warmUp();
                                    ready.countDown();
                                    go.await();
                                    long cpuStart = THREADS.getCurrentThreadCpuTime();
                                    run.all();
                                    finished[worker] = System.nanoTime();
                                    cpu[worker] = THREADS.getCurrentThreadCpuTime() - cpuStart;
                                } catch (Throwable ex) {
                                    failure.compareAndSet(null, ex);
                                    ready.countDown();
                                }
                            },
                            "bare-inference-" + w);
            threads.add(t);
            t.start();
        }
        ready.await();
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("bare inference failed", failure.get());
        }
        long end = start;
        for (long f : finished) {
            end = Math.max(end, f);
        }
        long cpuTotal = 0;
        for (long c : cpu) {
            cpuTotal += c;
        }
        return new Result(events.size() / ((end - start) / 1e9), cpuTotal / 1e3 / events.size());
    }

    /** One worker: batches of its rows, in arrival order, scored and ranked like the operator. */
    private static final class Worker {
        private final BatchScorer scorer;
        private final RecommendOptions options;
        private final List<UserState.ModelRow> rows;
        private final int width;
        private final int k;
        private final int[][] batch;

        /** The batch's behaviors, for a model that takes them; else null. */
        private final int[][] behaviors;

        private final int[] topIndex;
        private final float[] topScore;

        Worker(OnnxSequenceModel model, RecommendOptions options, List<UserState.ModelRow> rows) {
            this.scorer = new BatchScorer(model, model.artifact(), options.padding());
            this.options = options;
            this.rows = rows;
            this.width = model.artifact().numItems() + 1;
            this.k = Math.min(options.topK(), model.artifact().numItems());
            this.batch = new int[options.batchSize()][];
            this.behaviors =
                    model.artifact().takesBehaviors() ? new int[options.batchSize()][] : null;
            this.topIndex = new int[k];
            this.topScore = new float[k];
        }

        void warmUp() {
            int n = Math.min(rows.size(), 4 * batch.length);
            for (int from = 0; from < n; from += batch.length) {
                run(from, Math.min(n, from + batch.length));
            }
        }

        void all() {
            for (int from = 0; from < rows.size(); from += batch.length) {
                run(from, Math.min(rows.size(), from + batch.length));
            }
        }

        private void run(int from, int to) {
            int n = to - from;
            for (int r = 0; r < n; r++) {
                batch[r] = rows.get(from + r).items();
                if (behaviors != null) {
                    behaviors[r] = rows.get(from + r).behaviors();
                }
            }
            scorer.score(batch, behaviors, n);
            for (int r = 0; r < n; r++) {
                float[] scores = scorer.scores(r);
                int offset = scorer.offset(r);
                if (options.excludeSeen()) {
                    for (int item : batch[r]) {
                        scores[offset + item] = Float.NEGATIVE_INFINITY;
                    }
                }
                TopK.select(scores, offset, width, k, topIndex, topScore);
            }
        }
    }
}
