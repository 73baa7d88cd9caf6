package io.seqrec.pipeline;

import static io.seqrec.pipeline.Events.event;
import static io.seqrec.pipeline.Events.ordinals;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestModels;
import io.seqrec.TestPaths;
import io.seqrec.config.Device;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.DeadLetter;
import io.seqrec.event.DeadLetterReason;
import io.seqrec.event.EventType;
import io.seqrec.event.Recommendation;
import io.seqrec.event.StableHash;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ItemVectors;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.model.SequenceScorer;
import io.seqrec.model.TestArtifacts;
import io.seqrec.model.TopK;
import io.seqrec.registry.ModelRegistry;
import io.seqrec.trending.TrendingSettings;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link RecommendOperator} through Flink's keyed operator test harness, with the real model, on
 * both state backends: the heap backend hands out the stored value itself, RocksDB a copy, and the
 * operator's guarantees must not depend on which one a deployment chooses.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(RecommendOperatorTest.Backend.class)
class RecommendOperatorTest {
    enum Backend {
        HEAP {
            @Override
            StateBackend create() {
                return new HashMapStateBackend();
            }
        },
        ROCKSDB {
            @Override
            StateBackend create() {
                return new EmbeddedRocksDBStateBackend();
            }
        };

        abstract StateBackend create();
    }

    @Parameter Backend backend;

    private static ModelArtifact model;
    private KeyedOneInputStreamOperatorTestHarness<String, BehaviorEvent, Recommendation> harness;

    @BeforeAll
    static void loadModel() {
        model = ModelArtifact.load(TestPaths.defaultModel());
    }

    private static String item(int index) {
        return model.itemId(index);
    }

    private static RecommendOptions options(int batchSize, long timeoutMs, boolean excludeSeen) {
        return options(TestPaths.defaultModel(), batchSize, timeoutMs, excludeSeen);
    }

    private static RecommendOptions options(
            Path modelDir, int batchSize, long timeoutMs, boolean excludeSeen) {
        return options(modelDir, batchSize, timeoutMs, excludeSeen, 0);
    }

    private static RecommendOptions options(
            Path modelDir, int batchSize, long timeoutMs, boolean excludeSeen, int freshSlots) {
        return options(modelDir, batchSize, timeoutMs, excludeSeen, freshSlots, 0, 1.0);
    }

