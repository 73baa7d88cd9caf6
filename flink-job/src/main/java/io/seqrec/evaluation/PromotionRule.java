package io.seqrec.evaluation;

import java.util.Locale;

/**
 * Whether a canary should replace the stable version, decided from their live figures: each
 * version's NDCG@10 on its own users (the canary's share is a hash of {@code user_id}, so the two
 * groups are random halves of one population, an A/B test).
 *
 * <ul>
 *   <li>{@link Verdict#WAIT}: either version has fewer than {@code minChecks} checks;
 *   <li>{@link Verdict#PROMOTE}: the canary's NDCG@10 exceeds the stable's times {@code 1 + margin}
 *       at one-sided 95 % confidence (Welch's z on the two means);
 *   <li>{@link Verdict#ROLL_BACK}: enough checks, and it does not.
 * </ul>
 *
 * @param margin the relative improvement the canary must show, e.g. 0.02 for 2 %
 * @param minChecks the checks each version needs before anything is decided
 */
public record PromotionRule(double margin, long minChecks) {

    /** One-sided 95 % normal quantile. */
    static final double Z95_ONE_SIDED = 1.644854;

    public enum Verdict {
        PROMOTE,
        ROLL_BACK,
        WAIT
    }

    /** The verdict and the figures behind it, as one line for an operator. */
    public record Decision(Verdict verdict, double z, String reason) {}

    public PromotionRule {
        if (!(margin >= 0) || minChecks < 2) {
            throw new IllegalArgumentException("margin must be >= 0 and min checks >= 2");
        }
    }

    public Decision decide(LiveTotals canary, LiveTotals stable) {
        String figures =
                String.format(
                        Locale.ROOT,
                        "canary NDCG@10 %.4f over %d checks, stable %.4f over %d",
                        canary.ndcg(),
                        canary.evaluated(),
                        stable.ndcg(),
                        stable.evaluated());
        if (canary.evaluated() < minChecks || stable.evaluated() < minChecks) {
            return new Decision(
                    Verdict.WAIT, Double.NaN, figures + ": fewer than " + minChecks + " checks");
        }
        double target = stable.ndcg() * (1 + margin);
        double se =
                Math.sqrt(
                        canary.ndcgVariance() / canary.evaluated()
                                + stable.ndcgVariance()
                                        * (1 + margin)
                                        * (1 + margin)
                                        / stable.evaluated());
        double z =
                se == 0
                        ? (canary.ndcg() > target ? Double.POSITIVE_INFINITY : 0)
                        : (canary.ndcg() - target) / se;
        boolean better = z > Z95_ONE_SIDED;
        return new Decision(
                better ? Verdict.PROMOTE : Verdict.ROLL_BACK,
                z,
                String.format(
                        Locale.ROOT,
                        "%s: the canary %s the stable's x %.2f (z %.2f, needs > %.2f)",
                        figures,
                        better ? "beats" : "does not beat",
                        1 + margin,
                        z,
                        Z95_ONE_SIDED));
    }
}
