package io.seqrec.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The beyond-accuracy figures and the popularity baseline against values computed by hand. */
class BeyondAccuracyTest {
    private static final List<String[]> LISTS =
            List.of(new String[] {"a", "b"}, new String[] {"b", "c"}, new String[] {"a"});

    @Test
    void coverageIsDistinctRecommendedItemsOverTheCatalog() {
        assertThat(BeyondAccuracy.coverage(LISTS, 10)).isEqualTo(0.3); // a, b, c of 10
    }

    @Test
    void noveltyIsTheMeanSurprisalOfTheListedItemsSmoothedShares() {
        // 8 interactions, catalog of 2: shares (n + 1) / 10. a: 6 -> 0.7, b: 1 -> 0.2, c: 0 -> 0.1.
        Map<String, Integer> counts = Map.of("a", 6, "b", 1);
        double a = -Math.log(0.7) / Math.log(2);
        double b = -Math.log(0.2) / Math.log(2);
        double c = -Math.log(0.1) / Math.log(2);
        // Listed: a, b, b, c, a.
        assertThat(BeyondAccuracy.novelty(LISTS, counts, 8, 2))
                .isCloseTo((2 * a + 2 * b + c) / 5, within(1e-12));
    }

    @Test
    void intraListDiversityFromWhoInteractedWithTheItems() {
        Map<String, Set<String>> users =
                Map.of("a", Set.of("u1", "u2"), "b", Set.of("u2", "u3", "u4", "u5"), "c", Set.of());
        // {a, b}: 1 shared / sqrt(2 * 4) = 0.353553; {b, c}: c has no users, 0. {a} alone: skipped.
        assertThat(BeyondAccuracy.intraListDiversity(LISTS, users))
                .isCloseTo(((1 - 1 / Math.sqrt(8)) + 1) / 2, within(1e-12));
        assertThat(
                        BeyondAccuracy.intraListDiversity(
                                List.<String[]>of(new String[] {"a", "a"}), users))
                .isCloseTo(0, within(1e-12));
    }

    @Test
    void giniOfRecommendationCountsOverTheWholeCatalog() {
        // Catalog of 4, counts (ascending, zeros included) 0, 1, 1, 2: Σ (2i - n - 1) c_i =
        // (-3)0 + (-1)1 + (1)1 + (3)2 = 6; n Σ c = 4 * 4 = 16.
        assertThat(BeyondAccuracy.gini(new long[] {2, 1, 1}, 4)).isCloseTo(6.0 / 16, within(1e-12));
        assertThat(BeyondAccuracy.gini(new long[] {3, 3, 3}, 3)).isCloseTo(0, within(1e-12));
        // One item of 10 takes every slot: (2*10 - 10 - 1) / 10 = 0.9.
        assertThat(BeyondAccuracy.gini(new long[] {7}, 10)).isCloseTo(0.9, within(1e-12));
        assertThat(BeyondAccuracy.gini(new long[0], 10)).isZero();
    }

    @Test
    void averagePopularityIsTheMeanOverListsOfTheListsMeanInteractions() {
        Map<String, Integer> counts = Map.of("a", 6, "b", 1);
        // [a, b]: 3.5; [b, c]: 0.5; [a]: 6.
        assertThat(BeyondAccuracy.averagePopularity(LISTS, counts))
                .isCloseTo((3.5 + 0.5 + 6) / 3, within(1e-12));
    }

    @Test
    void theLiveWindowPublishesTheSameFiguresWhenItCloses() {
        RecommendationWindow window = new RecommendationWindow(1000);
        window.roll(0, 4); // opens the first window
        for (long item : new long[] {1, 1, 1, 1, 1, 1, 2}) {
            window.interaction(item);
        }
        window.interaction(9); // an interaction with an item outside the lists
        window.recommended(new long[] {1, 2}, 0.4);
        window.recommended(new long[] {2, 3}, 0.8);
        window.recommended(new long[] {1}, Double.NaN); // one item: no diversity
        window.roll(999, 4);
        assertThat(window.figures()).isEqualTo(RecommendationWindow.Figures.NONE);
        window.roll(1000, 4);
        RecommendationWindow.Figures f = window.figures();
        Map<String, Integer> counts = Map.of("a", 6, "b", 1, "z", 1);
        assertThat(f.lists()).isEqualTo(3);
        assertThat(f.coverage()).isCloseTo(BeyondAccuracy.coverage(LISTS, 4), within(1e-12));
        assertThat(f.gini()).isCloseTo(BeyondAccuracy.gini(new long[] {2, 2, 1}, 4), within(1e-12));
        assertThat(f.novelty())
                .isCloseTo(BeyondAccuracy.novelty(LISTS, counts, 8, 4), within(1e-12));
        assertThat(f.averagePopularity())
                .isCloseTo(BeyondAccuracy.averagePopularity(LISTS, counts), within(1e-12));
        // the mean over the lists that have one
        assertThat(f.intraListDiversity()).isCloseTo(0.6, within(1e-12));
        // The next window starts empty.
        window.roll(2000, 4);
        assertThat(window.figures()).isEqualTo(RecommendationWindow.Figures.NONE);
    }

    @Test
    void theBaselineChecksTheNextItemAgainstThePopularListWithoutTheUsersOwn() {
        PopularityBaseline baseline = new PopularityBaseline(2);
        baseline.accept("x", "p"); // counts p1; x's list: [] (only p, which x has)
        baseline.accept("y", "p"); // p2; y's list: []
        baseline.accept("y", "q"); // check y: q against [] -> miss; q1; y's list: []
        baseline.accept("z", "r"); // r1; z's list: [p, q]
        baseline.accept("z", "q"); // check z: q against [p, q] -> hit at rank 2
        baseline.accept("z", "q"); // the same item again: no check
        baseline.accept("x", "r"); // check x: r against [] (list after x's first event) -> miss
        LiveTotals t = baseline.totals();
        assertThat(t.evaluated()).isEqualTo(3);
        assertThat(t.hits()).isEqualTo(1);
        assertThat(t.ndcg()).isCloseTo(1 / (Math.log(3) / Math.log(2)) / 3, within(1e-12));
    }
}
