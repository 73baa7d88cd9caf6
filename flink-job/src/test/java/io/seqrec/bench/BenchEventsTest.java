package io.seqrec.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.model.ModelArtifact;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The events {@code seqrec bench} sends when no data file is given. */
class BenchEventsTest {

    private static BenchSettings synthetic(long events) {
        return new BenchSettings(
                events,
                "synthetic",
                null,
                50,
                42,
                null,
                false,
                null,
                null,
                1,
                null,
                0,
                false,
                BenchSettings.History.REPLAY);
    }

    @Test
    void syntheticEventsLandOnTheCatalogOfAModelThatKnowsNoneOfTheGeneratorsIds() throws Exception {
        ModelArtifact ml1mShaped =
                ModelArtifact.load(TestPaths.repoRoot().resolve("model/artifacts/bench-ml1m"));

        List<BenchEvent> events = BenchEvents.load(synthetic(3000), ml1mShaped);

        assertThat(events).hasSize(3000);
        assertThat(events).allMatch(e -> ml1mShaped.indexOf(e.itemId()) != 0);
        // Spread over the catalog as the generator spreads its own items, not piled on a few.
        assertThat(events.stream().map(BenchEvent::itemId).distinct().count()).isGreaterThan(300);
    }

    @Test
    void aWarmWorkloadStreamsEachMeasuredUsersFirstStepsBeforeAnyMeasuredEvent() {
        List<BenchEvent> stream = new java.util.ArrayList<>();
        // Users a and b interleaved, 5 events each; c has 2 events only.
        for (int i = 0; i < 5; i++) {
            stream.add(new BenchEvent("a", "a" + i));
            stream.add(new BenchEvent("b", "b" + i));
            if (i < 2) {
                stream.add(new BenchEvent("c", "c" + i));
            }
        }

        BenchEvents.Workload w = BenchEvents.warm(stream, 3, 3);

        // Each user's first 3 are history; c never gets past them, so it takes no part at all.
        assertThat(w.history())
                .extracting(BenchEvent::itemId)
                .containsExactly("a0", "b0", "a1", "b1", "a2", "b2");
        // The measured events after them, in stream order, cut at 3.
        assertThat(w.measured()).extracting(BenchEvent::itemId).containsExactly("a3", "b3", "a4");
    }

    @Test
    void theShippedModelGetsTheGeneratorsOwnIds() throws Exception {
        ModelArtifact shipped = ModelArtifact.load(TestPaths.defaultModel());

        List<BenchEvent> events = BenchEvents.load(synthetic(500), shipped);

        assertThat(events).allMatch(e -> e.itemId().startsWith("item-"));
    }
}
