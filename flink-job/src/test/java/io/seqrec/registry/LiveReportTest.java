package io.seqrec.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.evaluation.LiveTotals;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Subtasks' live reports in the registry: written whole, read back, judged fresh or stale. */
class LiveReportTest {
    @TempDir Path tmp;

    private static final LiveReport REPORT =
            new LiveReport(
                    1,
                    2,
                    1_000,
                    61_000,
                    30_000,
                    Map.of(
                            "v1",
                            new LiveTotals(120, 30, 17.25, 11.5),
                            "v2",
                            new LiveTotals(0, 0, 0, 0)),
                    Map.of("v1", new LiveTotals(120, 9, 4.5, 2.75)));

    @Test
    void aReportReplacesTheSubtasksLastOneAndReadsBackEqual() throws Exception {
        ModelRegistry registry = ModelRegistry.open(tmp.toString());
        assertThat(registry.liveReports()).isEmpty();
        registry.writeLiveReport(new LiveReport(1, 2, 0, 1, 30_000, Map.of("v1", LiveTotals.NONE)));
        registry.writeLiveReport(REPORT);
        assertThat(registry.liveReports()).containsExactly(REPORT);
        try (var files = Files.list(tmp.resolve(ModelRegistry.LIVE_DIR))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactly("subtask-1.json");
        }
    }

    @Test
    void aBrokenFileIsSkippedNotFatal() throws Exception {
        ModelRegistry registry = ModelRegistry.open(tmp.toString());
        registry.writeLiveReport(REPORT);
        Files.writeString(tmp.resolve("live/subtask-0.json"), "{\"format_version\": 1}");
        Files.writeString(tmp.resolve("live/subtask-7.json"), "not json");
        assertThat(registry.liveReports()).containsExactly(REPORT);
        assertThatThrownBy(
                        () ->
                                LiveReport.fromJson(
                                        "{\"format_version\": 1, \"subtask\": -1}"
                                                .getBytes(StandardCharsets.UTF_8),
                                        "x"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("subtask must be a whole number >= 0");
    }

    @Test
    void aReportIsStaleAfterThreePollIntervalsAndAMinute() {
        long updated = REPORT.updatedMs();
        assertThat(REPORT.isFresh(updated + 3 * 30_000 + 60_000)).isTrue();
        assertThat(REPORT.isFresh(updated + 3 * 30_000 + 60_001)).isFalse();
    }
}
