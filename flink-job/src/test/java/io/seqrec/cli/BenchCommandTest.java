package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How {@code seqrec bench --repeat N} summarises the runs of one phase. */
class BenchCommandTest {

    @Test
    void medianOfAnOddCountIsTheMiddleValueAndOfAnEvenCountTheMeanOfTheTwoMiddleOnes() {
        assertThat(BenchCommand.median(new double[] {9.0, 1.0, 5.0})).isEqualTo(5.0);
        assertThat(BenchCommand.median(new double[] {4.0, 1.0, 3.0, 10.0})).isEqualTo(3.5);
        assertThat(BenchCommand.median(new double[] {7.0})).isEqualTo(7.0);
    }

    @Test
    void eachFigureIsItsOwnMedianAndReceivedIsTheSmallestCount() {
        BenchCommand.Phase fast = new BenchCommand.Phase("batched-max", 0, 1000, 9000, 10, 40, 190);
        BenchCommand.Phase slow = new BenchCommand.Phase("batched-max", 0, 998, 7000, 30, 20, 230);
        BenchCommand.Phase mid = new BenchCommand.Phase("batched-max", 0, 1000, 8000, 20, 90, 200);

        BenchCommand.Phase m = BenchCommand.median(List.of(fast, slow, mid));

        assertThat(m).isEqualTo(new BenchCommand.Phase("batched-max", 0, 998, 8000, 20, 40, 200));
    }
}
