package io.seqrec.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.trending.TrendingSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The agreement measurement on streams whose answer is known. */
class TrendingAgreementTest {

    @Test
    void aStreamWithAClearTopAgreesEverywhereOneWithoutOneDoesNot() {
        // Items 0-9 take half the interactions, in fixed proportions; the rest spread over 5,000.
        Random random = new Random(1);
        List<BenchEvent> clear = new ArrayList<>();
        List<BenchEvent> flat = new ArrayList<>();
        for (int i = 0; i < 40_000; i++) {
            String user = "u" + random.nextInt(2_000);
            int item = random.nextBoolean() ? random.nextInt(10) : 10 + random.nextInt(5_000);
            clear.add(new BenchEvent(user, "i" + item));
            flat.add(new BenchEvent(user, "i" + random.nextInt(200)));
        }
        TrendingSettings settings = new TrendingSettings(2_000, 3_600_000);
        List<TrendingAgreement.Result> onClear =
                TrendingAgreement.measure(clear, List.of(1, 4), settings, 100, 10, 2000);
        assertThat(onClear)
                .extracting(TrendingAgreement.Result::name)
                .containsExactly(
                        "one sketch, every event",
                        "per subtask, parallelism 1",
                        "per subtask, parallelism 4");
        assertThat(onClear).allSatisfy(r -> assertThat(r.minOverlap()).isEqualTo(1.0));
        assertThat(onClear.get(2).lists()).isEqualTo(4 * onClear.get(1).lists());
        // 200 equally popular items: any top-10 is noise, per subtask more than globally.
        List<TrendingAgreement.Result> onFlat =
                TrendingAgreement.measure(flat, List.of(4), settings, 100, 10, 2000);
        assertThat(onFlat.get(1).meanOverlap()).isLessThan(0.5);
    }
}
