package io.seqrec.it;

import static io.seqrec.it.RecoveryRuns.assertSame;
import static io.seqrec.it.RecoveryRuns.assertSameContents;
import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output through failures: the task manager running the job is terminated twice mid-stream (after N
 * and 2N records reached the output topic, committed or not), a new one takes over, and the job
 * restores from its last checkpoint. Compared with a failure-free run of the same input:
 *
 * <ul>
 *   <li>exactly-once: the read_committed output holds exactly one record per accepted event, none
 *       missing, none duplicated, contents identical;
 *   <li>at-least-once: none missing; every repeat is identical to the original (same {@code seq}),
 *       so consumers can drop repeats by {@code seq}.
 * </ul>
 */
class ExactlyOnceRecoveryITCase {
    private static final int PARALLELISM = 2;
    private static final int EVENTS = 6000;
    private static final int FAIL_EVERY = 1500;

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;
    private static final AtomicInteger RUNS = new AtomicInteger();
    // MiniCluster keeps terminated task managers in its list: the live one is the newest.
    private static final AtomicInteger LIVE_TASK_MANAGER = new AtomicInteger();
    private static final List<String[]> INPUT = RecoveryRuns.syntheticInput(200, EVENTS, 17);

    @Test
    void recoversFromTwoTaskManagerFailuresWithoutLossOrDuplicates(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        Output reference = run("at-least-once", cluster, 0);
        Map<String, Recommendation> expected = reference.byEvent();
        assertThat(reference.records()).hasSize(expected.size());
        assertThat(expected.size() + reference.deadLetters()).isEqualTo(EVENTS);

        Output exactlyOnce = run("exactly-once", cluster, 2);
        assertThat(exactlyOnce.records())
                .as("exactly-once: one record per accepted event")
                .hasSize(expected.size());
        assertSameContents(exactlyOnce.byEvent(), expected);
        assertThat(exactlyOnce.deadLetters()).isEqualTo(reference.deadLetters());

        Output atLeastOnce = run("at-least-once", cluster, 2);
        assertThat(atLeastOnce.byEvent()).as("at-least-once: none missing").hasSameSizeAs(expected);
        for (Recommendation r : atLeastOnce.records()) {
            assertSame(r, expected.get(r.eventId()));
        }
        assertThat(atLeastOnce.records().size())
                .as("the failures did cause replays")
                .isGreaterThan(expected.size());
    }

    private Output run(String guarantee, MiniCluster cluster, int failures) throws Exception {
        int n = RUNS.incrementAndGet();
        String in = "events-" + n;
        String out = "recs-" + n;
        String dlq = "dlq-" + n;
        KAFKA.createJobTopics(PARALLELISM, in, out, dlq);
        JobClient job =
                Jobs.start(
                        RecoveryRuns.config(
                                KAFKA.bootstrapServers(),
                                "recovery-" + n,
                                in,
                                out,
                                dlq,
                                guarantee,
                                tmp.resolve("ckpt-" + n)),
                        PARALLELISM,
                        "recovery-" + guarantee + "-" + n);
        // A steady stream of several seconds, not one burst, so the failures land mid-stream.
        CompletableFuture<Void> producing =
                RecoveryRuns.produceInBackground(KAFKA.bootstrapServers(), in, INPUT, 1000);
        try (KafkaConsumer<byte[], byte[]> watch =
                RecoveryRuns.progressWatcher(KAFKA.bootstrapServers(), out, "watch-" + n)) {
            long seen = 0;
            for (int f = 1; f <= failures; f++) {
                seen = RecoveryRuns.awaitProgress(watch, seen, (long) f * FAIL_EVERY);
                cluster.terminateTaskManager(LIVE_TASK_MANAGER.getAndIncrement()).get();
                cluster.startTaskManager();
            }
        }
        return RecoveryRuns.finish(job, producing, KAFKA.bootstrapServers(), out, dlq, EVENTS);
    }
}
