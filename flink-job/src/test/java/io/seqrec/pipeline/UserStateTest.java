package io.seqrec.pipeline;

import static io.seqrec.pipeline.Events.ordinals;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
        // no new step; the step's strongest type went up (strongestTypeOfARun... below)
        assertThat(apply(s, "cart", "i1", EventType.CART, 110, 10)).isEqualTo(Applied.UPGRADED);
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
    void eventsBeyondTheRateLimitOfAnEventTimeSecondLeaveTheStateAsItWas() {
        UserState.Limits limits = new UserState.Limits(LATENESS, 200, 4, 3);
        UserState s = new UserState();
        List<Applied> outcomes = new ArrayList<>();
        // five events in second 10 (ts 10_000..10_400), then one in second 11
        for (int i = 0; i < 6; i++) {
            long ts = i < 5 ? 10_000 + 100 * i : 11_000;
            UserState.Transition t = s.apply("e" + i, keys(i)[0], EventType.VIEW, ts, limits);
            if (t.outcome() == Applied.RATE_LIMITED) {
                assertThat(t.state()).as("a rate-limited event writes nothing").isSameAs(s);
            }
            s = t.state();
            outcomes.add(t.outcome());
        }
        assertThat(outcomes)
                .containsExactly(
                        Applied.APPENDED,
                        Applied.APPENDED,
                        Applied.APPENDED,
                        Applied.RATE_LIMITED,
                        Applied.RATE_LIMITED,
                        Applied.APPENDED);
        assertThat(s.itemKeys).containsExactly(keys(0, 1, 2, 5));
        assertThat(s.recentEventHashes).doesNotContain(StableHash.of("e3"), StableHash.of("e4"));
        assertThat(s.rateSecond).isEqualTo(11);
        assertThat(s.rateCount).isEqualTo(1);
        // Back-dated into second 10 (within the lateness): counted against second 11, the newest.
        for (int i = 6; i < 8; i++) {
            s = s.apply("e" + i, keys(i)[0], EventType.VIEW, 10_900, limits).state();
        }
        assertThat(s.rateCount).isEqualTo(3);
        assertThat(s.apply("e8", keys(8)[0], EventType.VIEW, 10_950, limits).outcome())
                .isEqualTo(Applied.RATE_LIMITED);
        // Off (0): nothing is counted.
        UserState unlimited =
                new UserState().apply("x", keys(1)[0], EventType.VIEW, 10_000, limits(10)).state();
        assertThat(unlimited.rateSecond).isZero();
        assertThat(unlimited.rateCount).isZero();
    }

    /**
     * A flood (a bot: 10,000 events, every one a new item, all in one millisecond) costs no more
     * state than a user with a full history: {@code --max-history} steps and a {@code
     * --dedupe-window} ring.
     */
    @Test
    void aFloodingUsersStateStaysAtItsBounds() throws Exception {
        TypeSerializer<UserState> serializer =
                TypeInformation.of(UserState.class).createSerializer(new SerializerConfigImpl());
        UserState.Limits limits = new UserState.Limits(LATENESS, 200, 32);
        UserState s = new UserState();
        int[] sizes = new int[2];
        for (int i = 1; i <= 10_000; i++) {
            s = s.apply("e" + i, StableHash.of("i" + i), EventType.VIEW, 5_000, limits).state();
            if (i == 200 || i == 10_000) {
                DataOutputSerializer out = new DataOutputSerializer(8192);
                serializer.serialize(s, out);
                sizes[i == 200 ? 0 : 1] = out.length();
            }
        }
        assertThat(s.itemKeys).hasSize(200);
        assertThat(s.recentEventHashes).hasSize(32);
        assertThat(sizes[1]).isEqualTo(sizes[0]);
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
     * dedupe ring of 32 and a top-10, 409 bytes (with the newest step's check and the rate limit's
     * second and count, 14 bytes with their null flags, there whether the limit is on or not) and
     * 18 a step (key 8, first type 1, strongest type 1, time 8).
     */
    @Test
    void serializedSizeIsAFixedPartAnd18BytesAStep() throws Exception {
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
            assertThat(out.length()).as("%d steps", steps).isEqualTo(409 + 18 * steps);
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

    @Test
    void strongestTypeOfARunGoesUpAndTheFirstTypeStays() {
        User s = new User();
        assertThat(apply(s, "a", "i1", EventType.VIEW, 100, 10)).isEqualTo(Applied.APPENDED);
        assertThat(apply(s, "b", "i1", EventType.CLICK, 110, 10)).isEqualTo(Applied.UPGRADED);
        assertThat(apply(s, "c", "i1", EventType.VIEW, 120, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(apply(s, "d", "i1", EventType.CLICK, 130, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(apply(s, "e", "i1", EventType.PURCHASE, 140, 10)).isEqualTo(Applied.UPGRADED);
        assertThat(apply(s, "f", "i1", EventType.CART, 150, 10)).isEqualTo(Applied.UNCHANGED);
        // a rating ranks with a purchase: not stronger
        assertThat(apply(s, "g", "i1", EventType.RATE, 160, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(apply(s, "h", "i2", EventType.CART, 200, 10)).isEqualTo(Applied.APPENDED);

        assertThat(s.state.itemKeys).containsExactly(keys(1, 2));
        assertThat(s.state.itemTimes).containsExactly(100, 200);
        assertThat(s.state.itemTypes).containsExactly(ordinals(EventType.VIEW, EventType.CART));
        assertThat(s.state.itemStrongestTypes)
                .containsExactly(ordinals(EventType.PURCHASE, EventType.CART));
    }

    @Test
    void anUpgradeNeverChangesAValueInPlace() {
        User s = new User();
        apply(s, "a", "i1", EventType.VIEW, 100, 10);
        apply(s, "b", "i2", EventType.VIEW, 200, 10);
        UserState before = s.state;
        byte[] types = before.itemTypes.clone();
        byte[] strongest = before.itemStrongestTypes.clone();
        long[] ring = before.recentEventHashes.clone();

        UserState.Transition upgraded =
                before.apply("c", keys(2)[0], EventType.CART, 300, limits(10));

        assertThat(upgraded.outcome()).isEqualTo(Applied.UPGRADED);
        assertThat(upgraded.state()).isNotSameAs(before);
        assertThat(upgraded.state().itemStrongestTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.CART));
        assertThat(upgraded.state().newestTs).isEqualTo(300);
        assertThat(upgraded.state().recentEventHashes).contains(StableHash.of("c"));
        assertThat(before.itemTypes).isEqualTo(types);
        assertThat(before.itemStrongestTypes).isEqualTo(strongest);
        assertThat(before.recentEventHashes).isEqualTo(ring);
        assertThat(before.newestTs).isEqualTo(200);
    }

    @Test
    void aLateRepeatUpgradesTheStepItLandsNextTo() {
        User s = new User();
        apply(s, "a", "i1", EventType.VIEW, 100, 10);
        apply(s, "b", "i2", EventType.VIEW, 300, 10);
        // at 250, between item 1 and item 2: a repeat of the later neighbour
        assertThat(apply(s, "c", "i2", EventType.CART, 250, 10)).isEqualTo(Applied.UPGRADED);
        // at 150, between item 1 and item 2: a repeat of the earlier neighbour
        assertThat(apply(s, "d", "i1", EventType.CLICK, 150, 10)).isEqualTo(Applied.UPGRADED);
        assertThat(s.state.itemKeys).containsExactly(keys(1, 2));
        assertThat(s.state.itemTimes).containsExactly(100, 300);
        assertThat(s.state.itemTypes).containsExactly(ordinals(EventType.VIEW, EventType.VIEW));
        assertThat(s.state.itemStrongestTypes)
                .containsExactly(ordinals(EventType.CLICK, EventType.CART));
    }

    @Test
    void strongestTypesStayAlignedThroughInsertionsAndTheCap() {
        User s = new User();
        apply(s, "a", "i1", EventType.VIEW, 100, 3);
        apply(s, "b", "i1", EventType.PURCHASE, 110, 3);
        apply(s, "c", "i3", EventType.CLICK, 300, 3);
        apply(s, "d", "i2", EventType.VIEW, 200, 3); // out of order: between 1 and 3
        apply(s, "e", "i2", EventType.CART, 210, 3);
        apply(s, "f", "i4", EventType.VIEW, 400, 3); // the cap drops item 1
        assertThat(s.state.itemKeys).containsExactly(keys(2, 3, 4));
        assertThat(s.state.itemTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.CLICK, EventType.VIEW));
        assertThat(s.state.itemStrongestTypes)
                .containsExactly(ordinals(EventType.CART, EventType.CLICK, EventType.VIEW));
        // a lower cap after a restore drops the oldest of both arrays alike
        apply(s, "g", "i5", EventType.RATE, 500, 2);
        assertThat(s.state.itemKeys).containsExactly(keys(4, 5));
        assertThat(s.state.itemStrongestTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.RATE));
    }

    /**
     * A user as a savepoint from before the strongest types restores (Flink's POJO serializer
     * starts the new field empty): the first types stand for the strongest, and the next upgrade or
     * step makes the full array from them.
     */
    private static UserState withoutStrongestTypes() {
        User s = new User();
        apply(s, "a", "i1", EventType.VIEW, 100, 10);
        apply(s, "b", "i2", EventType.CLICK, 200, 10);
        apply(s, "c", "i3", EventType.VIEW, 300, 10);
        s.state.itemStrongestTypes = new byte[0]; // a value never read by another holder
        return s.state;
    }

    @Test
    void aStateWithoutStrongestTypesTakesEachStepsFirstTypeForItsStrongest() {
        UserState old = withoutStrongestTypes();
        assertThat(old.typeOf(1, ModelArtifact.RepeatRule.STRONGEST)).isEqualTo(EventType.CLICK);
        assertThat(old.typeOf(1, ModelArtifact.RepeatRule.FIRST)).isEqualTo(EventType.CLICK);

        UserState.Transition repeat = old.apply("d", keys(3)[0], EventType.VIEW, 310, limits(10));
        assertThat(repeat.outcome()).isEqualTo(Applied.UNCHANGED);
        UserState.Transition upgraded = old.apply("e", keys(3)[0], EventType.CART, 320, limits(10));
        assertThat(upgraded.outcome()).isEqualTo(Applied.UPGRADED);
        assertThat(upgraded.state().itemStrongestTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.CLICK, EventType.CART));
        UserState.Transition appended =
                old.apply("f", keys(4)[0], EventType.PURCHASE, 400, limits(3));
        assertThat(appended.state().itemKeys).containsExactly(keys(2, 3, 4));
        assertThat(appended.state().itemStrongestTypes)
                .containsExactly(ordinals(EventType.CLICK, EventType.VIEW, EventType.PURCHASE));
        // the old value's arrays were never written: its first types are still its first types
        assertThat(old.itemTypes)
                .containsExactly(ordinals(EventType.VIEW, EventType.CLICK, EventType.VIEW));
        assertThat(old.itemStrongestTypes).isEmpty();
    }

    @Test
    void aModelWithoutBehaviorsGetsNoBehaviorRow() {
        User s = new User();
        apply(s, "a", model.itemId(1), EventType.CART, 100, 10);
        UserState.ModelRow row = s.state.modelRow(model);
        assertThat(row.items()).containsExactly(1);
        assertThat(row.behaviors()).isNull();
    }

    @Test
    void behaviorRowFollowsTheModelsRepeatRuleAndCodesAndLeavesUnknownItemsOut(@TempDir Path tmp)
            throws Exception {
        ModelArtifact strongest = ModelArtifact.load(TestPaths.typedModel());
        assertThat(strongest.repeatRule()).isEqualTo(ModelArtifact.RepeatRule.STRONGEST);
        Path firstDir = TestPaths.copyOfTypedModel(tmp.resolve("first"));
        editSteps(firstDir, steps -> steps.put("repeats", "first"));
        ModelArtifact first = ModelArtifact.load(firstDir);
        // codes come from the metadata, not from the enum's order
        Path shuffledDir = TestPaths.copyOfTypedModel(tmp.resolve("shuffled"));
        editSteps(
                shuffledDir,
                steps ->
                        steps.putObject("behavior_codes")
                                .put("view", 5)
                                .put("click", 4)
                                .put("cart", 3)
                                .put("purchase", 2)
                                .put("rate", 1));
        ModelArtifact shuffled = ModelArtifact.load(shuffledDir);

        User s = new User();
        apply(s, "a", "1", EventType.VIEW, 100, 10);
        apply(s, "b", "1", EventType.CART, 110, 10);
        apply(s, "c", "not-in-any-catalog", EventType.PURCHASE, 200, 10);
        apply(s, "d", "2", EventType.CLICK, 300, 10);
        apply(s, "e", "3", EventType.VIEW, 400, 10);
        apply(s, "f", "3", EventType.PURCHASE, 410, 10);

        int[] items = {strongest.indexOf("1"), strongest.indexOf("2"), strongest.indexOf("3")};
        UserState.ModelRow byStrongest = s.state.modelRow(strongest);
        assertThat(byStrongest.items()).containsExactly(items);
        assertThat(byStrongest.behaviors()).containsExactly(3, 2, 4); // cart, click, purchase
        assertThat(s.state.modelRow(first).behaviors())
                .containsExactly(1, 2, 1); // view, click, view
        assertThat(s.state.modelRow(shuffled).behaviors()).containsExactly(3, 4, 2);
        assertThat(s.state.row(strongest)).containsExactly(items);
    }

    @Test
    void behaviorRowIsTrimmedToMaxLenWithItsItems() {
        ModelArtifact typed = ModelArtifact.load(TestPaths.typedModel());
        User s = new User();
        EventType[] cycle = EventType.values();
        for (int i = 1; i <= 12; i++) {
            apply(s, "e" + i, Integer.toString(i), cycle[i % cycle.length], 100 * i, 200);
        }
        assertThat(typed.maxLen()).isEqualTo(8);
        UserState.ModelRow row = s.state.modelRow(typed);
        assertThat(row.items()).hasSize(8);
        assertThat(row.behaviors()).hasSize(8);
        for (int j = 0; j < 8; j++) {
            int i = 5 + j; // items 5..12
            assertThat(row.items()[j]).isEqualTo(typed.indexOf(Integer.toString(i)));
            assertThat(row.behaviors()[j]).isEqualTo(typed.behaviorCode(cycle[i % cycle.length]));
        }
    }

    private static void editSteps(Path dir, java.util.function.Consumer<ObjectNode> edit)
            throws java.io.IOException {
        ObjectMapper json = new ObjectMapper();
        Path file = dir.resolve(ModelArtifact.METADATA_FILE);
        ObjectNode meta = (ObjectNode) json.readTree(file.toFile());
        edit.accept((ObjectNode) meta.get("steps"));
        json.writeValue(file.toFile(), meta);
    }
}
