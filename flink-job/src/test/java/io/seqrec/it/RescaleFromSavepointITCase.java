package io.seqrec.it;

import static io.seqrec.it.RecoveryRuns.assertSameContents;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.config.JobConfig;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop with a savepoint, restore at parallelism 3, stop again, restore at parallelism 1: users'
 * sequences (with each step's first and strongest type, dedupe windows, last top-K, per-user {@code
 * seq}) move between subtasks with their key groups, so every recommendation after each restore
 * equals the one an uninterrupted run at parallelism 2 emits for the same event; with the shipped
 * model and with the type-aware test model.
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
        rescale("", INPUT);
    }

    /**
     * The same with the type-aware test model on events of every type: each step's strongest
     * behavior, which that model reads, moves with its user's key group too.
     */
    @Test
    void typedSequencesAndRecommendationsSurviveRescaling() throws Exception {
        rescale(
                "typed-",
                TypedEvents.input(120, 3000, 41, System.currentTimeMillis() - 600_000),
                "--model",
                TestPaths.typedModel().toString());
    }

    /**
     * Runs {@code input} uninterrupted at parallelism 2, and again in three parts at parallelism 2,
     * 3 and 1 with a savepoint in between, on topics named with {@code prefix}; the outputs must be
     * the same. {@code flags} are added to the job's.
     */
    private static void rescale(String prefix, List<String[]> input, String... flags)
            throws Exception {
        int events = input.size();
        // Uninterrupted, at parallelism 2.
        KAFKA.createJobTopics(
                PARTITIONS, prefix + "events-ref", prefix + "recs-ref", prefix + "dlq-ref");
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), prefix + "events-ref", input);
        JobClient reference =
                Jobs.start(
                        config(
                                prefix + "ref",
                                prefix + "events-ref",
                                prefix + "recs-ref",
                                prefix + "dlq-ref",
                                null,
                                flags),
                        2,
                        prefix + "ref");
        Output expected =
                Output.await(
                        KAFKA.bootstrapServers(),
                        prefix + "recs-ref",
                        prefix + "dlq-ref",
                        events,
                        Duration.ofMinutes(2));
        reference.cancel().get();
        assertThat(expected.distinctEvents() + expected.deadLetters()).isEqualTo(events);

        // The same input in three parts: parallelism 2, then 3, then 1, savepoints in between.
        KAFKA.createJobTopics(PARTITIONS, prefix + "events", prefix + "recs", prefix + "dlq");
        int[] parallelism = {2, 3, 1};
        int third = events / 3;
        String savepoint = null;
        for (int part = 0; part < 3; part++) {
            List<String[]> slice =
                    new ArrayList<>(
                            input.subList(part * third, part == 2 ? events : (part + 1) * third));
            KafkaTestSupport.produce(KAFKA.bootstrapServers(), prefix + "events", slice);
            JobClient job =
                    Jobs.start(
                            config(
                                    prefix + "rescale",
                                    prefix + "events",
                                    prefix + "recs",
                                    prefix + "dlq",
                                    savepoint,
                                    flags),
                            parallelism[part],
                            prefix + "rescale-p" + parallelism[part]);
            int soFar = part == 2 ? events : (part + 1) * third;
            Output partial =
                    Output.await(
                            KAFKA.bootstrapServers(),
                            prefix + "recs",
                            prefix + "dlq",
                            soFar,
                            Duration.ofMinutes(2));
            assertThat(partial.distinctEvents() + partial.deadLetters())
                    .as("part %d at parallelism %d", part, parallelism[part])
                    .isEqualTo(soFar);
            savepoint =
                    job.stopWithSavepoint(
                                    false,
                                    tmp.resolve(prefix + "savepoints").toUri().toString(),
                                    SavepointFormatType.CANONICAL)
                            .get();
        }

        Output rescaled =
                Output.await(
                        KAFKA.bootstrapServers(),
                        prefix + "recs",
                        prefix + "dlq",
                        events,
                        Duration.ofSeconds(10));
        assertThat(rescaled.records())
                .as("stop-with-savepoint neither drops nor repeats output")
                .hasSize(expected.records().size());
        Map<String, Recommendation> byEvent = rescaled.byEvent();
        assertSameContents(byEvent, expected.byEvent());
        assertThat(rescaled.deadLetters()).isEqualTo(expected.deadLetters());
    }

    private static JobConfig config(
            String name, String in, String out, String dlq, String fromSavepoint, String... flags) {
        String[] restore =
                fromSavepoint == null
                        ? new String[0]
                        : new String[] {"--from-savepoint", fromSavepoint};
        return RecoveryRuns.config(
                KAFKA.bootstrapServers(),
                name,
                in,
                out,
                dlq,
                "exactly-once",
                tmp.resolve("ckpt-" + name),
                Stream.of(restore, flags).flatMap(Arrays::stream).toArray(String[]::new));
    }
}
