package io.seqrec.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestModels;
import io.seqrec.TestPaths;
import io.seqrec.event.EventType;
import io.seqrec.event.StableHash;
import io.seqrec.model.ModelArtifact;
import io.seqrec.pipeline.UserState.Applied;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserStateTest {
    private static final long LATENESS = 1000;

    private static ModelArtifact model;

    @BeforeAll
    static void loadModel() {
        model = ModelArtifact.load(TestPaths.defaultModel());
    }

    /** A user's state as the operator keeps it: every event replaces the value. */
    private static final class User {
        UserState state = new UserState();
    }

    private static UserState.Limits limits(int maxHistory) {
        return new UserState.Limits(LATENESS, maxHistory, 4);
    }

    private static Applied apply(User s, String id, String item, long ts, int maxHistory) {
        return apply(s, id, item, EventType.VIEW, ts, maxHistory);
    }

    private static Applied apply(
            User s, String id, String item, EventType type, long ts, int maxHistory) {
        UserState.Transition t =
                s.state.apply(id, StableHash.of(item), type, ts, limits(maxHistory));
        s.state = t.state();
        return t.outcome();
    }

    /** The keys of items {@code "i" + n}. */
    private static long[] keys(int... items) {
        return IntStream.of(items).mapToLong(n -> StableHash.of("i" + n)).toArray();
    }

    @Test
    void neverChangesAValueInPlace() {
        User s = new User();
        for (int i = 1; i <= 6; i++) {
            apply(s, "e" + i, "i" + i, 100 * i, 5);
        }
        UserState before = s.state;
        long[] itemKeys = before.itemKeys.clone();
        byte[] types = before.itemTypes.clone();
        long[] times = before.itemTimes.clone();
        long[] ring = before.recentEventHashes.clone();
        long newest = before.newestTs;

        UserState.Transition appended =
                before.apply("e7", keys(7)[0], EventType.CART, 700, limits(5));
        UserState.Transition repeat =
                before.apply("e8", keys(6)[0], EventType.VIEW, 800, limits(5));
        UserState after = appended.state().recommended(keys(9, 8));

        assertThat(appended.outcome()).isEqualTo(Applied.APPENDED);
        assertThat(repeat.outcome()).isEqualTo(Applied.UNCHANGED);
        assertThat(after.seq).isEqualTo(before.seq + 1);
        assertThat(after.itemKeys).containsExactly(keys(3, 4, 5, 6, 7));
        assertThat(after.lastTopKeys).containsExactly(keys(9, 8));
        // the value read from state, and every array it holds, are as they were
        assertThat(before.itemKeys).isEqualTo(itemKeys);
        assertThat(before.itemTypes).isEqualTo(types);
        assertThat(before.itemTimes).isEqualTo(times);
        assertThat(before.recentEventHashes).isEqualTo(ring);
        assertThat(before.newestTs).isEqualTo(newest);
        assertThat(before.lastTopKeys).isNull();
        assertThat(before.seq).isZero();
    }

    @Test
    void keepsEachStepsItemKeyTypeAndTime() {
        User s = new User();
        apply(s, "a", "i1", EventType.VIEW, 100, 10);
        apply(s, "b", "i2", EventType.CART, 200, 10);
        apply(s, "c", "i3", EventType.PURCHASE, 300, 10);
        assertThat(s.state.itemKeys).containsExactly(keys(1, 2, 3));
        assertThat(s.state.itemTypes)
                .containsExactly(
                        (byte) EventType.VIEW.ordinal(),
                        (byte) EventType.CART.ordinal(),
                        (byte) EventType.PURCHASE.ordinal());
        assertThat(s.state.itemTimes).containsExactly(100, 200, 300);
    }

    @Test
    void keepsOnlyTheLastMaxHistorySteps() {
        User s = new User();
        for (int i = 1; i <= 7; i++) {
            assertThat(apply(s, "e" + i, "i" + i, i, 5)).isEqualTo(Applied.APPENDED);
        }
        assertThat(s.state.itemKeys).containsExactly(keys(3, 4, 5, 6, 7));
        assertThat(s.state.itemTimes).containsExactly(3, 4, 5, 6, 7);
        assertThat(s.state.itemTypes).hasSize(5);
    }

    @Test
    void aLowerCapAfterARestoreDropsTheOldestStepsAtTheNextStep() {
        User s = new User();
        for (int i = 1; i <= 6; i++) {
            apply(s, "e" + i, "i" + i, i, 10);
        }
        assertThat(apply(s, "e7", "i7", 7, 3)).isEqualTo(Applied.APPENDED);
        assertThat(s.state.itemKeys).containsExactly(keys(5, 6, 7));
        assertThat(s.state.itemTimes).containsExactly(5, 6, 7);
        assertThat(s.state.itemTypes).hasSize(3);
    }

    @Test
    void insertsOutOfOrderEventInTimeOrder() {
        User s = new User();
        apply(s, "a", "i1", EventType.VIEW, 100, 10);
        apply(s, "b", "i3", EventType.CLICK, 300, 10);
        assertThat(apply(s, "c", "i2", EventType.CART, 200, 10)).isEqualTo(Applied.APPENDED);
        assertThat(s.state.itemKeys).containsExactly(keys(1, 2, 3));
        assertThat(s.state.itemTimes).containsExactly(100, 200, 300);
        assertThat(s.state.itemTypes)
                .containsExactly(
                        (byte) EventType.VIEW.ordinal(),
                        (byte) EventType.CART.ordinal(),
                        (byte) EventType.CLICK.ordinal());
        assertThat(s.state.newestTs).isEqualTo(300);
    }

    @Test
    void equalTimestampsKeepArrivalOrder() {
        User s = new User();
        apply(s, "a", "i1", 100, 10);
        apply(s, "b", "i2", 100, 10);
        apply(s, "c", "i3", 100, 10);
        assertThat(s.state.itemKeys).containsExactly(keys(1, 2, 3));
    }

    @Test
    void rejectsEventsOlderThanAllowedLateness() {
        User s = new User();
        apply(s, "a", "i1", 5000, 10);
        assertThat(apply(s, "b", "i2", 3999, 10)).isEqualTo(Applied.LATE);
        assertThat(apply(s, "c", "i2", 4000, 10)).isEqualTo(Applied.APPENDED);
        assertThat(s.state.itemKeys).containsExactly(keys(2, 1));
    }

    @Test
    void collapsesRepeatsOfNeighbouringItemKeepingTheFirstType() {
        User s = new User();
        apply(s, "view", "i1", EventType.VIEW, 100, 10);
        assertThat(apply(s, "cart", "i1", EventType.CART, 110, 10)).isEqualTo(Applied.UNCHANGED);
        apply(s, "next", "i2", 300, 10);
        // a late repeat of item 2 lands next to item 2: still one step
        assertThat(apply(s, "late-2", "i2", 250, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.state.itemKeys).containsExactly(keys(1, 2));
        assertThat(s.state.itemTypes[0]).isEqualTo((byte) EventType.VIEW.ordinal());
        assertThat(s.state.itemTimes).containsExactly(100, 300);
    }

    @Test
    void appliesRedeliveredEventIdOnce() {
        User s = new User();
        apply(s, "e1", "i1", 100, 10);
        assertThat(apply(s, "e1", "i1", 100, 10)).isEqualTo(Applied.DUPLICATE);
        assertThat(s.state.itemKeys).containsExactly(keys(1));
    }

    @Test
    void dedupeWindowIsBounded() {
        User s = new User();
        for (int i = 0; i < 6; i++) {
            apply(s, "e" + i, "i" + (i + 1), 100 + i, 10);
        }
        assertThat(s.state.recentEventHashes)
                .hasSize(4)
                .contains(
                        StableHash.of("e5"),
                        StableHash.of("e4"),
                        StableHash.of("e3"),
                        StableHash.of("e2"));
        // e0 fell out of the window of 4: a redelivery now counts as new
        assertThat(apply(s, "e0", "i9", 200, 10)).isEqualTo(Applied.APPENDED);
    }

    @Test
    void eventOlderThanAFullHistoryDoesNotEnter() {
        User s = new User();
        apply(s, "a", "i1", 500, 2);
        apply(s, "b", "i2", 600, 2);
        assertThat(apply(s, "c", "i3", 400, 2)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.state.itemKeys).containsExactly(keys(1, 2));
        assertThat(s.state.newestTs).isEqualTo(600);
    }

    /**
     * What a user costs in state (docs/BENCHMARKS.md, "Model-independent state: cost"): with a full
     * dedupe ring of 32 and a top-10, 390 bytes and 17 a step (key 8, type 1, time 8).
     */
    @Test
    void serializedSizeIsAFixedPartAnd17BytesAStep() throws Exception {
        TypeSerializer<UserState> serializer =
                TypeInformation.of(UserState.class).createSerializer(new SerializerConfigImpl());
        assertThat(serializer).isInstanceOf(PojoSerializer.class);
        UserState.Limits limits = new UserState.Limits(LATENESS, 200, 32);
        for (int steps : new int[] {1, 50, 200}) {
            UserState s = new UserState();
            for (int i = 1; i <= steps + 32; i++) { // the last 32 repeat the newest item
                String item = "i" + Math.min(i, steps);
                s = s.apply("e" + i, StableHash.of(item), EventType.VIEW, i, limits).state();
            }
            s = s.recommended(keys(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
            assertThat(s.itemKeys).hasSize(steps);
            assertThat(s.recentEventHashes).hasSize(32).doesNotContain(0L);
            DataOutputSerializer out = new DataOutputSerializer(4096);
            serializer.serialize(s, out);
            assertThat(out.length()).as("%d steps", steps).isEqualTo(390 + 17 * steps);
        }
    }

    @Test
    void rowIsTheLastMaxLenItemsTheModelKnowsOldestFirst() {
        User s = new User();
        List<Integer> known = new ArrayList<>();
        for (int i = 1; i <= 60; i++) {
            apply(s, "e" + i, model.itemId(i), 10 * i, 200);
            known.add(i);
            if (i % 10 == 0) {
                apply(s, "u" + i, "not-in-any-catalog-" + i, 10 * i + 1, 200);
            }
        }
        assertThat(s.state.itemKeys).hasSize(66); // unknown items stay in the history
        assertThat(model.maxLen()).isEqualTo(50);
        assertThat(s.state.row(model))
                .containsExactly(known.subList(10, 60).stream().mapToInt(i -> i).toArray());
    }

    @Test
    void rowOfAHistoryNoItemOfWhichTheModelKnowsIsEmpty() {
        User s = new User();
        apply(s, "a", "not-in-any-catalog", 100, 200);
        assertThat(s.state.itemKeys).hasSize(1);
        assertThat(s.state.row(model)).isEmpty();
        assertThat(new UserState().row(model)).isEmpty();
    }

    @Test
    void aModelWithAnotherVocabularyReadsTheSameHistory(@TempDir Path tmp) throws Exception {
        // The other model renames the first three items and lists its items in reverse order.
        ModelArtifact other =
                ModelArtifact.load(
                        TestModels.withItems(
                                tmp.resolve("other"),
                                items -> {
                                    for (int i = 0; i < 3; i++) {
                                        items.set(i, "new-" + i);
                                    }
                                    Collections.reverse(items);
                                    return items;
                                }));
        User s = new User();
        apply(s, "a", model.itemId(1), 100, 200);
        apply(s, "b", "new-0", 200, 200);
        apply(s, "c", model.itemId(5), 300, 200);

        assertThat(model.indexOf("new-0")).isZero();
        assertThat(other.indexOf(model.itemId(1))).isZero();
        assertThat(s.state.row(model)).containsExactly(1, 5);
        assertThat(s.state.row(other))
                .containsExactly(other.indexOf("new-0"), other.indexOf(model.itemId(5)))
                .doesNotContain(0, 5);
    }
}
