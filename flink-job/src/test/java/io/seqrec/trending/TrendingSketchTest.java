package io.seqrec.trending;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The decayed Space-Saving sketch against exact decayed counts. */
class TrendingSketchTest {
    private static final long HOUR = 3_600_000;

    @Test
    void memoryStaysWithinItsCapacityWhateverTheStream() {
        TrendingSketch sketch = new TrendingSketch(100, HOUR);
        for (int i = 0; i < 200_000; i++) {
            sketch.add(i, "item-" + i, i, 1);
        }
        assertThat(sketch.size()).isEqualTo(100);
        assertThat(sketch.top(1000)).hasSize(100);
        // The snapshot holds the 100 counters, not the 200,000 items seen.
        assertThat(sketch.toBytes().length).isLessThan(100 * 40 + 64);
    }

    @Test
    void decayRanksRecentInteractionsAboveOlderOnes() {
        TrendingSketch sketch = new TrendingSketch(10, HOUR);
        for (int i = 0; i < 10; i++) {
            sketch.add(1, "old", 0, 1); // 10 at t = 0: 5 after one half-life
        }
        for (int i = 0; i < 6; i++) {
            sketch.add(2, "new", HOUR, 1); // 6 at t = 1 h
        }
        sketch.add(3, "newest", HOUR, 5.5); // 5.5 at t = 1 h: between the two
        List<TrendingSketch.Entry> top = sketch.top(3);
        assertThat(top)
                .extracting(TrendingSketch.Entry::id)
                .containsExactly("new", "newest", "old");
        // Counts are as of the landmark (t = 0): 6 at 1 h is 12 there, 10 stays 10.
        assertThat(top.get(0).count()).isCloseTo(12, within(1e-9));
        assertThat(top.get(2).count()).isCloseTo(10, within(1e-9));
    }

    @Test
    void countsStayFiniteAndOrderedOverHundredsOfHalfLives() {
        TrendingSketch sketch = new TrendingSketch(10, 1000);
        long t = 0;
        for (int i = 0; i < 500; i++) {
            t += 1000; // one half-life per step: 500 in all, far beyond a double's exponent
            sketch.add(1, "steady", t, 1);
            if (i % 2 == 0) {
                sketch.add(2, "every-other", t, 1);
            }
        }
        List<TrendingSketch.Entry> top = sketch.top(2);
        assertThat(top)
                .extracting(TrendingSketch.Entry::id)
                .containsExactly("steady", "every-other");
        assertThat(top).allSatisfy(e -> assertThat(Double.isFinite(e.count())).isTrue());
        // Now (the last step): steady 1 + 1/2 + 1/4 + ... = 2; every-other last came one step ago,
        // 1/2 + 1/8 + 1/32 + ... = 2/3. The counters keep that ratio whatever the landmark.
        double ratio = top.get(1).count() / top.get(0).count();
        assertThat(ratio).isCloseTo(1.0 / 3, within(1e-9));
    }

    /**
     * A skewed (Zipf 1.1) stream of 200,000 interactions over 20,000 items spread over 5.5 hours,
     * counted by a sketch of 500: the Space-Saving guarantee holds (every item above total / 500 is
     * counted) and the top 20 are the exact top 20 in order.
     */
    @Test
    void theTopOfASkewedStreamIsTheExactTop() {
        int items = 20_000;
        double[] cdf = zipfCdf(items, 1.1);
        Random random = new Random(7);
        TrendingSketch sketch = new TrendingSketch(500, HOUR);
        Map<Long, Double> exact = new HashMap<>();
        long now = 0;
        double total = 0;
        for (int i = 0; i < 200_000; i++) {
            now += 100;
            // A drifting popularity: the item ranks rotate by one every 10,000 events.
            long item = (sample(cdf, random) + i / 10_000) % items;
            sketch.add(item, "i" + item, now, 1);
            double w = Math.pow(2, now / (double) HOUR);
            exact.merge(item, w, Double::sum);
            total += w;
        }
        List<Long> exactTop =
                exact.entrySet().stream()
                        .sorted(Map.Entry.<Long, Double>comparingByValue(Comparator.reverseOrder()))
                        .map(Map.Entry::getKey)
                        .toList();
        List<Long> sketchTop = sketch.top(20).stream().map(TrendingSketch.Entry::key).toList();
        assertThat(sketchTop).isEqualTo(exactTop.subList(0, 20));

        List<Long> counted = new ArrayList<>();
        sketch.top(500).forEach(e -> counted.add(e.key()));
        double threshold = total / 500;
        for (Map.Entry<Long, Double> e : exact.entrySet()) {
            if (e.getValue() > threshold) {
                assertThat(counted)
                        .as("item %d above total / capacity", e.getKey())
                        .contains(e.getKey());
            }
        }
    }

    @Test
    void mergingSubtasksSketchesGivesTheWholeStreamsRanking() {
        TrendingSketch whole = new TrendingSketch(1000, HOUR);
        TrendingSketch even = new TrendingSketch(1000, HOUR);
        TrendingSketch odd = new TrendingSketch(1000, HOUR);
        Random random = new Random(3);
        double[] cdf = zipfCdf(300, 1.0);
        for (int i = 0; i < 20_000; i++) {
            long item = sample(cdf, random);
            long ts = 1_000_000L + i * 500L;
            whole.add(item, "i" + item, ts, 1);
            (i % 2 == 0 ? even : odd).add(item, "i" + item, ts, 1);
        }
        TrendingSketch merged =
                TrendingSketch.merge(List.of(even.toBytes(), odd.toBytes()), 1000, HOUR, 0.5);
        assertThat(merged.top(50))
                .extracting(TrendingSketch.Entry::key)
                .isEqualTo(whole.top(50).stream().map(TrendingSketch.Entry::key).toList());
        // Scaled by one half: each new subtask's share of the counts. (Within 1e-3: the merge's
        // landmark is the odd half's, 0.5 s after the whole stream's, a factor 2^(0.5 s / 1 h).)
        double wholeTop = whole.top(1).get(0).count();
        assertThat(merged.top(1).get(0).count()).isCloseTo(wholeTop / 2, within(1e-3 * wholeTop));
    }

    static double[] zipfCdf(int n, double s) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += 1 / Math.pow(k + 1, s);
            cdf[k] = sum;
        }
        for (int k = 0; k < n; k++) {
            cdf[k] /= sum;
        }
        return cdf;
    }

    static long sample(double[] cdf, Random random) {
        double u = random.nextDouble();
        int lo = 0;
        int hi = cdf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] < u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
