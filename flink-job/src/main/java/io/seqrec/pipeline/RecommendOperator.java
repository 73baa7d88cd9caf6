package io.seqrec.pipeline;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.seqrec.config.Device;
import io.seqrec.evaluation.LiveEvaluation;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.evaluation.RecommendationWindow;
import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.DeadLetter;
import io.seqrec.event.DeadLetterReason;
import io.seqrec.event.EventType;
import io.seqrec.event.Recommendation;
import io.seqrec.event.StableHash;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.ModelVerifier;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.model.SequenceScorer;
import io.seqrec.model.TopK;
import io.seqrec.registry.ModelRegistry;
import io.seqrec.registry.RegistryPointer;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.stream.Stream;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
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
 * output, or as a {@link DeadLetter} on {@link #DEAD_LETTERS} (late, duplicate event id, over the
 * per-user rate limit, or a failed inference); every deletion request as a tombstone on the main
 * output. Per user, recommendations are emitted in input order with {@code seq} increasing by one.
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
 * from it when the event is scored ({@link UserState#modelRow}): the last {@code max_len} items the
 * model knows and, for a type-aware model, their steps' behaviors by its repeat rule (the first or
 * the strongest behavior of a run of events on one item; the state keeps both). So the state does
 * not depend on the model that wrote it.
 *
 * <p><b>Deletion requests.</b> A {@link BehaviorEvent#forget() forget} request clears its user's
 * keyed state (the {@link UserState}: history, dedupe window, last list, pending live check; the
 * operator keeps nothing else per user) once the events before it are processed, and emits a {@link
 * Recommendation#isTombstone() tombstone} for the user (docs/PRIVACY.md).
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

    static final String SERVING_STATE_NAME = "serving-pointer";

    /** Union operator state: every subtask's trending sketch ({@link TrendingLists}). */
    static final String TRENDING_STATE_NAME = "trending-sketch";

    private transient ServingModels serving;
    private transient ModelPoller poller;
    private transient Path modelDir;
    private transient RegistryPointer restoredPointer;
    private transient ListState<String> servingState;
    private transient ListState<byte[]> trendingState;
    private transient Iterable<byte[]> restoredTrending;
    private transient TrendingLists trending;
    private transient int[][] rows;
    private transient int[][] behaviorRows;
    private transient UserState.Limits limits;
    private transient ValueState<UserState> userState;
    private transient List<Pending> pending;
    private transient ScheduledFuture<?> flushTimer;

    /** Live evaluation by registry version (by model_version with --model), kept across swaps. */
    private transient Map<String, LiveEvaluation> liveByVersion;

    /** Each served model's entry of {@link #liveByVersion}, for the set served now. */
    private transient Map<ServedModel, LiveEvaluation> liveByModel;

    /**
     * The live baseline by registry version: the same checks against what trending would have
     * recommended to the same users.
     */
    private transient Map<String, LiveEvaluation> baselineByVersion;

    private transient Map<ServedModel, LiveEvaluation> baselineByModel;

    /**
     * The live checks of items the user bought, by registry version: a check is counted here too
     * when the user buys the item it checked before turning to another (or turned to it with the
     * purchase). Not reported to the registry.
     */
    private transient Map<String, LiveEvaluation> purchaseByVersion;

    private transient Map<ServedModel, LiveEvaluation> purchaseByModel;

    /** Gauges by model_version, registered once. */
    private transient Map<String, VersionGauges> gauges;

    private transient long lastLiveOffer;
    private transient Counter modelSwaps;
    private transient Counter modelLoadFailures;

    private transient Counter accepted;
    private transient Counter recommendationsOut;
    private transient Counter trendingOut;
    private transient Counter freshItemsOut;
    private transient Counter answersReused;

    /** Recent users' last model lists: events that leave the model's input as it was reuse them. */
    private transient LastAnswers lastAnswers;

    /**
     * Users whose last answer a subtask keeps: the users active in the last seconds to minutes at
     * these rates; at most ~2 KB each (a 200-step row, its behaviors, the list).
     */
    static final int LAST_ANSWERS = 4096;

    private transient Counter blendOut;
    private transient Counter unknownItems;
    private transient Counter usersForgotten;
    private transient Map<DeadLetterReason, Counter> deadLettered;
    private transient Histogram batchSizes;
    private transient Histogram inferenceMicros;
    private transient Histogram latencyMs;

    /** Coverage, Gini, novelty, average popularity and ILD of this subtask's lists, by window. */
    private transient RecommendationWindow quality;

    /** An event waiting for its batch. */
    private static final class Pending {
        final String userId;
        final BehaviorEvent event;
        ServedModel model;
        int[] row;

        /** The behaviors of {@link #row}'s steps, for a model that takes them; else null. */
        int[] behaviors;

        int scoreRow;

        /** Key of the item that became a new step, else 0: live evaluation. */
        long target;

        /** Key of the event's item. */
        long itemKey;

        /** The user's history before this event (never written in place): for the checks. */
        long[] previousKeys;

        /** The trending list, for a user the model knows nothing of; else {@code null}. */
        TrendingLists.Ranked trendingList;

        /** The user's last answer, when the model's input is what it was; else {@code null}. */
        LastAnswers.Answer reused;

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

    /** The model versions being served go into every checkpoint, so a restore serves them. */
    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        servingState =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>(SERVING_STATE_NAME, String.class));
        trendingState =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>(TRENDING_STATE_NAME, byte[].class));
        restoredTrending = context.isRestored() ? trendingState.get() : List.of();
        for (String json : servingState.get()) {
            // Every subtask checkpoints the pointer it serves; after a rescale each gets all of
            // them, and the newest is what the job had moved to.
            RegistryPointer p =
                    RegistryPointer.fromJson(
                            json.getBytes(StandardCharsets.UTF_8), "the restored checkpoint");
            if (restoredPointer == null || p.revision() > restoredPointer.revision()) {
                restoredPointer = p;
            }
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        servingState.clear();
        if (serving.pointer() != null) {
            servingState.add(new String(serving.pointer().toJson(), StandardCharsets.UTF_8));
        }
        trendingState.clear();
        trendingState.add(
                trending.snapshot(
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                        getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks()));
    }

    @Override
    public void open() throws Exception {
        super.open();
        MetricGroup group = getMetricGroup();
        lastAnswers = new LastAnswers(LAST_ANSWERS);
        liveByVersion = new HashMap<>();
        baselineByVersion = new HashMap<>();
        purchaseByVersion = new HashMap<>();
        gauges = new HashMap<>();
        trending =
                new TrendingLists(
                        TrendingLists.restore(
                                restoredTrending,
                                options.trending(),
                                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks()),
                        options.topK(),
                        options.excludeSeen());
        restoredTrending = null;
        modelSwaps = group.counter("model_swaps");
        modelLoadFailures = group.counter("model_load_failures", new ThreadSafeSimpleCounter());
        InferenceOptions inference = inferenceOptions();
        if (options.modelRegistry() == null) {
            ModelArtifact artifact = ModelArtifact.load(Path.of(options.modelDir()));
            serving = ServingModels.single(serve(artifact, modelLoader.load(artifact, inference)));
        } else {
            ModelRegistry registry = ModelRegistry.open(options.modelRegistry());
            modelDir = Files.createTempDirectory("seqrec-models-");
            poller =
                    new ModelPoller(
                            registry,
                            modelDir,
                            artifact -> {
                                SequenceScorer model = modelLoader.load(artifact, inference);
                                try {
                                    ModelVerifier.verify(model, artifact);
                                } catch (RuntimeException e) {
                                    model.close();
                                    throw e;
                                }
                                return serve(artifact, model);
                            },
                            modelLoadFailures,
                            getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                            getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
            // A restore serves what the checkpoint served; the next poll moves on from there.
            RegistryPointer initial =
                    restoredPointer != null ? restoredPointer : registry.pointer();
            serving = poller.loadInitial(initial);
            poller.start(Duration.ofMillis(options.modelPollIntervalMs()));
            LOG.info(
                    "Serving model registry {} revision {}{}",
                    options.modelRegistry(),
                    initial.revision(),
                    restoredPointer != null ? " (from the restored checkpoint)" : "");
        }
        registerVersions(serving);
        rows = new int[options.batchSize()][];
        behaviorRows = new int[options.batchSize()][];
        limits = options.stateLimits();

        userState = getRuntimeContext().getState(userStateDescriptor(options.stateTtlMs()));
        pending = new ArrayList<>(options.batchSize());
        registerMetrics(group);
    }

    /**
     * The users' state as this operator declares it, {@code stateTtlMs} its time to live: what a
     * reader of its checkpoints (Flink's State Processor API) must declare to read them.
     */
    public static ValueStateDescriptor<UserState> userStateDescriptor(long stateTtlMs) {
        ValueStateDescriptor<UserState> descriptor =
                new ValueStateDescriptor<>(STATE_NAME, UserState.class);
        descriptor.enableTimeToLive(
                StateTtlConfig.newBuilder(Duration.ofMillis(stateTtlMs))
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        // Expired users are removed, not just hidden: by RocksDB compaction in
                        // production, incrementally as records pass on the heap backend.
                        .cleanupInRocksdbCompactFilter(1000)
                        .cleanupIncrementally(10, true)
                        .build());
        return descriptor;
    }

    /** A loaded model made ready to serve: its batch scorer, warmed up on every batch shape. */
    private ServedModel serve(ModelArtifact artifact, SequenceScorer model) {
        ServedModel served =
                new ServedModel(artifact, model, options.padding(), options.explanations());
        long warmUpStart = System.nanoTime();
        int warmUpCalls = served.scorer.warmUp(options.batchSize());
        LOG.info(
                "Model {} ({}) warmed up: {} calls of every batch shape in {} ms",
                artifact.modelVersion(),
                artifact.describeSteps(),
                warmUpCalls,
                (System.nanoTime() - warmUpStart) / 1_000_000);
        if (options.maxHistory() < artifact.maxLen()) {
            LOG.warn(
                    "--max-history {} is below the model's max_len {}: rows hold at most {} items",
                    options.maxHistory(),
                    artifact.maxLen(),
                    options.maxHistory());
        }
        return served;
    }

    /**
     * A served model's gauges, registered once per {@code model_version}. Two registry versions of
     * one artifact (the same {@code model_version} under two names) share them: they show the one
     * served last; {@code models status} tells them apart.
     */
    private static final class VersionGauges {
        volatile boolean serving;
        volatile LiveEvaluation live;
        volatile LiveEvaluation baseline;
        volatile LiveEvaluation purchase;
    }

    /**
     * Points the live evaluation of each model of {@code set} at its registry version's (kept
     * across swaps), and its gauges at that.
     */
    private void registerVersions(ServingModels set) {
        Map<ServedModel, LiveEvaluation> byModel = new IdentityHashMap<>();
        Map<ServedModel, LiveEvaluation> baselines = new IdentityHashMap<>();
        Map<ServedModel, LiveEvaluation> purchases = new IdentityHashMap<>();
        for (ServedModel model : set.models()) {
            LiveEvaluation live =
                    liveByVersion.computeIfAbsent(set.nameOf(model), v -> new LiveEvaluation());
            LiveEvaluation baseline =
                    baselineByVersion.computeIfAbsent(set.nameOf(model), v -> new LiveEvaluation());
            LiveEvaluation purchase =
                    purchaseByVersion.computeIfAbsent(set.nameOf(model), v -> new LiveEvaluation());
            byModel.put(model, live);
            baselines.put(model, baseline);
            purchases.put(model, purchase);
            VersionGauges g = gauges.get(model.version());
            if (g == null) {
                VersionGauges created = new VersionGauges();
                created.live = live; // before the reporter can read them
                created.baseline = baseline;
                created.purchase = purchase;
                MetricGroup byVersion = getMetricGroup().addGroup("model_version", model.version());
                byVersion.gauge("model_loaded", () -> created.serving ? 1 : 0);
                byVersion.gauge("live_hr_at_10", () -> created.live.hitRate());
                byVersion.gauge("live_ndcg_at_10", () -> created.live.ndcg());
                byVersion.gauge("live_evaluated", () -> created.live.evaluated());
                byVersion.gauge("live_baseline_hr_at_10", () -> created.baseline.hitRate());
                byVersion.gauge("live_baseline_ndcg_at_10", () -> created.baseline.ndcg());
                byVersion.gauge("live_purchase_hr_at_10", () -> created.purchase.hitRate());
                byVersion.gauge("live_purchase_ndcg_at_10", () -> created.purchase.ndcg());
                byVersion.gauge("live_purchase_evaluated", () -> created.purchase.evaluated());
                gauges.put(model.version(), created);
                g = created;
            }
            g.live = live;
            g.baseline = baseline;
            g.purchase = purchase;
            g.serving = true;
        }
        liveByModel = byModel;
        baselineByModel = baselines;
        purchaseByModel = purchases;
    }

    /** Between batches: switches to the set the poller has loaded, if any, and closes the rest. */
    private void switchModels() {
        ServingModels next = poller.take();
        if (next == null) {
            return;
        }
        ServingModels previous = serving;
        serving = next;
        for (VersionGauges g : gauges.values()) {
            g.serving = false;
        }
        registerVersions(next);
        for (ServedModel m : previous.models()) {
            if (!next.models().contains(m)) {
                m.close();
            }
        }
        modelSwaps.inc();
        LOG.info(
                "Switched to model registry revision {}: {}",
                next.revision(),
                next.models().stream().map(ServedModel::version).toList());
    }

    /**
     * Hands the live figures to the poller, which writes them to the registry at its next poll; at
     * most once a second (and at every checkpoint, whose barrier flushes), a few small objects.
     */
    private void offerLive() {
        long now = System.currentTimeMillis();
        if (now - lastLiveOffer < 1000) {
            return;
        }
        lastLiveOffer = now;
        Map<String, LiveTotals> totals = new HashMap<>();
        liveByVersion.forEach((version, live) -> totals.put(version, live.totals()));
        Map<String, LiveTotals> baselines = new HashMap<>();
        baselineByVersion.forEach((version, live) -> baselines.put(version, live.totals()));
        poller.offerLive(totals, baselines);
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
        trendingOut = group.counter("recommendations_trending");
        freshItemsOut = group.counter("fresh_items_recommended");
        answersReused = group.counter("recommendations_reused");
        blendOut = group.counter("recommendations_blend");
        unknownItems = group.counter("unknown_items");
        usersForgotten = group.counter("users_forgotten");
        deadLettered = new HashMap<>();
        for (DeadLetterReason r :
                List.of(
                        DeadLetterReason.LATE,
                        DeadLetterReason.DUPLICATE_EVENT_ID,
                        DeadLetterReason.INFERENCE_FAILED,
                        DeadLetterReason.RATE_LIMITED)) {
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
        group.gauge("model_registry_revision", () -> serving.revision());
        quality = new RecommendationWindow(options.qualityWindowMs());
        group.gauge("recommendations_coverage", () -> quality.figures().coverage());
        group.gauge("recommendations_gini", () -> quality.figures().gini());
        group.gauge("recommendations_novelty", () -> quality.figures().novelty());
        group.gauge("recommendations_avg_popularity", () -> quality.figures().averagePopularity());
        group.gauge("recommendations_ild", () -> quality.figures().intraListDiversity());
    }

    @Override
    public void processElement(StreamRecord<BehaviorEvent> element) throws Exception {
        if (element.getValue().forget()) {
            forget(element.getValue());
            return;
        }
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

    /**
     * A deletion request: the events that arrived before it are processed first (the buffer is
     * flushed, so they cannot write the user's state back afterwards), then the user's keyed state
     * is cleared and a tombstone goes to the output, through the same sink and transaction as the
     * user's lists. The key's state is gone from the next checkpoint on; a later event of the user
     * starts an empty history with {@code seq} 1.
     */
    private void forget(BehaviorEvent request) throws Exception {
        Object key = getCurrentKey();
        flush();
        setCurrentKey(key);
        userState.clear();
        // The last list and the history it came from are the user's data too.
        lastAnswers.remove((String) key);
        output.collect(
                new StreamRecord<>(
                        Recommendation.tombstone(
                                request.userId(),
                                request.eventId(),
                                request.ts(),
                                System.currentTimeMillis(),
                                request.producedTs()),
                        request.producedTs()));
        usersForgotten.inc();
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
        if (poller != null) {
            switchModels();
            offerLive();
        }
        quality.roll(
                getProcessingTimeService().getCurrentProcessingTime(),
                serving.stable().artifact.numItems());
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
        trending.refresh(); // this batch's lists rank what was trending before it
        for (Pending p : batch) {
            p.accepted = false;
            p.target = 0;
            p.itemKey = 0;
            p.row = null;
            p.behaviors = null;
            p.trendingList = null;
            p.reused = null;
            UserState st = states.get(p.userId);
            if (st == null) {
                setCurrentKey(p.userId);
                st = userState.value();
                if (st == null) {
                    st = new UserState();
                }
            }
            BehaviorEvent e = p.event;
            // The user's model: the canary for the canary's share of users, else the stable one.
            p.model = serving.forUser(p.userId);
            ModelArtifact artifact = p.model.artifact;
            long key = StableHash.of(e.itemId());
            p.itemKey = key;
            p.previousKeys = st.itemKeys;
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
                case RATE_LIMITED:
                    // Decided before the history changes: the state is as it was, and the event
                    // never reaches the model (a flooding user's excess costs no inference).
                    rejected.add(
                            DeadLetter.of(
                                    e,
                                    DeadLetterReason.RATE_LIMITED,
                                    "more than --max-events-per-user-per-second events of this"
                                            + " user in one second of event time"));
                    continue;
                default:
                    if (artifact.indexOf(key) == 0) {
                        unknownItems.inc();
                    }
                    // Every new step is checked, on an item the model knows or not: a model
                    // that cannot recommend what users turn to (a stale one, after the catalog
                    // moved on) misses it. Leaving such steps out would rank a stale model on
                    // the easy part of the traffic only, and unfairly against a newer one.
                    // An upgraded step (a cart after a view of one item) is no new item: its
                    // event is answered, scored with the new behavior by a model that reads
                    // strongest behaviors, but not checked.
                    if (applied == UserState.Applied.APPENDED) {
                        p.target = key;
                    }
                    trending.count(key, e.itemId(), e.ts());
                    quality.interaction(key);
            }
            p.accepted = true;
            UserState.ModelRow input = st.modelRow(artifact);
            p.row = input.items();
            p.behaviors = input.behaviors();
            if (p.row.length == 0) {
                // The model knows none of the user's items: its answer would be the same for
                // everyone. What is trending is better, once there is a full list of it.
                TrendingLists.Ranked list = trending.listFor(st.itemKeys, options.topK());
                if (list.size() == options.topK()) {
                    p.trendingList = list;
                    continue;
                }
            }
            if (answersReusable(p.row.length)) {
                p.reused =
                        lastAnswers.forInput(p.userId, p.model, p.row, p.behaviors, st.lastTopKeys);
                if (p.reused != null) {
                    continue;
                }
            }
            requests++;
        }

        // Inference, one call group per model (BatchScorer groups by sequence length).
        if (requests == 0) {
            return finish(batch, states, rejected);
        }
        if (rows.length < requests) {
            rows = new int[Math.max(requests, options.batchSize())][];
            behaviorRows = new int[rows.length][];
        }
        long started = System.nanoTime();
        for (ServedModel model : serving.models()) {
            boolean typed = model.artifact.takesBehaviors();
            int n = 0;
            for (Pending p : batch) {
                if (p.accepted && p.model == model && p.trendingList == null) {
                    p.scoreRow = n;
                    behaviorRows[n] = p.behaviors;
                    rows[n++] = p.row;
                }
            }
            if (n == 0) {
                continue;
            }
            try {
                model.scorer.score(rows, typed ? behaviorRows : null, n);
            } catch (RuntimeException ex) {
                return ex; // state stays as it was: none of these events was applied
            }
        }
        inferenceMicros.update((System.nanoTime() - started) / 1000);
        batchSizes.update(requests);
        return finish(batch, states, rejected);
    }

    /** Pass 2: evaluate, select top-K (or take the trending list), emit, in arrival order. */
    private RuntimeException finish(
            List<Pending> batch, Map<String, UserState> states, List<DeadLetter> rejected)
            throws Exception {
        int depth = options.blendMaxHistory() > 0 ? RankFusion.DEPTH : options.topK();
        int[] topIndex = new int[Math.max(depth, options.topK())];
        float[] topScore = new float[topIndex.length];
        long now = System.currentTimeMillis();
        for (Pending p : batch) {
            if (!p.accepted) {
                continue;
            }
            UserState st = states.get(p.userId);
            ModelArtifact artifact = p.model.artifact;
            int check = UserState.NO_CHECK;
            if (p.target != 0 && st.lastTopKeys != null && knowsAny(artifact, p.previousKeys)) {
                // The last list was the model's (the user had an item it knows): counted for the
                // model that serves the user now (the last list may be another version's right
                // after a switch), beside what trending would have recommended instead.
                int rank = liveByModel.get(p.model).record(st.lastTopKeys, p.target);
                baselineByModel
                        .get(p.model)
                        .record(trending.listFor(p.previousKeys, options.topK()).keys(), p.target);
                check = rank == LiveEvaluation.MISS ? UserState.CHECK_MISSED : rank + 1;
            }
            st = purchaseCheck(p, st, check);
            states.put(p.userId, st);
            if (p.trendingList != null) {
                TrendingLists.Ranked list = p.trendingList;
                st = st.recommended(list.keys());
                states.put(p.userId, st);
                emit(
                        p,
                        st,
                        Recommendation.TRENDING,
                        list.ids(),
                        list.keys(),
                        list.scores(),
                        null,
                        now);
                trendingOut.inc();
                continue;
            }
            if (p.reused != null) {
                LastAnswers.Answer a = p.reused;
                st = st.recommended(a.keys());
                states.put(p.userId, st);
                emit(p, st, Recommendation.MODEL, a.ids(), a.keys(), a.scores(), a.because(), now);
                answersReused.inc();
                continue;
            }
            int width = artifact.numItems() + 1;
            // Short histories (--blend-max-history) fuse the model's ranking with trending's.
            boolean blend =
                    options.blendMaxHistory() > 0 && p.row.length <= options.blendMaxHistory();
            int k = Math.min(blend ? RankFusion.DEPTH : options.topK(), artifact.numItems());
            float[] scores = p.model.scorer.scores(p.scoreRow);
            int from = p.model.scorer.offset(p.scoreRow);
            if (options.excludeSeen()) {
                for (int item : p.row) {
                    scores[from + item] = Float.NEGATIVE_INFINITY;
                }
            }
            int n = TopK.select(scores, from, width, k, topIndex, topScore);
            long[] ranked = new long[n];
            String[] rankedIds = new String[n];
            float[] rankedScores = Arrays.copyOf(topScore, n);
            for (int i = 0; i < n; i++) {
                ranked[i] = artifact.itemKey(topIndex[i]);
                rankedIds[i] = artifact.itemId(topIndex[i]);
            }
            if (blend) {
                TrendingLists.Ranked t = trending.listFor(st.itemKeys, RankFusion.DEPTH);
                RankFusion.Fused fused =
                        RankFusion.fuse(
                                new RankFusion.Ranking(ranked, rankedIds, n),
                                new RankFusion.Ranking(t.keys(), t.ids(), t.size()),
                                options.blendWeight(),
                                options.topK());
                ranked = fused.keys();
                rankedIds = fused.ids();
                rankedScores = fused.scores();
                n = ranked.length;
            }
            TrendingLists.Ranked fresh = freshItems(artifact, st.itemKeys, ranked);
            // The list keeps its best; fresh items take the last positions (a list is never
            // longer than --top-k, and the model keeps at least one position).
            int fromModel = Math.min(n, options.topK() - fresh.size());
            String[] ids = new String[fromModel + fresh.size()];
            long[] keys = new long[ids.length];
            float[] listScores = new float[ids.length];
            System.arraycopy(rankedIds, 0, ids, 0, fromModel);
            System.arraycopy(ranked, 0, keys, 0, fromModel);
            System.arraycopy(rankedScores, 0, listScores, 0, fromModel);
            for (int i = 0; i < fresh.size(); i++) {
                ids[fromModel + i] = fresh.ids()[i];
                keys[fromModel + i] = fresh.keys()[i];
                listScores[fromModel + i] = fresh.scores()[i];
            }
            freshItemsOut.inc(fresh.size());
            st = st.recommended(keys);
            states.put(p.userId, st);
            String because = because(p, keys);
            if (answersReusable(p.row.length)) {
                lastAnswers.put(
                        p.userId,
                        new LastAnswers.Answer(
                                p.model, p.row, p.behaviors, ids, keys, listScores, because));
            }
            emit(
                    p,
                    st,
                    blend ? Recommendation.BLEND : Recommendation.MODEL,
                    ids,
                    keys,
                    listScores,
                    because,
                    now);
            if (blend) {
                blendOut.inc();
            }
        }
        writeStates(states);
        emit(rejected);
        return null;
    }

    private void emit(
            Pending p,
            UserState st,
            String strategy,
            String[] ids,
            long[] keys,
            float[] scores,
            String because,
            long now) {
        BehaviorEvent e = p.event;
        output.collect(
                new StreamRecord<>(
                        new Recommendation(
                                e.userId(),
                                e.eventId(),
                                e.ts(),
                                now,
                                st.seq,
                                p.model.artifact.modelVersion(),
                                strategy,
                                ids,
                                scores,
                                because,
                                e.producedTs()),
                        e.ts()));
        accepted.inc();
        recommendationsOut.inc();
        quality.recommended(keys, diversity(p.model, keys));
        if (e.producedTs() > 0) {
            latencyMs.update(now - e.producedTs());
        }
    }

    /**
     * Whether a model list for a history of {@code rowLength} model steps depends on the model's
     * input alone: not when trending items join it (a blend, fresh slots), as trending moves on
     * between two events of a user.
     */
    private boolean answersReusable(int rowLength) {
        boolean blend = options.blendMaxHistory() > 0 && rowLength <= options.blendMaxHistory();
        return !blend && options.freshSlots() == 0;
    }

    /** A list's intra-list diversity by the serving model's item vectors; NaN without them. */
    private static double diversity(ServedModel model, long[] keys) {
        if (model.vectors == null) {
            return Double.NaN;
        }
        int[] indices = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            indices[i] = model.artifact.indexOf(keys[i]);
        }
        return model.vectors.listDiversity(indices);
    }

    private static final TrendingLists.Ranked NO_FRESH_ITEMS =
            new TrendingLists.Ranked(new long[0], new String[0], new float[0]);

    /**
     * With {@code --fresh-slots N}: up to N trending items {@code artifact} does not know (new
     * catalog items), without the user's own.
     */
    private TrendingLists.Ranked freshItems(
            ModelArtifact artifact, long[] seenKeys, long[] listed) {
        if (options.freshSlots() == 0) {
            return NO_FRESH_ITEMS;
        }
        // A blend may have listed some already.
        return trending.listFor(
                seenKeys,
                options.freshSlots(),
                key -> artifact.indexOf(key) == 0 && !contains(listed, key));
    }

    private static boolean contains(long[] keys, long key) {
        for (long k : keys) {
            if (k == key) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code artifact} knows any of {@code keys}, newest first (usually the last). */
    /** The live figures of bought items, summed over the versions served (as the gauges). */
    LiveTotals purchaseTotals() {
        return purchaseByVersion.values().stream()
                .map(LiveEvaluation::totals)
                .reduce(LiveTotals.NONE, LiveTotals::plus);
    }

    /**
     * The live figures of bought items: a step's check counts there once the user buys the step's
     * item, with the purchase that made the step or with one that follows it on the same item
     * (view, cart, purchase are one step). Until then the state keeps the check's outcome; a new
     * step replaces it. Returns the user's state after {@code p}.
     *
     * @param check the outcome of {@code p}'s own check, {@link UserState#NO_CHECK} if none
     */
    private UserState purchaseCheck(Pending p, UserState st, int check) {
        boolean purchase = p.event.eventType() == EventType.PURCHASE;
        int outcome;
        if (p.target != 0) {
            if (!purchase) {
                return st.withNewestStepCheck(check);
            }
            outcome = check;
        } else {
            long[] keys = st.itemKeys;
            if (!purchase || keys.length == 0 || keys[keys.length - 1] != p.itemKey) {
                return st; // not a purchase of the newest step's item
            }
            outcome = st.newestStepCheck;
        }
        if (outcome != UserState.NO_CHECK) {
            int rank = outcome == UserState.CHECK_MISSED ? LiveEvaluation.MISS : outcome - 1;
            purchaseByModel.get(p.model).recordOutcome(rank);
        }
        return st.withNewestStepCheck(UserState.NO_CHECK);
    }

    private static boolean knowsAny(ModelArtifact artifact, long[] keys) {
        for (int i = keys.length - 1; i >= 0; i--) {
            if (artifact.indexOf(keys[i]) != 0) {
                return true;
            }
        }
        return false;
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
            if (poller != null) {
                lastLiveOffer = 0;
                offerLive();
                poller.close(serving);
                poller = null;
            }
            if (serving != null) {
                serving.models().forEach(ServedModel::close);
                serving = null;
            }
            if (modelDir != null) {
                deleteRecursively(modelDir);
                modelDir = null;
            }
        } finally {
            super.close();
        }
    }

    /**
     * The history item behind a model or blend list: the one most similar to the first listed item
     * the model knows (item vectors), else the one the model attended to most (attention output);
     * null without explanations.
     */
    private static String because(Pending p, long[] listed) {
        ModelArtifact artifact = p.model.artifact;
        int position = -1;
        if (!p.model.explains) {
            return null;
        }
        if (p.model.vectors != null) {
            for (long key : listed) {
                int index = artifact.indexOf(key);
                if (index != 0) {
                    position = p.model.vectors.mostSimilarPosition(p.row, 0, p.row.length, index);
                    break;
                }
            }
        } else {
            position = p.model.scorer.strongestPosition(p.scoreRow, p.row.length);
        }
        return position < 0 ? null : artifact.itemId(p.row[position]);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
