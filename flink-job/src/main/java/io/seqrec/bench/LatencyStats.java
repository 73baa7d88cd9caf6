package io.seqrec.bench;

import java.util.Arrays;

/**
 * Latency percentiles, the one definition behind every figure {@code seqrec demo} and {@code bench}
 * print: nearest rank (the smallest value with at least {@code q} of the values at or below it), so
 * a p99 is a latency some event really had.
 */
public final class LatencyStats {
    private LatencyStats() {}

    /** The {@code q}-quantile of ascending {@code sorted}, 0 if there are none. */
    public static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[
                Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
    }

    /** The {@code q}-quantile of {@code values}, in any order (they are left as they are). */
    public static long percentileOf(long[] values, double q) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return percentile(sorted, q);
    }
}
