package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.event.Recommendation;
import org.junit.jupiter.api.Test;

/** How {@code seqrec tail} prints a recommendation. */
class TailCommandTest {

    private static Recommendation of(String strategy, String because) {
        return new Recommendation(
                "u1",
                "e9",
                1L,
                2L,
                3L,
                "m",
                strategy,
                new String[] {"i7", "i2"},
                new float[] {4.25f, 1.5f},
                because,
                0L);
    }

    @Test
    void aModelListShowsItsItemsAndWhatItIsBecauseOf() {
        assertThat(TailCommand.format(of(Recommendation.MODEL, "i3")))
                .isEqualTo("u1 #3 after e9 -> i7 (4.25) i2 (1.50)  because i3");
    }

    @Test
    void otherStrategiesAreNamed() {
        assertThat(TailCommand.format(of(Recommendation.TRENDING, null)))
                .isEqualTo("u1 #3 after e9 [trending] -> i7 (4.25) i2 (1.50)");
    }
}
