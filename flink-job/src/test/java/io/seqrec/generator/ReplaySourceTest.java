package io.seqrec.generator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ReplaySourceTest {
    /** 400 users with 10..199 items each ("u7" has items "u7:0", "u7:1", ...). */
    private static List<ReplaySource.UserSequence> users() {
        List<ReplaySource.UserSequence> users = new ArrayList<>();
        for (int u = 0; u < 400; u++) {
            int n = 10 + (u * 37) % 190;
            String id = "u" + u;
            users.add(
                    new ReplaySource.UserSequence(
                            id, IntStream.range(0, n).mapToObj(i -> id + ":" + i).toList()));
        }
        return users;
    }

    @Test
    void staggeredKeepsEachUsersOrderAndCap() {
        List<ReplaySource.Interaction> out = ReplaySource.staggered(users(), 50, 100, 20_000, 7);
        assertThat(out).hasSize(20_000);
        Map<String, Integer> next = new HashMap<>();
        for (ReplaySource.Interaction i : out) {
            int expected = next.getOrDefault(i.userId(), 0);
            assertThat(i.ordinal()).isEqualTo(expected).isLessThan(100);
            assertThat(i.itemId()).isEqualTo(i.userId() + ":" + expected);
            next.put(i.userId(), expected + 1);
        }
    }

    @Test
    void staggeredLengthMixDoesNotDriftThroughTheRun() {
        List<ReplaySource.Interaction> out = ReplaySource.staggered(users(), 50, 100, 20_000, 7);
        // the sequence length a user has reached (ordinal) averaged per fifth of the run: every
        // sequence starts empty, so the first fifth is a ramp; after it the mix holds
        double[] mean = new double[5];
        for (int k = 0; k < out.size(); k++) {
            mean[k * 5 / out.size()] += out.get(k).ordinal() / (out.size() / 5.0);
        }
        for (int fifth = 1; fifth < 5; fifth++) {
            assertThat(mean[fifth]).isBetween(0.85 * mean[4], 1.15 * mean[4]);
        }
        assertThat(mean[0]).isLessThan(mean[4]);
        // with plain round-robin over as many users the same run only ever grows
        List<ReplaySource.Interaction> rr =
                ReplaySource.interleave(users().subList(0, 200), 20_000);
        assertThat(rr.get(rr.size() - 1).ordinal()).isGreaterThan(2 * (int) mean[4]);
    }

    @Test
    void staggeredRecyclesUsersUnderNewIdsWhenTheFileRunsOut() {
        List<ReplaySource.UserSequence> few = users().subList(0, 3);
        int total = few.stream().mapToInt(u -> Math.min(100, u.items().size())).sum();
        List<ReplaySource.Interaction> out = ReplaySource.staggered(few, 2, 100, 3 * total, 1);
        assertThat(out).hasSize(3 * total);
        assertThat(out.stream().map(ReplaySource.Interaction::userId).distinct())
                .contains("u0", "u1", "u2", "u0~2", "u1~2");
        assertThat(out.stream().filter(i -> i.userId().equals("u0~2")).findFirst().orElseThrow())
                .isEqualTo(new ReplaySource.Interaction("u0~2", "u0:0", 0));
    }
}
