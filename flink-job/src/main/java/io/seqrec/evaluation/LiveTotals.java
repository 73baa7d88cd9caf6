package io.seqrec.evaluation;

/**
 * The sums behind live HR@10 and NDCG@10: what a subtask reports and what reports from several
 * subtasks add up to ({@link #plus}). Rates and confidence intervals are computed from the sums, so
 * figures aggregated over subtasks are exact, not averages of averages.
 *
 * @param evaluated checks made (events whose item was checked against the previous top-K)
 * @param hits checks whose item was in the top-K
 * @param ndcgSum the checks' gains, 1 / log2(rank + 1) for a hit at {@code rank}, 0 for a miss
 * @param ndcgSquaresSum the squares of the gains, for the NDCG's variance
 */
public record LiveTotals(long evaluated, long hits, double ndcgSum, double ndcgSquaresSum) {
    public static final LiveTotals NONE = new LiveTotals(0, 0, 0, 0);

    /** Two-sided 95 % normal quantile, for the confidence intervals. */
    private static final double Z95 = 1.959964;

    /** A 95 % confidence interval of a live figure. */
    public record Interval(double low, double high) {}

    public LiveTotals plus(LiveTotals other) {
        return new LiveTotals(
                evaluated + other.evaluated,
                hits + other.hits,
                ndcgSum + other.ndcgSum,
                ndcgSquaresSum + other.ndcgSquaresSum);
    }

    /** The checks made since {@code earlier} was taken (from the same evaluation). */
    public LiveTotals minus(LiveTotals earlier) {
        return new LiveTotals(
                evaluated - earlier.evaluated,
                hits - earlier.hits,
                ndcgSum - earlier.ndcgSum,
                ndcgSquaresSum - earlier.ndcgSquaresSum);
    }

    public double hitRate() {
        return evaluated == 0 ? 0.0 : (double) hits / evaluated;
    }

    public double ndcg() {
        return evaluated == 0 ? 0.0 : ndcgSum / evaluated;
    }

    /**
     * Wilson score interval of the hit rate: unlike the normal approximation it stays within [0, 1]
     * and is honest for few checks or rates near 0 or 1, which is where a new canary starts.
     */
    public Interval hitRateInterval() {
        if (evaluated == 0) {
            return new Interval(0, 1);
        }
        double n = evaluated;
        double p = hits / n;
        double z2 = Z95 * Z95;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
        return new Interval(Math.max(0, centre - half), Math.min(1, centre + half));
    }

    /** The sample variance of the checks' NDCG gains (0 for fewer than two checks). */
    public double ndcgVariance() {
        if (evaluated < 2) {
            return 0;
        }
        double n = evaluated;
        double mean = ndcgSum / n;
        return Math.max(0, (ndcgSquaresSum - n * mean * mean) / (n - 1));
    }

    /** Normal-approximation interval of the mean NDCG (each check's gain is in [0, 1]). */
    public Interval ndcgInterval() {
        if (evaluated < 2) {
            return new Interval(0, 1);
        }
        double n = evaluated;
        double mean = ndcgSum / n;
        double half = Z95 * Math.sqrt(ndcgVariance() / n);
        return new Interval(Math.max(0, mean - half), Math.min(1, mean + half));
    }
}
