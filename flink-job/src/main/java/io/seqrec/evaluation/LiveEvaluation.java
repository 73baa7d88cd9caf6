package io.seqrec.evaluation;

/**
 * Prequential (test-then-train) quality on live traffic: each new step of a user's sequence is
 * checked against the top-K last emitted for that user, before the step is learned from. This is
 * the streaming counterpart of leave-one-out HR@10 / NDCG@10. Used by one thread; {@link #totals}
 * hands its sums to others as a value.
 */
public final class LiveEvaluation {
    public static final int CUTOFF = 10;

    /** What {@link #record} returns for a check whose item was not in the top-K. */
    public static final int MISS = -1;

    private long evaluated;
    private long hits;
    private double ndcgSum;
    private double ndcgSquaresSum;

    /**
     * Records one check of {@code target} against the previous recommendations, both as item keys
     * ({@link io.seqrec.event.StableHash} of the ids), as the job's state holds them; returns the
     * rank of the hit or {@link #MISS}, for {@link #recordOutcome} of a subset of the checks.
     */
    public int record(long[] previousTopK, long target) {
        int limit = Math.min(CUTOFF, previousTopK.length);
        for (int rank = 0; rank < limit; rank++) {
            if (previousTopK[rank] == target) {
                return recordOutcome(rank);
            }
        }
        return recordOutcome(MISS);
    }

    /** The same check on external item ids, as a consumer of the output topic sees them. */
    public int record(String[] previousTopK, String target) {
        int limit = Math.min(CUTOFF, previousTopK.length);
        for (int rank = 0; rank < limit; rank++) {
            if (previousTopK[rank].equals(target)) {
                return recordOutcome(rank);
            }
        }
        return recordOutcome(MISS);
    }

    /**
     * Records a check made elsewhere, by its outcome ({@link #record}'s): figures on a subset of
     * the checks, such as those of items bought later, count the same hits at the same ranks.
     */
    public int recordOutcome(int rank) {
        if (rank != MISS && (rank < 0 || rank >= CUTOFF)) {
            throw new IllegalArgumentException("rank must be in [0, " + CUTOFF + "): " + rank);
        }
        evaluated++;
        if (rank != MISS) {
            hit(rank);
        }
        return rank;
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
