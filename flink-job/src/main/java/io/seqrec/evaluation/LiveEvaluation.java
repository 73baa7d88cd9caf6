package io.seqrec.evaluation;

/**
 * Prequential (test-then-train) quality on live traffic: each new step of a user's sequence is
 * checked against the top-K last emitted for that user, before the step is learned from. This is
 * the streaming counterpart of leave-one-out HR@10 / NDCG@10. Used by one thread; {@link #totals}
 * hands its sums to others as a value.
 */
public final class LiveEvaluation {
    public static final int CUTOFF = 10;

    private long evaluated;
    private long hits;
    private double ndcgSum;
    private double ndcgSquaresSum;

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
        return totals().hitRate();
    }

    public double ndcg() {
        return totals().ndcg();
    }

    /** The sums so far, as a value: for reports and for figures over several recorders. */
    public LiveTotals totals() {
        return new LiveTotals(evaluated, hits, ndcgSum, ndcgSquaresSum);
    }

    public LiveTotals.Interval hitRateInterval() {
        return totals().hitRateInterval();
    }

    public LiveTotals.Interval ndcgInterval() {
        return totals().ndcgInterval();
    }
}
