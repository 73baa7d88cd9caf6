package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TopKTest {
    @Test
    void selectsHighestScoresBestFirstSkippingPaddingAndExcluded() {
        float[] scores = {100f, 1f, 5f, Float.NEGATIVE_INFINITY, 3f, 5f, 2f};
        int[] idx = new int[3];
        float[] val = new float[3];
        int n = TopK.select(scores, 0, scores.length, 3, idx, val);
        assertThat(n).isEqualTo(3);
        assertThat(idx).containsExactly(2, 5, 4);
        assertThat(val).containsExactly(5f, 5f, 3f);
    }

    @Test
    void matchesFullSortOnRandomRows() {
        Random r = new Random(1);
        int width = 501;
        float[] scores = new float[3 * width];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (float) r.nextGaussian();
        }
        for (int row = 0; row < 3; row++) {
            int from = row * width;
            int[] idx = new int[10];
            float[] val = new float[10];
            TopK.select(scores, from, width, 10, idx, val);
            int[] expected =
                    IntStream.range(1, width)
                            .boxed()
                            .sorted(Comparator.comparing((Integer i) -> -scores[from + i]))
                            .limit(10)
                            .mapToInt(Integer::intValue)
                            .toArray();
            assertThat(idx).as("row %d", row).containsExactly(expected);
        }
    }

    @Test
    void returnsFewerWhenFewItemsQualify() {
        float[] scores = {0f, Float.NEGATIVE_INFINITY, 2f};
        int[] idx = new int[5];
        float[] val = new float[5];
        assertThat(TopK.select(scores, 0, 3, 5, idx, val)).isEqualTo(1);
        assertThat(Arrays.copyOf(idx, 1)).containsExactly(2);
    }
}
