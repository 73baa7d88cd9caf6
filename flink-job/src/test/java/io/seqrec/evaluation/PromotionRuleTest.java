package io.seqrec.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The canary's promotion rule against figures computed by hand. */
class PromotionRuleTest {
    // Canary: 500 checks, NDCG sum 100 (mean 0.2), squares 60 -> variance (60 - 500 * 0.04) / 499.
    private static final LiveTotals CANARY = new LiveTotals(500, 150, 100.0, 60.0);
    // Stable: 2000 checks, mean 0.1, squares 150 -> variance (150 - 2000 * 0.01) / 1999.
    private static final LiveTotals STABLE = new LiveTotals(2000, 300, 200.0, 150.0);

    @Test
    void promotesACanaryThatBeatsTheStableByTheMarginWithConfidence() {
        PromotionRule.Decision d = new PromotionRule(0.02, 100).decide(CANARY, STABLE);
        double vc = (60 - 500 * 0.04) / 499;
        double vs = (150 - 2000 * 0.01) / 1999;
        double z = (0.2 - 0.1 * 1.02) / Math.sqrt(vc / 500 + vs * 1.02 * 1.02 / 2000);
        assertThat(d.z()).isCloseTo(z, within(1e-9));
        assertThat(d.verdict()).isEqualTo(PromotionRule.Verdict.PROMOTE);
        assertThat(d.reason()).contains("canary NDCG@10 0.2000 over 500 checks, stable 0.1000");
    }

    @Test
    void rollsBackACanaryThatDoesNotBeatItAndWaitsForChecks() {
        assertThat(new PromotionRule(0.02, 100).decide(STABLE, CANARY).verdict())
                .isEqualTo(PromotionRule.Verdict.ROLL_BACK);
        // A margin larger than the difference: 0.2 is not above 0.1 x 2.5.
        assertThat(new PromotionRule(1.5, 100).decide(CANARY, STABLE).verdict())
                .isEqualTo(PromotionRule.Verdict.ROLL_BACK);
        PromotionRule.Decision early = new PromotionRule(0.02, 1000).decide(CANARY, STABLE);
        assertThat(early.verdict()).isEqualTo(PromotionRule.Verdict.WAIT);
        assertThat(early.reason()).contains("fewer than 1000 checks");
        assertThatThrownBy(() -> new PromotionRule(-1, 100))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
