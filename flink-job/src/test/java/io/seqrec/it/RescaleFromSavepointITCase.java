package io.seqrec.it;

import static io.seqrec.it.RecoveryRuns.assertSameContents;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.config.JobConfig;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop with a savepoint, restore at parallelism 3, stop again, restore at parallelism 1: users'
 * sequences (and dedupe windows, last top-K, per-user {@code seq}) move between subtasks with their
 * key groups, so every recommendation after each restore equals the one an uninterrupted run at
 * parallelism 2 emits for the same event.
 */
class RescaleFromSavepointITCase {
    private static final int EVENTS = 4500;
    private static final int PARTITIONS = 3;

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(3);

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;
    private static final List<String[]> INPUT = RecoveryRuns.syntheticInput(150, EVENTS, 31);

    @Test
    void sequencesAndRecommendationsSurviveRescaling() throws Exception {
        // Uninterrupted, at parallelism 2.
        KAFKA.createJobTopics(PARTITIONS, "events-ref", "recs-ref", "dlq-ref");
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "events-ref", INPUT);
        JobClient reference =
                Jobs.start(config("ref", "events-ref", "recs-ref", "dlq-ref", null), 2, "ref");
        Output expected =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "recs-ref",
                        "dlq-ref",
                        EVENTS,
                        Duration.ofMinutes(2));
        reference.cancel().get();
        assertThat(expected.distinctEvents() + expected.deadLetters()).isEqualTo(EVENTS);

        // The same input in three parts: parallelism 2, then 3, then 1, savepoints in between.
        KAFKA.createJobTopics(PARTITIONS, "events", "recs", "dlq");
        int[] parallelism = {2, 3, 1};
        int third = EVENTS / 3;
        String savepoint = null;
        for (int part = 0; part < 3; part++) {
            List<String[]> slice =
                    new ArrayList<>(
                            INPUT.subList(part * third, part == 2 ? EVENTS : (part + 1) * third));
            KafkaTestSupport.produce(KAFKA.bootstrapServers(), "events", slice);
            JobClient job =
                    Jobs.start(
                            config("rescale", "events", "recs", "dlq", savepoint),
                            parallelism[part],
                            "rescale-p" + parallelism[part]);
            int soFar = part == 2 ? EVENTS : (part + 1) * third;
            Output partial =
                    Output.await(
                            KAFKA.bootstrapServers(), "recs", "dlq", soFar, Duration.ofMinutes(2));
            assertThat(partial.distinctEvents() + partial.deadLetters())
                    .as("part %d at parallelism %d", part, parallelism[part])
                    .isEqualTo(soFar);
            savepoint =
                    job.stopWithSavepoint(
                                    false,
                                    tmp.resolve("savepoints").toUri().toString(),
                                    SavepointFormatType.CANONICAL)
                            .get();
        }

        Output rescaled =
                Output.await(
                        KAFKA.bootstrapServers(), "recs", "dlq", EVENTS, Duration.ofSeconds(10));
        assertThat(rescaled.records())
                .as("stop-with-savepoint neither drops nor repeats output")
                .hasSize(expected.records().size());
        Map<String, Recommendation> byEvent = rescaled.byEvent();
        assertSameContents(byEvent, expected.byEvent());
        assertThat(rescaled.deadLetters()).isEqualTo(expected.deadLetters());
    }

    private static JobConfig config(
            String name, String in, String out, String dlq, String fromSavepoint) {
        return fromSavepoint == null
                ? RecoveryRuns.config(
                        KAFKA.bootstrapServers(),
                        name,
                        in,
                        out,
                        dlq,
                        "exactly-once",
                        tmp.resolve("ckpt-" + name))
                : RecoveryRuns.config(
                        KAFKA.bootstrapServers(),
                        name,
                        in,
                        out,
                        dlq,
                        "exactly-once",
                        tmp.resolve("ckpt-" + name),
                        "--from-savepoint",
                        fromSavepoint);
    }
}
