package io.seqrec.pipeline;

/**
 * Prequential (test-then-train) quality on live traffic: each new step of a user's sequence is
 * checked against the top-K last emitted for that user, before the step is learned from. This is
 * the streaming counterpart of leave-one-out HR@10 / NDCG@10.
 */
public final class LiveEvaluation {
    public static final int CUTOFF = 10;

    /** Two-sided 95 % normal quantile, for the confidence intervals. */
    private static final double Z95 = 1.959964;

    private long evaluated;
    private long hits;
    private double ndcgSum;
    private double ndcgSquaresSum;

    /** A 95 % confidence interval of a live figure. */
    public record Interval(double low, double high) {}

    /**
     * Records one check of {@code target} against the previous recommendations, both as item keys
     * ({@link io.seqrec.event.StableHash} of the ids), as the job's state holds them.
     */
    public void record(long[] previousTopK, long target) {
        evaluated++;
        int limit = Math.min(CUTOFF, previousTopK.length);
        for (int rank = 0; rank < limit; rank++) {
            if (previousTopK[rank] == target) {
                hit(rank);
                return;
            }
        }
    }

    /** The same check on external item ids, as a consumer of the output topic sees them. */
    public void record(String[] previousTopK, String target) {
        evaluated++;
        int limit = Math.min(CUTOFF, previousTopK.length);
        for (int rank = 0; rank < limit; rank++) {
            if (previousTopK[rank].equals(target)) {
                hit(rank);
                return;
            }
        }
    }

    private void hit(int rank) {
        double g = gain(rank);
        hits++;
        ndcgSum += g;
        ndcgSquaresSum += g * g;
    }

    private static double gain(int rank) {
        return 1.0 / (Math.log(rank + 2) / Math.log(2));
    }

    public long evaluated() {
        return evaluated;
    }

    public long hits() {
        return hits;
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

    /** Normal-approximation interval of the mean NDCG (each check's gain is in [0, 1]). */
    public Interval ndcgInterval() {
        if (evaluated < 2) {
            return new Interval(0, 1);
        }
        double n = evaluated;
        double mean = ndcgSum / n;
        double variance = Math.max(0, (ndcgSquaresSum - n * mean * mean) / (n - 1));
        double half = Z95 * Math.sqrt(variance / n);
        return new Interval(Math.max(0, mean - half), Math.min(1, mean + half));
    }
}
