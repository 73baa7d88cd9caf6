package io.seqrec.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The blend's reciprocal-rank fusion against scores computed by hand. */
class RankFusionTest {

    private static RankFusion.Ranking ranking(String... ids) {
        long[] keys = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            keys[i] = ids[i].hashCode();
        }
        return new RankFusion.Ranking(keys, ids, ids.length);
    }

    @Test
    void scoresEachItemByItsRanksInBothLists() {
        RankFusion.Fused f =
                RankFusion.fuse(ranking("a", "b", "c"), ranking("c", "d", "a"), 2.0, 10);
        // a: 1/61 + 2/63; b: 1/62; c: 1/63 + 2/61; d: 2/62.
        assertThat(f.ids()).containsExactly("c", "a", "d", "b");
        assertThat(f.scores()[0]).isCloseTo((float) (1.0 / 63 + 2.0 / 61), within(1e-7f));
        assertThat(f.scores()[1]).isCloseTo((float) (1.0 / 61 + 2.0 / 63), within(1e-7f));
        assertThat(f.scores()[2]).isCloseTo((float) (2.0 / 62), within(1e-7f));
        assertThat(f.scores()[3]).isCloseTo((float) (1.0 / 62), within(1e-7f));
        assertThat(f.keys()[0]).isEqualTo("c".hashCode());
    }

    @Test
    void withEqualWeightsTiesKeepTheModelsOrderAndTheListIsCutAtK() {
        // beta 1: a (model 1st) and x (trending 1st) tie at 1/61; the model's goes first.
        RankFusion.Fused f = RankFusion.fuse(ranking("a", "b"), ranking("x", "y"), 1.0, 3);
        assertThat(f.ids()).containsExactly("a", "x", "b");
    }

    @Test
    void readsEachRankingOnlyToItsDepth() {
        String[] deep = new String[RankFusion.DEPTH + 5];
        for (int i = 0; i < deep.length; i++) {
            deep[i] = "m" + i;
        }
        RankFusion.Fused f = RankFusion.fuse(ranking(deep), ranking(), 1.0, 1000);
        assertThat(f.ids()).hasSize(RankFusion.DEPTH).doesNotContain("m" + RankFusion.DEPTH);
    }
}
