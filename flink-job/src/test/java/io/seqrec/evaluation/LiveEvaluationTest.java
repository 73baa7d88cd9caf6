package io.seqrec.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The live figures and their confidence intervals, against values computed by hand. */
class LiveEvaluationTest {

    @Test
    void hitRateAndNdcgCountTheRankOfTheNextItem() {
        LiveEvaluation e = new LiveEvaluation();
        e.record(new String[] {"a", "b", "c"}, "a"); // rank 1: gain 1
        e.record(new String[] {"a", "b", "c"}, "c"); // rank 3: gain 1/log2(4) = 0.5
        e.record(new String[] {"a", "b", "c"}, "z"); // miss
        e.record(new long[] {7, 8}, 8); // rank 2: gain 1/log2(3)
        assertThat(e.evaluated()).isEqualTo(4);
        assertThat(e.hits()).isEqualTo(3);
        assertThat(e.hitRate()).isEqualTo(0.75);
        assertThat(e.ndcg())
                .isCloseTo((1 + 0.5 + 1 / (Math.log(3) / Math.log(2))) / 4, within(1e-12));
    }

    @Test
    void aCheckRecordedAgainByItsOutcomeCountsTheSame() {
        LiveEvaluation all = new LiveEvaluation();
        LiveEvaluation subset = new LiveEvaluation();
        String[] list = {"a", "b", "c"};
        for (String target : new String[] {"a", "c", "z"}) {
            subset.recordOutcome(all.record(list, target));
        }
        assertThat(subset.totals()).isEqualTo(all.totals());
        assertThat(subset.ndcg()).isCloseTo((1 + 0.5) / 3, within(1e-12));
        assertThat(all.record(new long[] {7, 8}, 9)).isEqualTo(LiveEvaluation.MISS);
        assertThat(all.record(new long[] {7, 8}, 8)).isEqualTo(1);
        assertThatThrownBy(() -> subset.recordOutcome(LiveEvaluation.CUTOFF))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void wilsonIntervalOfTheHitRate() {
        LiveEvaluation e = new LiveEvaluation();
        for (int i = 0; i < 100; i++) {
            e.record(new String[] {"a"}, i < 20 ? "a" : "b");
        }
        // p = 0.2, n = 100, z = 1.96: centre (0.2 + 0.019208) / 1.038415 = 0.211105,
        // half 1.96 * sqrt(0.0016 + 0.00009604) / 1.038415 = 0.077732
        LiveTotals.Interval ci = e.hitRateInterval();
        assertThat(ci.low()).isCloseTo(0.13337, within(1e-4));
        assertThat(ci.high()).isCloseTo(0.28884, within(1e-4));
        assertThat(new LiveEvaluation().hitRateInterval()).isEqualTo(new LiveTotals.Interval(0, 1));
    }

    @Test
    void normalIntervalOfTheMeanNdcg() {
        LiveEvaluation e = new LiveEvaluation();
        // gains 1, 0.5, 0, 0: mean 0.375, sample variance (0.390625 + 0.015625 + 2 * 0.140625) / 3
        // = 0.229167, standard error sqrt(0.229167 / 4) = 0.239357, half 1.96 * that = 0.469130
        e.record(new String[] {"a", "b", "c"}, "a");
        e.record(new String[] {"a", "b", "c"}, "c");
        e.record(new String[] {"a", "b", "c"}, "x");
        e.record(new String[] {"a", "b", "c"}, "y");
        LiveTotals.Interval ci = e.ndcgInterval();
        assertThat(ci.low()).isEqualTo(0); // 0.375 - 0.469 is clipped at 0
        assertThat(ci.high()).isCloseTo(0.375 + 0.469130, within(1e-4));
    }

    @Test
    void totalsOfSeveralRecordersAddUpToTheFiguresOfOne() {
        LiveEvaluation all = new LiveEvaluation();
        LiveEvaluation first = new LiveEvaluation();
        LiveEvaluation second = new LiveEvaluation();
        String[] list = {"a", "b", "c", "d"};
        String[] targets = {"a", "x", "c", "d", "y", "b", "a"};
        for (int i = 0; i < targets.length; i++) {
            all.record(list, targets[i]);
            (i % 3 == 0 ? first : second).record(list, targets[i]);
        }
        LiveTotals sum = first.totals().plus(second.totals());
        assertThat(sum.evaluated()).isEqualTo(all.evaluated());
        assertThat(sum.hits()).isEqualTo(all.hits());
        assertThat(sum.ndcg()).isCloseTo(all.ndcg(), within(1e-12));
        assertThat(sum.ndcgInterval().high()).isCloseTo(all.ndcgInterval().high(), within(1e-12));
        assertThat(sum.hitRateInterval()).isEqualTo(all.hitRateInterval());
        assertThat(LiveTotals.NONE.plus(sum)).isEqualTo(sum);
    }
}
