package io.seqrec.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How {@code seqrec bench --repeat N} summarises the runs of one phase. */
class PhaseTest {

    @Test
    void medianOfAnOddCountIsTheMiddleValueAndOfAnEvenCountTheMeanOfTheTwoMiddleOnes() {
        assertThat(Phase.median(new double[] {9.0, 1.0, 5.0})).isEqualTo(5.0);
        assertThat(Phase.median(new double[] {4.0, 1.0, 3.0, 10.0})).isEqualTo(3.5);
        assertThat(Phase.median(new double[] {7.0})).isEqualTo(7.0);
    }

    @Test
    void eachFigureIsItsOwnMedianAndReceivedIsTheSmallestCount() {
        Phase fast = new Phase("batched-max", 0, 1000, 9000, 10, 40, 190, 150);
        Phase slow = new Phase("batched-max", 0, 998, 7000, 30, 20, 230, 140);
        Phase mid = new Phase("batched-max", 0, 1000, 8000, 20, 90, 200, 170);

        Phase m = Phase.median(List.of(fast, slow, mid));

        assertThat(m).isEqualTo(new Phase("batched-max", 0, 998, 8000, 20, 40, 200, 150));
    }
}
