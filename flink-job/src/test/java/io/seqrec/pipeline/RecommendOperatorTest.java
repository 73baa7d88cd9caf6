package io.seqrec.pipeline;

import static io.seqrec.pipeline.Events.event;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.config.Device;
import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.DeadLetter;
import io.seqrec.event.DeadLetterReason;
import io.seqrec.event.Recommendation;
import io.seqrec.model.BatchScorer;
import io.seqrec.model.ModelArtifact;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link RecommendOperator} through Flink's keyed operator test harness, with the real model. */
class RecommendOperatorTest {
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
        return new RecommendOptions(
                TestPaths.defaultModel().toString(),
                10,
                excludeSeen,
                batchSize,
                timeoutMs,
                1,
                Device.CPU,
                60_000,
                3_600_000,
                8,
                BatchScorer.Padding.BUCKETED);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, BehaviorEvent, Recommendation> open(
            RecommendOptions options, OperatorSubtaskState restoreFrom) throws Exception {
        harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new RecommendOperator(options), BehaviorEvent::userId, Types.STRING);
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
    void unknownItemStillGetsARecommendation() throws Exception {
        open(options(1, 1000, true), null);
        push(event("u1", "not-in-the-catalog", 0, "e1"));
        assertThat(output()).hasSize(1);
        assertThat(output().get(0).itemIds()).hasSize(10);
    }

    @Test
    void expiredStateIsDroppedAndCleanedUp() throws Exception {
        open(options(1, 1000, true), null);
        harness.setStateTtlProcessingTime(0);
        push(event("u1", item(1), 0, "e1"));
        push(event("u2", item(1), 0, "e2"));
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);

        harness.setStateTtlProcessingTime(3_600_001);
        push(event("u1", item(2), 10, "e3"));
        Recommendation afterExpiry = output().get(2);
        // u1 starts over: its old sequence is gone, and seq counts from 1 again
        assertThat(afterExpiry.seq()).isEqualTo(1);
        push(event("u3", item(3), 20, "e4"));
        push(event("u4", item(4), 30, "e5"));
        // incremental cleanup runs as records pass: u2's expired entry is removed, not just hidden
        assertThat(harness.numKeyedStateEntries()).isEqualTo(3);
    }
}
