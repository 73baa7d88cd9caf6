package io.seqrec.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.pipeline.UserState.Applied;
import org.junit.jupiter.api.Test;

class UserStateTest {
    private static final long LATENESS = 1000;

    private static Applied apply(UserState s, String id, int item, long ts, int maxLen) {
        return s.apply(id, item, ts, LATENESS, maxLen, 4);
    }

    @Test
    void keepsOnlyTheLastMaxLenItems() {
        UserState s = new UserState();
        for (int i = 1; i <= 7; i++) {
            assertThat(apply(s, "e" + i, i, i, 5)).isEqualTo(Applied.APPENDED);
        }
        assertThat(s.items).containsExactly(3, 4, 5, 6, 7);
        assertThat(s.times).containsExactly(3, 4, 5, 6, 7);
    }

    @Test
    void insertsOutOfOrderEventInTimeOrder() {
        UserState s = new UserState();
        apply(s, "a", 1, 100, 10);
        apply(s, "b", 3, 300, 10);
        assertThat(apply(s, "c", 2, 200, 10)).isEqualTo(Applied.APPENDED);
        assertThat(s.items).containsExactly(1, 2, 3);
        assertThat(s.newestTs).isEqualTo(300);
    }

    @Test
    void equalTimestampsKeepArrivalOrder() {
        UserState s = new UserState();
        apply(s, "a", 1, 100, 10);
        apply(s, "b", 2, 100, 10);
        apply(s, "c", 3, 100, 10);
        assertThat(s.items).containsExactly(1, 2, 3);
    }

    @Test
    void rejectsEventsOlderThanAllowedLateness() {
        UserState s = new UserState();
        apply(s, "a", 1, 5000, 10);
        assertThat(apply(s, "b", 2, 3999, 10)).isEqualTo(Applied.LATE);
        assertThat(apply(s, "c", 2, 4000, 10)).isEqualTo(Applied.APPENDED);
        assertThat(s.items).containsExactly(2, 1);
    }

    @Test
    void collapsesRepeatsOfNeighbouringItem() {
        UserState s = new UserState();
        apply(s, "view", 1, 100, 10);
        assertThat(apply(s, "click", 1, 110, 10)).isEqualTo(Applied.UNCHANGED);
        apply(s, "next", 2, 300, 10);
        // a late repeat of item 2 lands next to item 2: still one step
        assertThat(apply(s, "late-2", 2, 250, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.items).containsExactly(1, 2);
    }

    @Test
    void appliesRedeliveredEventIdOnce() {
        UserState s = new UserState();
        apply(s, "e1", 1, 100, 10);
        assertThat(apply(s, "e1", 1, 100, 10)).isEqualTo(Applied.DUPLICATE);
        assertThat(s.items).containsExactly(1);
    }

    @Test
    void dedupeWindowIsBounded() {
        UserState s = new UserState();
        for (int i = 0; i < 6; i++) {
            apply(s, "e" + i, i + 1, 100 + i, 10);
        }
        assertThat(s.recentEventHashes)
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
        UserState s = new UserState();
        apply(s, "a", 1, 100, 10);
        assertThat(apply(s, "b", 0, 200, 10)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.items).containsExactly(1);
        assertThat(s.newestTs).isEqualTo(200);
    }

    @Test
    void eventOlderThanAFullWindowDoesNotEnter() {
        UserState s = new UserState();
        apply(s, "a", 1, 500, 2);
        apply(s, "b", 2, 600, 2);
        assertThat(apply(s, "c", 3, 400, 2)).isEqualTo(Applied.UNCHANGED);
        assertThat(s.items).containsExactly(1, 2);
    }
}
