package io.seqrec.pipeline;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.seqrec.config.Device;
import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.DeadLetter;
import io.seqrec.event.DeadLetterReason;
import io.seqrec.event.Recommendation;
import io.seqrec.event.StableHash;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.model.SequenceScorer;
import io.seqrec.model.TopK;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyed by user: keeps each user's sequence in keyed state and emits one {@link Recommendation} per
 * accepted event, running the model on micro-batches of requests from many users.
 *
 * <p><b>Contract.</b> Every input event leaves exactly once: as a recommendation on the main
 * output, or as a {@link DeadLetter} on {@link #DEAD_LETTERS} (late, duplicate event id, or a
 * failed inference). Per user, recommendations are emitted in input order with {@code seq}
 * increasing by one.
 *
 * <p><b>Inference failures.</b> If the model throws on a batch, nothing of that batch is applied or
 * emitted; its events are then processed again one at a time, so only the events the model fails on
 * by themselves go to the dead-letter topic ({@code inference_failed}) and the others are answered
 * as usual. A dead-lettered event leaves its user's state as if it had never arrived. The operator
 * keeps running: the next batch is scored normally.
 *
 * <p><b>Batching and checkpoints.</b> Events wait in a buffer until {@code batchSize} are there,
 * {@code batchTimeout} has passed since the first, a checkpoint barrier is about to be emitted
 * ({@link #prepareSnapshotPreBarrier}), or the input ends. The buffer is therefore always empty
 * when state is snapshotted: a restore neither loses nor repeats what it held. Events change state
 * only when their batch is processed, in arrival order, so a user with two events in one batch sees
 * the first applied before the second, exactly as without batching.
 *
 * <p><b>State.</b> One {@link UserState} per user (RocksDB in production), expired {@code stateTtl}
 * after its last write. It names items by key, never by the model's index, and keeps the last
 * {@code maxHistory} steps whether the model knows their items or not; each event's row is built
 * from it when the event is scored ({@link UserState#row}): the last {@code max_len} items the
 * model knows. So the state does not depend on the model that wrote it.
 *
 * <p><b>Model lifecycle.</b> The model is loaded in {@link #open()} (one predictor per subtask) and
 * closed in {@link #close()}.
 */
public class RecommendOperator extends AbstractStreamOperator<Recommendation>
        implements OneInputStreamOperator<BehaviorEvent, Recommendation> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RecommendOperator.class);

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    static final String STATE_NAME = "user-state";

    private final RecommendOptions options;
    private final ModelLoader modelLoader;

    private transient SequenceScorer model;
    private transient BatchScorer scorer;
    private transient int[][] rows;
    private transient UserState.Limits limits;
    private transient ModelArtifact artifact;
    private transient ValueState<UserState> userState;
    private transient List<Pending> pending;
    private transient ScheduledFuture<?> flushTimer;
    private transient LiveEvaluation liveEvaluation;

    private transient Counter accepted;
    private transient Counter recommendationsOut;
    private transient Counter unknownItems;
    private transient Map<DeadLetterReason, Counter> deadLettered;
    private transient Histogram batchSizes;
    private transient Histogram inferenceMicros;
    private transient Histogram latencyMs;

    /** An event waiting for its batch. */
    private static final class Pending {
        final String userId;
        final BehaviorEvent event;
        int[] row;

        /** Key of the item that became a new step the model knows, else 0: live evaluation. */
        long target;

        boolean accepted;

        Pending(String userId, BehaviorEvent event) {
            this.userId = userId;
            this.event = event;
        }
    }

    /** Loads the model a subtask scores with; {@link OnnxSequenceModel#load} in the job. */
    @FunctionalInterface
    interface ModelLoader extends Serializable {
        SequenceScorer load(ModelArtifact artifact, InferenceOptions options);
    }

    public RecommendOperator(RecommendOptions options) {
        this(options, OnnxSequenceModel::load);
    }

    /** With another model loader: tests wrap the real model to inject faults. */
    RecommendOperator(RecommendOptions options, ModelLoader modelLoader) {
        this.options = options;
        this.modelLoader = modelLoader;
    }

    @Override
    public void open() throws Exception {
        super.open();
        artifact = ModelArtifact.load(Path.of(options.modelDir()));
        model = modelLoader.load(artifact, inferenceOptions());
        scorer = new BatchScorer(model, artifact, options.padding());
        long warmUpStart = System.nanoTime();
        int warmUpCalls = scorer.warmUp(options.batchSize());
        LOG.info(
                "Model {} warmed up: {} calls of every batch shape in {} ms",
                artifact.modelVersion(),
                warmUpCalls,
                (System.nanoTime() - warmUpStart) / 1_000_000);
        rows = new int[options.batchSize()][];
        limits = options.stateLimits();
        if (options.maxHistory() < artifact.maxLen()) {
            LOG.warn(
                    "--max-history {} is below the model's max_len {}: rows hold at most {} items",
                    options.maxHistory(),
                    artifact.maxLen(),
                    options.maxHistory());
        }

        ValueStateDescriptor<UserState> descriptor =
                new ValueStateDescriptor<>(STATE_NAME, UserState.class);
        descriptor.enableTimeToLive(
                StateTtlConfig.newBuilder(Duration.ofMillis(options.stateTtlMs()))
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        // Expired users are removed, not just hidden: by RocksDB compaction in
                        // production, incrementally as records pass on the heap backend.
                        .cleanupInRocksdbCompactFilter(1000)
                        .cleanupIncrementally(10, true)
                        .build());
        userState = getRuntimeContext().getState(descriptor);
        pending = new ArrayList<>(options.batchSize());
        liveEvaluation = new LiveEvaluation();
        registerMetrics(getMetricGroup());
    }

    private InferenceOptions inferenceOptions() {
        int gpu = -1;
        if (options.device() != Device.CPU) {
            Set<ExternalResourceInfo> gpus = getRuntimeContext().getExternalResourceInfos("gpu");
            boolean cuda = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
            if (cuda) {
                gpu =
                        gpus.stream()
                                .findFirst()
                                .flatMap(info -> info.getProperty("index"))
                                .map(Integer::parseInt)
                                .orElse(0);
            } else if (options.device() == Device.GPU) {
                throw new IllegalStateException(
                        "--device gpu, but this ONNX Runtime has no CUDA provider: build with"
                                + " -Pgpu and run on a GPU task manager");
            } else {
                LOG.info("--device auto: no CUDA provider in ONNX Runtime, running on CPU");
            }
        }
        return new InferenceOptions(options.inferenceThreads(), gpu);
    }

    private void registerMetrics(MetricGroup group) {
        accepted = group.counter("events_accepted");
        recommendationsOut = group.counter("recommendations_out");
        unknownItems = group.counter("unknown_items");
        deadLettered = new HashMap<>();
        for (DeadLetterReason r :
                List.of(
                        DeadLetterReason.LATE,
                        DeadLetterReason.DUPLICATE_EVENT_ID,
                        DeadLetterReason.INFERENCE_FAILED)) {
            deadLettered.put(
                    r, group.addGroup("reason", r.wireName()).counter("events_dead_lettered"));
        }
        batchSizes =
                group.histogram("inference_batch_size", new DescriptiveStatisticsHistogram(1024));
        inferenceMicros =
                group.histogram("inference_time_us", new DescriptiveStatisticsHistogram(1024));
        latencyMs =
                group.histogram(
                        "event_to_emit_latency_ms", new DescriptiveStatisticsHistogram(4096));
        MetricGroup byModel = group.addGroup("model_version", artifact.modelVersion());
        byModel.gauge("model_loaded", () -> 1);
        byModel.gauge("live_hr_at_10", liveEvaluation::hitRate);
        byModel.gauge("live_ndcg_at_10", liveEvaluation::ndcg);
        byModel.gauge("live_evaluated", liveEvaluation::evaluated);
    }

    @Override
    public void processElement(StreamRecord<BehaviorEvent> element) throws Exception {
        pending.add(new Pending((String) getCurrentKey(), element.getValue()));
        if (pending.size() >= options.batchSize() || options.batchTimeoutMs() == 0) {
            flush();
        } else if (pending.size() == 1) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            flushTimer =
                    getProcessingTimeService()
                            .registerTimer(now + options.batchTimeoutMs(), t -> flushTimer());
        }
    }

    private void flushTimer() throws Exception {
        flushTimer = null;
        flush();
    }

    /** A checkpoint barrier must never find requests in the buffer. */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    /** Applies, scores and emits everything buffered, in arrival order. */
    void flush() throws Exception {
        if (flushTimer != null) {
            flushTimer.cancel(false);
            flushTimer = null;
        }
        if (pending.isEmpty()) {
            return;
        }
        List<Pending> batch = pending;
        pending = new ArrayList<>(options.batchSize());

        RuntimeException failure = process(batch);
        if (failure == null) {
            return;
        }
        if (batch.size() == 1) {
            LOG.error("Inference failed; the event goes to the dead-letter topic", failure);
            deadLetter(batch.get(0).event, DeadLetterReason.INFERENCE_FAILED, describe(failure));
            return;
        }
        // One bad request must not take the other users of its batch down with it.
        LOG.warn(
                "Inference failed for a batch of {}; scoring its events one at a time",
                batch.size(),
                failure);
        for (Pending p : batch) {
            RuntimeException alone = process(List.of(p));
            if (alone != null) {
                LOG.error(
                        "Inference failed for event {} of user {}; it goes to the dead-letter"
                                + " topic: {}",
                        p.event.eventId(),
                        p.userId,
                        describe(alone));
                deadLetter(p.event, DeadLetterReason.INFERENCE_FAILED, describe(alone));
            }
        }
    }

    /**
     * Applies, scores and emits one batch. If inference fails, nothing is emitted or written (no
     * state, no dead letters) and the failure is returned, so the batch can be processed again.
     */
    private RuntimeException process(List<Pending> batch) throws Exception {
        // Pass 1: apply each event to its user's state (read once per user per batch). Each
        // transition makes a new value, so until writeStates nothing stored has changed, whatever
        // the state backend hands out. Late and duplicate events are only collected: they are
        // final once the batch has been scored.
        Map<String, UserState> states = new HashMap<>();
        List<DeadLetter> rejected = new ArrayList<>();
        int requests = 0;
        for (Pending p : batch) {
            p.accepted = false;
            p.target = 0;
            p.row = null;
            UserState st = states.get(p.userId);
            if (st == null) {
                setCurrentKey(p.userId);
                st = userState.value();
                if (st == null) {
                    st = new UserState();
                }
            }
            BehaviorEvent e = p.event;
            long key = StableHash.of(e.itemId());
            UserState.Transition transition =
                    st.apply(e.eventId(), key, e.eventType(), e.ts(), limits);
            st = transition.state();
            states.put(p.userId, st);
            UserState.Applied applied = transition.outcome();
            switch (applied) {
                case LATE:
                    rejected.add(
                            DeadLetter.of(
                                    e,
                                    DeadLetterReason.LATE,
                                    "older than the user's newest event by more than the allowed"
                                            + " lateness"));
                    continue;
                case DUPLICATE:
                    rejected.add(
                            DeadLetter.of(
                                    e,
                                    DeadLetterReason.DUPLICATE_EVENT_ID,
                                    "event_id already applied for this user"));
                    continue;
                default:
                    if (artifact.indexOf(key) == 0) {
                        unknownItems.inc();
                    } else if (applied == UserState.Applied.APPENDED) {
                        p.target = key;
                    }
            }
            p.accepted = true;
            p.row = st.row(artifact);
            requests++;
        }
        if (requests == 0) {
            writeStates(states);
            emit(rejected);
            return null;
        }

        // Inference on the batch, grouped by sequence length (BatchScorer.Padding).
        if (rows.length < requests) {
            rows = new int[Math.max(requests, options.batchSize())][];
        }
        int r = 0;
        for (Pending p : batch) {
            if (p.accepted) {
                rows[r++] = p.row;
            }
        }
        long started = System.nanoTime();
        try {
            scorer.score(rows, requests);
        } catch (RuntimeException ex) {
            return ex; // state stays as it was: none of these events was applied
        }
        inferenceMicros.update((System.nanoTime() - started) / 1000);
        batchSizes.update(requests);

        // Pass 2: evaluate, select top-K, emit, in arrival order.
        int width = artifact.numItems() + 1;
        int k = Math.min(options.topK(), artifact.numItems());
        int[] topIndex = new int[k];
        float[] topScore = new float[k];
        long now = System.currentTimeMillis();
        r = 0;
        for (Pending p : batch) {
            if (!p.accepted) {
                continue;
            }
            float[] scores = scorer.scores(r);
            int from = scorer.offset(r);
            r++;
            if (options.excludeSeen()) {
                for (int item : p.row) {
                    scores[from + item] = Float.NEGATIVE_INFINITY;
                }
            }
            int n = TopK.select(scores, from, width, k, topIndex, topScore);
            UserState st = states.get(p.userId);
            if (p.target != 0 && st.lastTopKeys != null) {
                liveEvaluation.record(st.lastTopKeys, p.target);
            }
            String[] ids = new String[n];
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                ids[i] = artifact.itemId(topIndex[i]);
                keys[i] = artifact.itemKey(topIndex[i]);
            }
            st = st.recommended(keys);
            states.put(p.userId, st);
            BehaviorEvent e = p.event;
            output.collect(
                    new StreamRecord<>(
                            new Recommendation(
                                    e.userId(),
                                    e.eventId(),
                                    e.ts(),
                                    now,
                                    st.seq,
                                    artifact.modelVersion(),
                                    ids,
                                    Arrays.copyOf(topScore, n),
                                    e.producedTs()),
                            e.ts()));
            accepted.inc();
            recommendationsOut.inc();
            if (e.producedTs() > 0) {
                latencyMs.update(now - e.producedTs());
            }
        }
        writeStates(states);
        emit(rejected);
        return null;
    }

    private void emit(List<DeadLetter> rejected) {
        for (DeadLetter d : rejected) {
            deadLettered.get(d.reason()).inc();
            output.collect(DEAD_LETTERS, new StreamRecord<>(d, d.timestamp()));
        }
    }

    private static String describe(RuntimeException e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private void writeStates(Map<String, UserState> states) throws Exception {
        for (Map.Entry<String, UserState> entry : states.entrySet()) {
            setCurrentKey(entry.getKey());
            userState.update(entry.getValue());
        }
    }

    private void deadLetter(BehaviorEvent e, DeadLetterReason reason, String detail) {
        emit(List.of(DeadLetter.of(e, reason, detail)));
    }

    @Override
    public void close() throws Exception {
        try {
            if (model != null) {
                model.close();
                model = null;
            }
        } finally {
            super.close();
        }
    }
}