    private static RecommendOptions options(
            Path modelDir,
            int batchSize,
            long timeoutMs,
            boolean excludeSeen,
            int freshSlots,
            int blendMaxHistory,
            double blendWeight) {
        return new RecommendOptions(
                modelDir.toString(),
                null,
                30_000,
                10,
                excludeSeen,
                batchSize,
                timeoutMs,
                1,
                Device.CPU,
                60_000,
                3_600_000,
                200,
                8,
                0,
                new TrendingSettings(200, 3_600_000),
                freshSlots,
                blendMaxHistory,
                blendWeight,
                true,
                60_000,
                BatchScorer.Padding.BUCKETED);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, BehaviorEvent, Recommendation> open(
            RecommendOptions options, OperatorSubtaskState restoreFrom) throws Exception {
        return open(new RecommendOperator(options), restoreFrom);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, BehaviorEvent, Recommendation> open(
            RecommendOperator operator, OperatorSubtaskState restoreFrom) throws Exception {
        harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        operator, BehaviorEvent::userId, Types.STRING);
        harness.setStateBackend(backend.create());
        if (restoreFrom != null) {
            harness.initializeState(restoreFrom);
        }
        harness.open();
        return harness;
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    private void push(BehaviorEvent e) throws Exception {
        harness.processElement(e, e.ts());
    }

    private List<Recommendation> output() {
        return harness.extractOutputValues();
    }

    private List<DeadLetter> deadLetters() {
        return harness.getSideOutput(RecommendOperator.DEAD_LETTERS).stream()
                .map(StreamRecord::getValue)
                .toList();
    }

    /** The state the operator keeps for {@code user}, as its backend hands it out. */
    private UserState stored(String user) throws Exception {
        RecommendOperator operator = (RecommendOperator) harness.getOperator();
        operator.setCurrentKey(user);
        // the operator's state, found by name (the backend hands out the one already registered)
        ValueState<UserState> state =
                operator.getKeyedStateBackend()
                        .getPartitionedState(
                                VoidNamespace.INSTANCE,
                                VoidNamespaceSerializer.INSTANCE,
                                new ValueStateDescriptor<>(
                                        RecommendOperator.STATE_NAME, UserState.class));
        return state.value();
    }

    private static long[] keys(String... itemIds) {
        return Arrays.stream(itemIds).mapToLong(StableHash::of).toArray();
    }

    /** What {@code artifact}'s model recommends for {@code row}, seen items left out. */
    private static String[] topTen(ModelArtifact artifact, int... row) {
        try (OnnxSequenceModel m = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
            float[] scores = m.score(Arrays.stream(row).asLongStream().toArray(), 1, row.length);
            for (int item : row) {
                scores[item] = Float.NEGATIVE_INFINITY;
            }
            int[] top = new int[10];
            int n = TopK.select(scores, 0, scores.length, 10, top, new float[10]);
            return Arrays.stream(top, 0, n).mapToObj(artifact::itemId).toArray(String[]::new);
        }
    }

    @Test
    void emitsOneRecommendationPerEventExcludingSeenItems() throws Exception {
        open(options(1, 1000, true), null);
        push(event("u1", item(1), 0, "e1"));
        push(event("u1", item(2), 10, "e2"));
        push(event("u1", item(3), 20, "e3"));
        List<Recommendation> out = output();
        assertThat(out).extracting(Recommendation::eventId).containsExactly("e1", "e2", "e3");
        assertThat(out).extracting(Recommendation::seq).containsExactly(1L, 2L, 3L);
        Recommendation last = out.get(2);
        assertThat(last.itemIds()).hasSize(10).doesNotContain(item(1), item(2), item(3));
        assertThat(last.modelVersion()).isEqualTo(model.modelVersion());
        for (int i = 1; i < last.scores().length; i++) {
            assertThat(last.scores()[i]).isLessThanOrEqualTo(last.scores()[i - 1]);
        }
    }

    @Test
    void theCheckOfAStepCountsForPurchasesWhenTheUserBuysItsItem() throws Exception {
        open(options(1, 1000, true), null);
        RecommendOperator operator = (RecommendOperator) harness.getOperator();
        push(event("u1", item(1), 0, "e1"));
        assertThat(stored("u1").newestStepCheck).isEqualTo(UserState.NO_CHECK); // nothing before
        String first = output().get(0).itemIds()[0];
        String unlisted = item(1000);
        assertThat(output().get(0).itemIds()).doesNotContain(unlisted);

        // The user turns to the list's first item: a hit at rank 0, kept until they buy it.
        push(event("u1", first, 10, "e2"));
        assertThat(stored("u1").newestStepCheck).isEqualTo(1);
        push(event("u1", first, 20, "e3", EventType.CART));
        assertThat(stored("u1").newestStepCheck).isEqualTo(1);
        assertThat(operator.purchaseTotals()).isEqualTo(LiveTotals.NONE);
        push(event("u1", first, 30, "e4", EventType.PURCHASE));
        assertThat(stored("u1").newestStepCheck).isEqualTo(UserState.NO_CHECK);
        assertThat(operator.purchaseTotals()).isEqualTo(new LiveTotals(1, 1, 1.0, 1.0));
        push(event("u1", first, 40, "e5", EventType.PURCHASE)); // bought again: counted once
        assertThat(operator.purchaseTotals().evaluated()).isEqualTo(1);

        // A step left for another is not counted; a purchase that is a step counts at once.
        push(event("u1", unlisted, 50, "e6", EventType.VIEW));
        assertThat(stored("u1").newestStepCheck).isEqualTo(UserState.CHECK_MISSED);
        push(event("u1", item(1001), 60, "e7", EventType.PURCHASE));
        assertThat(stored("u1").newestStepCheck).isEqualTo(UserState.NO_CHECK);
        boolean listed = Arrays.asList(output().get(5).itemIds()).contains(item(1001));
        // Back to a seen item, bought: a miss (seen items are not listed).
        push(event("u1", unlisted, 70, "e8", EventType.PURCHASE));
        LiveTotals purchases = operator.purchaseTotals();
        assertThat(purchases.evaluated()).isEqualTo(3);
        assertThat(purchases.hits()).isEqualTo(listed ? 2 : 1);
    }

    @Test
    void keepsSeenItemsWhenExclusionIsOff() throws Exception {
        open(options(1, 1000, false), null);
        push(event("u1", item(1), 0, "e1"));
        Recommendation withSeen = output().get(0);
        harness.close();
        open(options(1, 1000, true), null);
        push(event("u1", item(1), 0, "e1"));
        Recommendation excluding = output().get(0);
        assertThat(excluding.itemIds()).doesNotContain(item(1));
        // the model's own ranking, minus the seen item, is what exclusion leaves
        List<String> expected =
                Arrays.stream(withSeen.itemIds()).filter(id -> !id.equals(item(1))).toList();
        assertThat(Arrays.asList(excluding.itemIds()).subList(0, expected.size()))
                .isEqualTo(expected);
    }

    @Test
    void batchFlushesWhenFull() throws Exception {
        open(options(3, 60_000, true), null);
        push(event("u1", item(1), 0, "e1"));
        push(event("u2", item(2), 0, "e2"));
        assertThat(output()).isEmpty();
        push(event("u1", item(3), 10, "e3"));
        assertThat(output()).extracting(Recommendation::eventId).containsExactly("e1", "e2", "e3");
    }

    @Test
    void batchFlushesAfterTimeout() throws Exception {
        open(options(100, 50, true), null);
        harness.setProcessingTime(1_000);
        push(event("u1", item(1), 0, "e1"));
        harness.setProcessingTime(1_049);
        assertThat(output()).isEmpty();
        harness.setProcessingTime(1_050);
        assertThat(output()).extracting(Recommendation::eventId).containsExactly("e1");
    }

    @Test
    void batchFlushesBeforeCheckpointBarrierAndStateSurvivesRestore() throws Exception {
        open(options(100, 60_000, true), null);
        push(event("u1", item(1), 0, "e1"));
        push(event("u1", item(2), 10, "e2"));
        assertThat(output()).isEmpty();
        harness.prepareSnapshotPreBarrier(1);
        assertThat(output()).hasSize(2);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        open(options(1, 60_000, true), snapshot);
        push(event("u1", item(3), 20, "e3"));
        Recommendation next = output().get(0);
        assertThat(next.seq()).isEqualTo(3);
        assertThat(next.itemIds()).doesNotContain(item(1), item(2), item(3));
    }

    @Test
    void forgetClearsTheUsersStateAfterTheirEarlierEventsAndEmitsATombstone() throws Exception {
        open(options(100, 60_000, true), null);
        push(event("u1", item(1), 0, "e1"));
        push(event("u2", item(1), 0, "e2"));
        push(event("u1", item(2), 10, "e3"));
        // the buffered events come first, the request after them: nothing writes u1 back
        push(Events.forget("u1", 20, "f1"));
        assertThat(output())
                .extracting(Recommendation::eventId)
                .containsExactly("e1", "e2", "e3", "f1");
        Recommendation tombstone = output().get(3);
        assertThat(tombstone.isTombstone()).isTrue();
        assertThat(tombstone.userId()).isEqualTo("u1");
        assertThat(stored("u1")).isNull();
        assertThat(stored("u2").itemKeys).containsExactly(keys(item(1)));
        assertKeyedEntries(1);

        // a checkpoint holds no trace of u1; a restore and a new event start u1 afresh
        harness.prepareSnapshotPreBarrier(1);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();
        open(options(1, 60_000, true), snapshot);
        assertKeyedEntries(1);
        push(event("u1", item(2), 30, "e4"));
        Recommendation fresh = output().get(0);
        assertThat(fresh.seq()).isEqualTo(1);
        // item(1) is no longer seen: the old history is gone, the list may hold it again
        assertThat(stored("u1").itemKeys).containsExactly(keys(item(2)));
    }

    @Test
    void sameUserTwiceInOneBatchIsAppliedInOrder() throws Exception {
        open(options(2, 60_000, true), null);
        push(event("u1", item(1), 0, "e1"));
        push(event("u1", item(2), 10, "e2"));
        List<Recommendation> out = output();
        assertThat(out).extracting(Recommendation::seq).containsExactly(1L, 2L);
        assertThat(out.get(0).itemIds()).doesNotContain(item(1));
        assertThat(out.get(1).itemIds()).doesNotContain(item(1), item(2));
    }

    @Test
    void routesLateAndDuplicateEventsToDeadLetters() throws Exception {
        open(options(1, 1000, true), null);
        push(event("u1", item(1), 100_000, "e1"));
        push(event("u1", item(2), 100_000, "e1"));
        push(event("u1", item(3), 100_000 - 60_001, "e-late"));
        push(event("u1", item(4), 100_000 - 60_000, "e-ok"));
        assertThat(output()).extracting(Recommendation::eventId).containsExactly("e1", "e-ok");
        assertThat(deadLetters())
                .extracting(DeadLetter::reason)
                .containsExactly(DeadLetterReason.DUPLICATE_EVENT_ID, DeadLetterReason.LATE);
        assertThat(deadLetters().get(1).value())
                .isEqualTo(event("u1", item(3), 100_000 - 60_001, "x").rawValue());
    }

    @Test
    void freshSlotsGiveTheLastPositionsToTrendingItemsTheModelDoesNotKnow() throws Exception {
        open(options(TestPaths.defaultModel(), 1, 1000, true, 3), null);
        // New catalog items, trending among other users: new-a most, then b, c, d.
        List<String> fresh = List.of("new-a", "new-b", "new-c", "new-d");
        int n = 0;
        for (int f = 0; f < fresh.size(); f++) {
            for (int i = 0; i < 8 - 2 * f; i++) {
                push(event("other-" + n, fresh.get(f), n, "o" + n));
                n++;
            }
        }
        push(event("u1", item(1), 1_000, "e1"));
        push(event("u1", "new-b", 1_010, "e2")); // a fresh item the user has seen is left out
        List<Recommendation> out = output();
        Recommendation first = out.get(out.size() - 2);
        String[] best = topTen(model, 1);
        assertThat(first.strategy()).isEqualTo(Recommendation.MODEL);
        assertThat(first.itemIds())
                .containsExactly(
                        best[0], best[1], best[2], best[3], best[4], best[5], best[6], "new-a",
                        "new-b", "new-c");
        assertThat(out.get(out.size() - 1).itemIds())
                .hasSize(10)
                .endsWith("new-a", "new-c", "new-d")
                .doesNotContain("new-b", item(1));
    }

    /** u1's list after one event on item 1, other users having made items 5..1 trending. */
    private Recommendation blendedList(int blendMaxHistory, double beta) throws Exception {
        open(options(TestPaths.defaultModel(), 1, 1000, true, 0, blendMaxHistory, beta), null);
        int n = 0;
        for (int t = 5; t >= 1; t--) {
            for (int i = 0; i < 2 * t; i++) {
                push(event("other-" + n, item(100 + t), n, "o" + n));
                n++;
            }
        }
        push(event("u1", item(1), 1_000, "e1"));
        push(event("u1", item(2), 1_010, "e2"));
        List<Recommendation> out = output();
        assertThat(out.get(out.size() - 1).strategy())
                .as("two steps are past the blend's history length")
                .isEqualTo(Recommendation.MODEL);
        return out.get(out.size() - 2);
    }

    @Test
    void shortHistoriesGetTheModelsRankingFusedWithTrendings() throws Exception {
        Recommendation r = blendedList(1, 1.0);
        assertThat(r.strategy()).isEqualTo(Recommendation.BLEND);
        assertThat(r.itemIds()).hasSize(10).doesNotHaveDuplicates().doesNotContain(item(1));
        // Each ranking's first scores at least 1/61: both make the ten.
        assertThat(r.itemIds()).contains(topTen(model, 1)[0], item(105));
        for (int i = 1; i < r.scores().length; i++) {
            assertThat(r.scores()[i]).isLessThanOrEqualTo(r.scores()[i - 1]);
        }
    }

    @Test
    void theBlendsWeightMovesTheListBetweenTheModelAndTrending() throws Exception {
        assertThat(blendedList(1, 0.0).itemIds()).containsExactly(topTen(model, 1));
        close();
        Recommendation trendingFirst = blendedList(1, 1000.0);
        assertThat(trendingFirst.itemIds())
                .startsWith(item(105), item(104), item(103), item(102), item(101));
    }

    private static RecommendOptions withoutExplanations(RecommendOptions o) {
        return new RecommendOptions(
                o.modelDir(),
                o.modelRegistry(),
                o.modelPollIntervalMs(),
                o.topK(),
                o.excludeSeen(),
                o.batchSize(),
                o.batchTimeoutMs(),
                o.inferenceThreads(),
                o.device(),
                o.allowedLatenessMs(),
                o.stateTtlMs(),
                o.maxHistory(),
                o.dedupeWindow(),
                o.maxEventsPerUserPerSecond(),
                o.trending(),
                o.freshSlots(),
                o.blendMaxHistory(),
                o.blendWeight(),
                false,
                o.qualityWindowMs(),
                o.padding());
    }

    @Test
    void modelListsSayWhichHistoryItemTheyAreBecauseOf() throws Exception {
        ItemVectors vectors = ItemVectors.load(model);
        open(options(4, 1000, true), null);
        for (int u = 0; u < 4; u++) {
            for (int i = 0; i < 6; i++) {
                push(event("u" + u, item(1 + 37 * u + 5 * i), 10L * i, "e" + u + "-" + i));
            }
        }
        List<Recommendation> out = output();
        assertThat(out).hasSize(24);
        for (Recommendation r : out) {
            int step = Integer.parseInt(r.eventId().substring(r.eventId().indexOf('-') + 1));
            int u = Integer.parseInt(r.eventId().substring(1, r.eventId().indexOf('-')));
            List<String> history = new java.util.ArrayList<>();
            for (int i = 0; i <= step; i++) {
                history.add(item(1 + 37 * u + 5 * i));
            }
            assertThat(r.because()).as(r.eventId()).isIn(history);
            // the history item whose vector is closest to the first listed item's
            int[] row = history.stream().mapToInt(id -> model.indexOf(StableHash.of(id))).toArray();
            int first = model.indexOf(StableHash.of(r.itemIds()[0]));
            assertThat(r.because())
                    .as(r.eventId())
                    .isEqualTo(history.get(vectors.mostSimilarPosition(row, 0, row.length, first)));
        }
        // The first list of a user is because of the one item there is.
        assertThat(out.get(0).because()).isEqualTo(item(1));
    }

    @Test
    void withExplanationsOffListsCarryNone() throws Exception {
        open(withoutExplanations(options(1, 1000, true)), null);
        push(event("u1", item(1), 0, "e1"));
        push(event("u1", item(2), 10, "e2"));
        assertThat(output()).extracting(Recommendation::because).containsOnlyNulls();
    }

    @Test
    void unknownItemStillGetsARecommendation() throws Exception {
        open(options(1, 1000, true), null);
        push(event("u1", "not-in-the-catalog", 0, "e1"));
        assertThat(output()).hasSize(1);
        assertThat(output().get(0).itemIds()).hasSize(10);
    }

    @Test
    void historySurvivesARestoreIntoAModelWithAnotherVocabulary(@TempDir Path tmp)
            throws Exception {
        // Model B: the default model's graph, but "new-a" and "new-b" in place of its first two
        // items (so item(1) is unknown to B), and every item at another index.
        ModelArtifact b =
                ModelArtifact.load(
                        TestModels.withItems(
                                tmp.resolve("b"),
                                items -> {
                                    items.set(0, "new-a");
                                    items.set(1, "new-b");
                                    Collections.rotate(items, 7);
                                    return items;
                                }));
        open(options(1, 60_000, true), null);
        push(event("u1", "new-a", 0, "e1")); // unknown to the default model
        push(event("u1", item(1), 10, "e2"));
        push(event("u1", "new-b", 20, "e3")); // unknown to the default model
        push(event("u1", item(10), 30, "e4"));
        // the default model scored only the items it knows
        assertThat(output().get(3).itemIds()).containsExactly(topTen(model, 1, 10));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        open(options(b.dir(), 1, 60_000, true), snapshot);
        assertThat(stored("u1").itemKeys)
                .containsExactly(keys("new-a", item(1), "new-b", item(10)));
        push(event("u1", item(20), 40, "e5"));
        Recommendation e5 = output().get(0);
        assertThat(e5.seq()).isEqualTo(5);
        // B reads the same history: the new items count, item(1), which B does not know, does not
        int[] rowOfB = {
            b.indexOf("new-a"), b.indexOf("new-b"), b.indexOf(item(10)), b.indexOf(item(20))
        };
        assertThat(b.indexOf(item(1))).isZero();
        assertThat(e5.itemIds()).containsExactly(topTen(b, rowOfB));
        snapshot = harness.snapshot(2, 2);
        harness.close();

        // and back: item(1) counts again for the model that knows it, and it was never dropped
        open(options(1, 60_000, true), snapshot);
        push(event("u1", item(30), 50, "e6"));
        assertThat(output().get(0).itemIds()).containsExactly(topTen(model, 1, 10, 20, 30));
    }

    /**
     * A snapshot taken before histories were kept by item key (commit 2a2608d: the model's indices
     * in {@code items}, their times in {@code times}, recommendations in {@code lastTopK}), after
     * u1's events e1..e3 on item(1..3): this class's harness and options at that commit, one
     * snapshot per backend written with {@link OperatorSnapshotUtil#writeStateHandle}. Flink's POJO
     * serializer drops the fields the class no longer has: the user keeps seq, event-id ring and
     * newest time, and starts an empty history, instead of one read from another layout.
     */
    @Test
    void stateOfTheOldLayoutRestoresWithAnEmptyHistory() throws Exception {
        String resource = "user-state-2a2608d-" + backend.name().toLowerCase(Locale.ROOT);
        open(
                options(1, 60_000, true),
                OperatorSnapshotUtil.readStateHandle(
                        Path.of(getClass().getResource(resource + ".snapshot").toURI())
                                .toString()));
        UserState restored = stored("u1");
        assertThat(restored.itemKeys).isEmpty();
        assertThat(restored.itemTypes).isEmpty();
        assertThat(restored.itemTimes).isEmpty();
        assertThat(restored.lastTopKeys).isNull();
        assertThat(restored.seq).isEqualTo(3);
        assertThat(restored.newestTs).isEqualTo(Events.T0 + 20);
        assertThat(restored.recentEventHashes)
                .contains(StableHash.of("e1"), StableHash.of("e2"), StableHash.of("e3"));

        push(event("u1", item(3), 20, "e3")); // redelivered: still recognised
        push(event("u1", item(4), 30, "e4"));
        assertThat(deadLetters())
                .extracting(DeadLetter::reason)
                .containsExactly(DeadLetterReason.DUPLICATE_EVENT_ID);
        assertThat(output()).extracting(r -> r.eventId() + "/" + r.seq()).containsExactly("e4/4");
        assertThat(output().get(0).itemIds()).containsExactly(topTen(model, 4));
        assertThat(stored("u1").itemKeys).containsExactly(keys(item(4)));
    }

    /**
     * What the type-aware test model recommends for {@code items} (ids) with {@code behaviors}
     * (event types, aligned), seen items left out.
     */
    private static String[] typedTopTen(String[] items, EventType... behaviors) {
        ModelArtifact typed = ModelArtifact.load(TestPaths.typedModel());
        long[] row = Arrays.stream(items).mapToLong(typed::indexOf).toArray();
        long[] codes = Arrays.stream(behaviors).mapToLong(typed::behaviorCode).toArray();
        try (OnnxSequenceModel m = OnnxSequenceModel.load(typed, InferenceOptions.cpu(1))) {
            float[] scores = m.run(row, codes, 1, row.length, false).scores();
            for (long item : row) {
                scores[(int) item] = Float.NEGATIVE_INFINITY;
            }
            int[] top = new int[10];
            int n = TopK.select(scores, 0, scores.length, 10, top, new float[10]);
            return Arrays.stream(top, 0, n).mapToObj(typed::itemId).toArray(String[]::new);
        }
    }

    @Test
    void aTypedModelIsFedEachStepsStrongestBehaviorAndItSurvivesARestore() throws Exception {
        open(options(TestPaths.typedModel(), 1, 60_000, true), null);
        push(event("u1", "5", EventType.VIEW, 0, "e1"));
        push(event("u1", "5", EventType.CART, 10, "e2")); // the step's strongest: cart
        push(event("u1", "9", EventType.CLICK, 20, "e3"));
        push(event("u1", "9", EventType.VIEW, 30, "e4")); // weaker: nothing changes
        List<Recommendation> out = output();
        assertThat(out).extracting(Recommendation::seq).containsExactly(1L, 2L, 3L, 4L);
        assertThat(out.get(0).itemIds())
                .containsExactly(typedTopTen(new String[] {"5"}, EventType.VIEW));
        assertThat(out.get(1).itemIds())
                .containsExactly(typedTopTen(new String[] {"5"}, EventType.CART));
        String[] expected = typedTopTen(new String[] {"5", "9"}, EventType.CART, EventType.CLICK);
        assertThat(out.get(2).itemIds()).containsExactly(expected);
        assertThat(out.get(3).itemIds()).containsExactly(expected);
        assertThat(out.get(0).itemIds()).isNotEqualTo(out.get(1).itemIds());
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        open(options(TestPaths.typedModel(), 1, 60_000, true), snapshot);
        UserState restored = stored("u1");
        assertThat(restored.itemTypes).containsExactly(ordinals(EventType.VIEW, EventType.CLICK));
        assertThat(restored.itemStrongestTypes)
                .containsExactly(ordinals(EventType.CART, EventType.CLICK));
        push(event("u1", "9", EventType.PURCHASE, 40, "e5"));
        assertThat(output().get(0).seq()).isEqualTo(5);
        assertThat(output().get(0).itemIds())
                .containsExactly(
                        typedTopTen(new String[] {"5", "9"}, EventType.CART, EventType.PURCHASE));
    }

    @Test
    void anUpgradedStepLeavesTheListOfAModelWithoutBehaviorsAsItWas() throws Exception {
        open(options(1, 60_000, true), null);
        push(event("u1", item(1), EventType.VIEW, 0, "e1"));
        push(event("u1", item(2), EventType.VIEW, 10, "e2"));
        push(event("u1", item(2), EventType.PURCHASE, 20, "e3"));
        List<Recommendation> out = output();
        assertThat(out).extracting(Recommendation::seq).containsExactly(1L, 2L, 3L);
        assertThat(out.get(1).itemIds()).containsExactly(topTen(model, 1, 2));
        assertThat(out.get(2).itemIds()).containsExactly(out.get(1).itemIds());
        assertThat(stored("u1").itemStrongestTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.PURCHASE));
    }

    /**
     * A snapshot taken before each step kept its strongest type (commit 612d0d8), one per backend
     * written with {@link OperatorSnapshotUtil#writeStateHandle} by this class's harness and
     * options at that commit after: u1 view item(1), cart item(1) (then dropped as a repeat), click
     * item(2), view item(3); u2 view "3", purchase "3" (dropped), cart "7", click "12" (ids the
     * type-aware test model knows). Flink's POJO serializer starts the new field empty; the
     * histories restore whole, each step's first type standing for its strongest.
     */
    private OperatorSubtaskState stateBeforeStrongestTypes() throws Exception {
        String resource = "user-state-612d0d8-" + backend.name().toLowerCase(Locale.ROOT);
        return OperatorSnapshotUtil.readStateHandle(
                Path.of(getClass().getResource(resource + ".snapshot").toURI()).toString());
    }

    @Test
    void stateFromBeforeStrongestTypesRestoresWithItsHistory() throws Exception {
        open(options(1, 60_000, true), stateBeforeStrongestTypes());
        UserState restored = stored("u1");
        assertThat(restored.itemKeys).containsExactly(keys(item(1), item(2), item(3)));
        assertThat(restored.itemTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.CLICK, EventType.VIEW));
        assertThat(restored.itemTimes).containsExactly(Events.T0, Events.T0 + 20, Events.T0 + 30);
        assertThat(restored.itemStrongestTypes).isEmpty();
        assertThat(restored.seq).isEqualTo(4);
        assertThat(restored.typeOf(0, ModelArtifact.RepeatRule.STRONGEST))
                .isEqualTo(EventType.VIEW);

        push(event("u1", item(3), EventType.PURCHASE, 40, "e5"));
        assertThat(output()).extracting(r -> r.eventId() + "/" + r.seq()).containsExactly("e5/5");
        assertThat(output().get(0).itemIds()).containsExactly(topTen(model, 1, 2, 3));
        assertThat(stored("u1").itemStrongestTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.CLICK, EventType.PURCHASE));
    }

    @Test
    void stateFromBeforeStrongestTypesFeedsATypedModelItsFirstTypes() throws Exception {
        open(options(TestPaths.typedModel(), 1, 60_000, true), stateBeforeStrongestTypes());
        assertThat(stored("u2").itemKeys).containsExactly(keys("3", "7", "12"));
        push(event("u2", "12", EventType.CART, 40, "f5")); // click -> cart
        push(event("u2", "20", EventType.VIEW, 50, "f6"));
        assertThat(output()).extracting(Recommendation::seq).containsExactly(5L, 6L);
        String[] items = {"3", "7", "12"};
        assertThat(output().get(0).itemIds())
                .containsExactly(
                        typedTopTen(items, EventType.VIEW, EventType.CART, EventType.CART));
        assertThat(output().get(1).itemIds())
                .containsExactly(
                        typedTopTen(
                                new String[] {"3", "7", "12", "20"},
                                EventType.VIEW,
                                EventType.CART,
                                EventType.CART,
                                EventType.VIEW));
    }

    @Test
    void expiredStateIsDroppedAndCleanedUp() throws Exception {
        open(options(1, 1000, true), null);
        harness.setStateTtlProcessingTime(0);
        push(event("u1", item(1), 0, "e1"));
        push(event("u2", item(1), 0, "e2"));
        assertKeyedEntries(2);

        harness.setStateTtlProcessingTime(3_600_001);
        push(event("u1", item(2), 10, "e3"));
        Recommendation afterExpiry = output().get(2);
        // u1 starts over: its old sequence is gone, and seq counts from 1 again
        assertThat(afterExpiry.seq()).isEqualTo(1);
        push(event("u3", item(3), 20, "e4"));
        push(event("u4", item(4), 30, "e5"));
        // incremental cleanup runs as records pass: u2's expired entry is removed, not just hidden
        assertKeyedEntries(3);
    }

    /**
     * Only the heap backend counts its entries; on RocksDB expired entries are dropped by the
     * compaction filter, when RocksDB compacts, which a harness test cannot force.
     */
    private void assertKeyedEntries(int expected) {
        if (backend == Backend.HEAP) {
            assertThat(harness.numKeyedStateEntries()).isEqualTo(expected);
        }
    }

    /**
     * The real model, except that it throws on any batch holding the marked item, as ONNX Runtime
     * does on a bad request or a device fault.
     */
    private static final class FailsOnItem implements SequenceScorer {
        private final OnnxSequenceModel model;
        private final int markedItem;

        FailsOnItem(ModelArtifact artifact, InferenceOptions options, int markedItem) {
            this.model = OnnxSequenceModel.load(artifact, options);
            this.markedItem = markedItem;
        }

        @Override
        public float[] score(long[] input, int batch, int seqLen) {
            for (int i = 0; i < batch * seqLen; i++) {
                if (input[i] == markedItem) {
                    throw new IllegalStateException("injected: ORT failed on item " + markedItem);
                }
            }
            return model.score(input, batch, seqLen);
        }

        @Override
        public void close() {
            model.close();
        }
    }

    /** The real model, counting the rows it scored. */
    private static final class CountsRows implements SequenceScorer {
        static final java.util.concurrent.atomic.AtomicInteger ROWS =
                new java.util.concurrent.atomic.AtomicInteger();
        private final OnnxSequenceModel model;

        CountsRows(ModelArtifact artifact, InferenceOptions options) {
            this.model = OnnxSequenceModel.load(artifact, options);
        }

        @Override
        public float[] score(long[] input, int batch, int seqLen) {
            ROWS.addAndGet(batch);
            return model.score(input, batch, seqLen);
        }

        @Override
        public void close() {
            model.close();
        }
    }

    @Test
    void anEventThatLeavesTheModelsInputAsItWasGetsTheLastListAgainWithoutInference()
            throws Exception {
        open(new RecommendOperator(options(1, 0, true), CountsRows::new), null);
        CountsRows.ROWS.set(0);
        push(event("u1", item(1), 0, "e1"));
        push(event("u1", item(2), 10, "e2"));
        int scored = CountsRows.ROWS.get();

        // A repeat of the item just seen (a view and then a cart of one item: under the model's
        // "first" repeat rule the step is the view), and an item the model does not know.
        push(event("u1", item(2), EventType.CART, 20, "e3"));
        push(event("u1", "not-in-the-catalog", 30, "e4"));

        assertThat(CountsRows.ROWS.get()).as("no row scored for e3 and e4").isEqualTo(scored);
        Recommendation e2 = output().get(1);
        for (Recommendation again : output().subList(2, 4)) {
            assertThat(again.itemIds()).containsExactly(e2.itemIds());
            assertThat(again.scores()).containsExactly(e2.scores());
            assertThat(again.because()).isEqualTo(e2.because());
            assertThat(again.strategy()).isEqualTo(Recommendation.MODEL);
        }
        assertThat(output()).extracting(Recommendation::seq).containsExactly(1L, 2L, 3L, 4L);

        // A new step the model knows changes the input: scored again, and a new list.
        push(event("u1", item(3), 40, "e5"));
        assertThat(CountsRows.ROWS.get()).isEqualTo(scored + 1);
        assertThat(output().get(4).itemIds()).doesNotContain(item(3));
    }

    @Test
    void aRestoredOperatorComputesTheListItWouldHaveReused() throws Exception {
        open(options(1, 0, true), null);
        push(event("u1", item(1), 0, "e1"));
        push(event("u1", item(2), 10, "e2"));
        OperatorSubtaskState snapshot = harness.snapshot(1, 10);
        push(event("u1", item(2), 20, "e3")); // reused
        Recommendation reused = output().get(2);
        harness.close();

        // The answers are not state: after a restore the same event is scored, to the same list.
        open(options(1, 0, true), snapshot);
        push(event("u1", item(2), 20, "e3"));

        Recommendation computed = output().get(0);
        assertThat(computed.itemIds()).containsExactly(reused.itemIds());
        assertThat(computed.scores()).containsExactly(reused.scores());
        assertThat(computed.because()).isEqualTo(reused.because());
        assertThat(computed.seq()).isEqualTo(reused.seq());
    }

    @Test
    void inferenceFailureDeadLettersOnlyTheAffectedEventAndTheNextBatchSucceeds() throws Exception {
        int marked = 7;
        open(
                new RecommendOperator(
                        options(5, 60_000, true),
                        (artifact, inference) -> new FailsOnItem(artifact, inference, marked)),
                null);
        List<BehaviorEvent> in =
                List.of(
                        event("u1", item(1), 0, "e1"),
                        event("u2", item(marked), 0, "e2"),
                        event("u1", item(1), 0, "e1"), // redelivered
                        event("u3", item(2), 0, "e3"),
                        event("u2", item(3), 10, "e4"));
        for (BehaviorEvent e : in) {
            push(e);
        }
        // The batch failed as a whole; its events were scored again one by one, so only the event
        // the model fails on is lost, and the duplicate is dead-lettered once, not twice.
        assertThat(output()).extracting(Recommendation::eventId).containsExactly("e1", "e3", "e4");
        assertThat(deadLetters())
                .extracting(d -> d.reason() + " " + new String(d.value()))
                .containsExactlyInAnyOrder(
                        "INFERENCE_FAILED " + new String(in.get(1).rawValue()),
                        "DUPLICATE_EVENT_ID " + new String(in.get(2).rawValue()));
        DeadLetter failed =
                deadLetters().stream()
                        .filter(d -> d.reason() == DeadLetterReason.INFERENCE_FAILED)
                        .findFirst()
                        .orElseThrow();
        assertThat(failed.detail()).contains("injected: ORT failed on item " + marked);
        assertThat(failed.key()).isEqualTo("u2".getBytes());
        assertThat(failed.source()).isEqualTo(in.get(1).source());
        // u2's failed event left no trace: e4 is u2's first recommendation, without the marked item
        Recommendation e4 = output().get(2);
        assertThat(e4.seq()).isEqualTo(1);

        // The operator keeps going: the next batch is scored as usual.
        List<BehaviorEvent> next =
                List.of(
                        event("u1", item(4), 20, "e5"),
                        event("u2", item(5), 20, "e6"),
                        event("u3", item(6), 20, "e7"),
                        event("u4", item(8), 20, "e8"),
                        event("u5", item(9), 20, "e9"));
        for (BehaviorEvent e : next) {
            push(e);
        }
        assertThat(output())
                .extracting(Recommendation::eventId)
                .containsExactly("e1", "e3", "e4", "e5", "e6", "e7", "e8", "e9");
        assertThat(output().get(4).seq()).isEqualTo(2); // u1: e1, then e5
        // Counts balance: every event in left once, as a recommendation or a dead letter.
        assertThat(output().size() + deadLetters().size()).isEqualTo(in.size() + next.size());
    }

    @Test
    void failedBatchLeavesEarlierStateOfItsUsersAsItWas() throws Exception {
        int marked = 7;
        open(
                new RecommendOperator(
                        options(3, 60_000, true),
                        (artifact, inference) -> new FailsOnItem(artifact, inference, marked)),
                null);
        // u1 and u2 have history before the failing batch.
        push(event("u1", item(1), 0, "e1"));
        push(event("u2", item(2), 0, "e2"));
        push(event("u1", item(3), 10, "e3"));
        assertThat(output()).extracting(Recommendation::seq).containsExactly(1L, 1L, 2L);

        // One batch: u1 moves on, u2's event is one the model fails on, u1 again.
        push(event("u1", item(4), 20, "e4"));
        push(event("u2", item(marked), 20, "e5"));
        push(event("u1", item(5), 30, "e6"));

        // Retried one by one: u1's events are applied once each (not "duplicate_event_id", which
        // they would be had the failed attempt already remembered their ids), u2's failed event
        // left no trace in its state.
        assertThat(deadLetters())
                .extracting(DeadLetter::reason)
                .containsExactly(DeadLetterReason.INFERENCE_FAILED);
        assertThat(output())
                .extracting(r -> r.eventId() + "/" + r.seq())
                .containsExactly("e1/1", "e2/1", "e3/2", "e4/3", "e6/4");
        Recommendation e6 = output().get(4);
        assertThat(e6.itemIds()).doesNotContain(item(1), item(3), item(4), item(5));

        // u2's next event follows e2 directly: seq 2, and the marked item is not in its history
        // (so the model does not fail on it and may even recommend it).
        push(event("u2", item(6), 40, "e7"));
        harness.prepareSnapshotPreBarrier(1);
        Recommendation e7 = output().get(5);
        assertThat(e7.eventId()).isEqualTo("e7");
        assertThat(e7.seq()).isEqualTo(2);
        assertThat(e7.itemIds()).doesNotContain(item(2), item(6));

        // The same holds after a snapshot and restore.
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();
        open(options(1, 60_000, true), snapshot);
        push(event("u1", item(4), 20, "e4")); // redelivered after the restore
        push(event("u1", item(8), 50, "e8"));
        assertThat(deadLetters())
                .extracting(DeadLetter::reason)
                .containsExactly(DeadLetterReason.DUPLICATE_EVENT_ID);
        assertThat(output()).extracting(r -> r.eventId() + "/" + r.seq()).containsExactly("e8/5");
    }

    private static RecommendOptions fromRegistry(String uri, long pollMs) {
        return options(1, 1000, true).withModel(TestPaths.defaultModel().toString(), uri, pollMs);
    }

    /** The model version that answers the next event of {@code user}. */
    private String versionAnswering(String user, int n) throws Exception {
        push(event(user, item(1 + n % 50), 1_000L * n, user + "-" + n));
        List<Recommendation> out = output();
        return out.get(out.size() - 1).modelVersion();
    }

    @Test
    void swapsToTheRegistrysNewVersionAndARestoreServesTheCheckpointedOne(@TempDir Path tmp)
            throws Exception {
        ModelRegistry registry = ModelRegistry.open(tmp.resolve("registry").toString());
        registry.publish(TestArtifacts.defaultModelAs(tmp.resolve("a"), "swap-v1"), "v1");
        registry.publish(TestArtifacts.defaultModelAs(tmp.resolve("b"), "swap-v2"), "v2");

        open(fromRegistry(tmp.resolve("registry").toString(), 100), null);
        assertThat(versionAnswering("u1", 1)).isEqualTo("swap-v1");

        registry.canary("v2", 100);
        registry.promote();
        // The poller loads v2 off the task thread; the operator switches between two batches.
        int n = 2;
        long deadline = System.currentTimeMillis() + 30_000;
        while (!versionAnswering("u1", n++).equals("swap-v2")) {
            assertThat(System.currentTimeMillis()).as("switched to v2").isLessThan(deadline);
            Thread.sleep(100);
        }
        long seqBefore = output().get(output().size() - 1).seq();
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        // The registry moves back to v1; a restore still serves what the checkpoint served
        // (polling only every hour here), with the user's history and seq carried on.
        registry.rollback();
        assertThat(registry.pointer().stable()).isEqualTo("v1");
        open(fromRegistry(tmp.resolve("registry").toString(), 3_600_000), snapshot);
        Recommendation restored = lastRecommendationFor("u1", n);
        assertThat(restored.modelVersion()).isEqualTo("swap-v2");
        assertThat(restored.seq()).isEqualTo(seqBefore + 1);
        harness.close();

        // Without a checkpoint, a new operator serves the registry's stable version.
        open(fromRegistry(tmp.resolve("registry").toString(), 3_600_000), null);
        assertThat(versionAnswering("u2", 1)).isEqualTo("swap-v1");
    }

    private Recommendation lastRecommendationFor(String user, int n) throws Exception {
        push(event(user, item(1 + n % 50), 1_000L * n, user + "-" + n));
        List<Recommendation> out = output();
        return out.get(out.size() - 1);
    }
}
