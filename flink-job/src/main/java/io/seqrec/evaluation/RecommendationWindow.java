package io.seqrec.evaluation;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Beyond-accuracy figures of the lists one subtask emitted over a tumbling window of processing
 * time, with {@link BeyondAccuracy}'s definitions: coverage, Gini index, novelty and average
 * popularity, the popularity of an item being its interactions accepted in the same window by the
 * same subtask. {@link #figures} is the last complete window's, readable from any thread (the
 * metric reporter's).
 *
 * <p>Intra-list diversity is measured with the serving model's item vectors ({@link
 * io.seqrec.model.ItemVectors#listDiversity}), the definition {@code seqrec_model evaluate} reports
 * as {@code ild_vectors}: the co-occurrence version ({@code ild} offline and in the demo's summary)
 * needs every item's set of users, memory that grows with the traffic.
 *
 * <p>Memory is one entry per distinct item listed or interacted with in the window. Not thread-safe
 * apart from {@link #figures}.
 */
public final class RecommendationWindow {

    /** One window's figures; {@code lists} = 0 means nothing was recommended in it. */
    public record Figures(
            double coverage,
            double gini,
            double novelty,
            double averagePopularity,
            double intraListDiversity,
            long lists) {
        public static final Figures NONE = new Figures(0, 0, 0, 0, 0, 0);
    }

    /** Per item in the window: times listed, Σ 1/len of the lists it was in, interactions. */
    private static final class Tally {
        long listed;
        double listShare;
        long interactions;
    }

    private final long lengthMs;
    private Map<Long, Tally> items = new HashMap<>();
    private long lists;
    private long listedItems;
    private double diversitySum;
    private long diverseLists;
    private long interactions;
    private long windowStart = Long.MIN_VALUE;
    private volatile Figures figures = Figures.NONE;

    public RecommendationWindow(long lengthMs) {
        if (lengthMs <= 0) {
            throw new IllegalArgumentException("window length must be positive: " + lengthMs);
        }
        this.lengthMs = lengthMs;
    }

    /** An accepted event on {@code itemKey}. */
    public void interaction(long itemKey) {
        items.computeIfAbsent(itemKey, k -> new Tally()).interactions++;
        interactions++;
    }

    /** A list emitted to a user. */
    public void recommended(long[] itemKeys) {
        recommended(itemKeys, Double.NaN);
    }

    /**
     * A list emitted to a user, with its intra-list diversity ({@link
     * io.seqrec.model.ItemVectors#listDiversity}; NaN if it has none: fewer than two items with
     * vectors).
     */
    public void recommended(long[] itemKeys, double diversity) {
        if (itemKeys.length == 0) {
            return;
        }
        if (!Double.isNaN(diversity)) {
            diversitySum += diversity;
            diverseLists++;
        }
        double share = 1.0 / itemKeys.length;
        for (long key : itemKeys) {
            Tally t = items.computeIfAbsent(key, k -> new Tally());
            t.listed++;
            t.listShare += share;
        }
        lists++;
        listedItems += itemKeys.length;
    }

    /**
     * Closes the window if {@code nowMs} is past its end, publishing its figures against a catalog
     * of {@code catalogSize} items; the first call opens the first window.
     */
    public void roll(long nowMs, int catalogSize) {
        if (windowStart == Long.MIN_VALUE) {
            windowStart = nowMs;
            return;
        }
        if (nowMs - windowStart < lengthMs) {
            return;
        }
        figures = compute(catalogSize);
        items = new HashMap<>();
        lists = 0;
        listedItems = 0;
        interactions = 0;
        diversitySum = 0;
        diverseLists = 0;
        windowStart = nowMs;
    }

    /** The last complete window's figures ({@link Figures#NONE} before the first). */
    public Figures figures() {
        return figures;
    }

    private Figures compute(int catalogSize) {
        if (lists == 0) {
            return Figures.NONE;
        }
        long[] counts = new long[items.size()];
        int distinct = 0;
        double surprisal = 0;
        double popularity = 0;
        double denominator = interactions + (double) catalogSize;
        for (Tally t : items.values()) {
            if (t.listed == 0) {
                continue;
            }
            counts[distinct++] = t.listed;
            surprisal += t.listed * -Math.log((t.interactions + 1) / denominator) / Math.log(2);
            popularity += t.listShare * t.interactions;
        }
        long[] recommendedCounts = Arrays.copyOf(counts, distinct);
        return new Figures(
                // Trending may list items the model does not know: they widen the catalog.
                (double) distinct / Math.max(catalogSize, distinct),
                BeyondAccuracy.gini(recommendedCounts, catalogSize),
                surprisal / listedItems,
                popularity / lists,
                diverseLists == 0 ? 0 : diversitySum / diverseLists,
                lists);
    }
}
