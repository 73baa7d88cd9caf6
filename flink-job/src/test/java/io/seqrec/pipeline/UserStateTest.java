package io.seqrec.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.pipeline.UserState.Applied;
import org.junit.jupiter.api.Test;

class UserStateTest {
    private static final long LATENESS = 1000;

    /** A user's state as the operator keeps it: every event replaces the value. */
    private static final class User {
        UserState state = new UserState();
    }

    private static Applied apply(User s, String id, int item, long ts, int maxLen) {
        UserState.Transition t = s.state.apply(id, item, ts, LATENESS, maxLen, 4);
        s.state = t.state();
        return t.outcome();
    }

    @Test
    void neverChangesAValueInPlace() {
        User s = new User();
        for (int i = 1; i <= 6; i++) {
            apply(s, "e" + i, i, 100 * i, 5);
        }
        UserState before = s.state;
        int[] items = before.items.clone();
        long[] times = before.times.clone();
        long[] ring = before.recentEventHashes.clone();
        long newest = before.newestTs;

        UserState.Transition appended = before.apply("e7", 7, 700, LATENESS, 5, 4);
        UserState.Transition unknown = before.apply("e8", 0, 800, LATENESS, 5, 4);
        UserState after = appended.state().recommended(new int[] {9, 8});

        assertThat(appended.outcome()).isEqualTo(Applied.APPENDED);
        assertThat(unknown.outcome()).isEqualTo(Applied.UNCHANGED);
        assertThat(after.seq).isEqualTo(before.seq + 1);
        assertThat(after.items).containsExactly(3, 4, 5, 6, 7);
        // the value read from state, and every array it holds, are as they were
        assertThat(before.items).isEqualTo(items);
        assertThat(before.times).isEqualTo(times);
        assertThat(before.recentEventHashes).isEqualTo(ring);
        assertThat(before.newestTs).isEqualTo(newest);
        assertThat(before.lastTopK).isNull();
        assertThat(before.seq).isZero();
    }

    @Test
    void keepsOnlyTheLastMaxLenItems() {
        User s = new User();
        for (int i = 1; i <= 7; i++) {
            assertThat(apply(s, "e" + i, i, i, 5)).isEqualTo(Applied.APPENDED);
        }
        assertThat(s.state.items).containsExactly(3, 4, 5, 6, 7);
        assertThat(s.state.times).containsExactly(3, 4, 5, 6, 7);
    }

    @Test
    void insertsOutOfOrderEventInTimeOrder() {
        User s = new User();
        apply(s, "a", 1, 100, 10);
        apply(s, "b", 3, 300, 10);
        assertThat(apply(s, "c", 2, 200, 10)).isEqualTo(Applied.APPENDED);
        assertThat(s.state.items).containsExactly(1, 2, 3);
        assertThat(s.state.newestTs).isEqualTo(300);
    }

    @Test
    void equalTimestampsKeepArrivalOrder() {
        User s = new User();
        apply(s, "a", 1, 100, 10);
        apply(s, "b", 2, 100, 10);
        apply(s, "c", 3, 100, 10);
        assertThat(s.state.items).containsExactly(1, 2, 3);
    }

    @Test
    void rejectsEventsOlderThanAllowedLateness() {
        User s = new User();
        apply(s, "a", 1, 5000, 10);
        assertThat(apply(s, "b", 2, 3999, 10)).isEqualTo(Applied.LATE);
        assertThat(apply(s, "c", 2, 4000, 10)).isEqualTo(Applied.APPENDED);
        assertThat(s.state.items).containsExactly(2, 1);
    }

    @Test
    void collapsesRepeatsOfNeighbouringItem() {
        User s = new User();
        apply(s, "view", 1, 100, 10);
        assertThat(apply(s, "click", 1, 110, 10)).isEqualTo(Applied.UNCHANGED);
        apply(s, "next", 2, 300, 10);
        // a late repeat of item 2 lands next to item 2: still one step
        assertThat(apply(s, "late-2", 2, 250, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.state.items).containsExactly(1, 2);
    }

    @Test
    void appliesRedeliveredEventIdOnce() {
        User s = new User();
        apply(s, "e1", 1, 100, 10);
        assertThat(apply(s, "e1", 1, 100, 10)).isEqualTo(Applied.DUPLICATE);
        assertThat(s.state.items).containsExactly(1);
    }

    @Test
    void dedupeWindowIsBounded() {
        User s = new User();
        for (int i = 0; i < 6; i++) {
            apply(s, "e" + i, i + 1, 100 + i, 10);
        }
        assertThat(s.state.recentEventHashes)
                .hasSize(4)
                .contains(
                        UserState.eventIdHash("e5"),
                        UserState.eventIdHash("e4"),
                        UserState.eventIdHash("e3"),
                        UserState.eventIdHash("e2"));
        // e0 fell out of the window of 4: a redelivery now counts as new
        assertThat(apply(s, "e0", 9, 200, 10)).isEqualTo(Applied.APPENDED);
    }

    @Test
    void eventIdHashesDifferForSimilarIds() {
        java.util.Set<Long> hashes = new java.util.HashSet<>();
        for (int i = 0; i < 200_000; i++) {
            hashes.add(UserState.eventIdHash("e" + i));
            hashes.add(UserState.eventIdHash("user-7:" + i));
        }
        assertThat(hashes).hasSize(400_000).doesNotContain(0L);
    }

    @Test
    void unknownItemIsAcceptedWithoutChangingTheSequence() {
        User s = new User();
        apply(s, "a", 1, 100, 10);
        assertThat(apply(s, "b", 0, 200, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.state.items).containsExactly(1);
        assertThat(s.state.newestTs).isEqualTo(200);
    }

    @Test
    void eventOlderThanAFullWindowDoesNotEnter() {
        User s = new User();
        apply(s, "a", 1, 500, 2);
        apply(s, "b", 2, 600, 2);
        assertThat(apply(s, "c", 3, 400, 2)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.state.items).containsExactly(1, 2);
    }
}
