package io.seqrec.model;

/**
 * Selects the k best-scoring items of one score row without sorting the catalog: one pass keeping a
 * small sorted array, so O(n) for the usual case where few scores beat the current k-th.
 */
public final class TopK {
    private TopK() {}

    /**
     * Writes the indices of the {@code k} highest scores among {@code scores[from..from+n)} into
     * {@code outIndex} (best first, relative to {@code from}) and their scores into {@code
     * outScore}. Index 0 (padding) and scores of {@code -Infinity} (excluded items) never appear.
     * Ties keep the lower index first.
     *
     * @return how many were written (fewer than k if fewer items qualify)
     */
    public static int select(
            float[] scores, int from, int n, int k, int[] outIndex, float[] outScore) {
        int size = 0;
        // One comparison per score in the common case: NaN, -Infinity and everything not above
        // the current k-th best fail "s > threshold" (ties keep the earlier index).
        float threshold = Float.NEGATIVE_INFINITY;
        for (int i = 1; i < n; i++) {
            float s = scores[from + i];
            if (!(s > threshold)) {
                continue;
            }
            int pos = size < k ? size++ : k - 1;
            while (pos > 0 && outScore[pos - 1] < s) {
                outScore[pos] = outScore[pos - 1];
                outIndex[pos] = outIndex[pos - 1];
                pos--;
            }
            outScore[pos] = s;
            outIndex[pos] = i;
            if (size == k) {
                threshold = outScore[k - 1];
            }
        }
        return size;
    }
}
