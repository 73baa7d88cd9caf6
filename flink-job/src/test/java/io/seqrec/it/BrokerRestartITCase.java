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
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka broker (a child process with its own log directory) is killed with SIGKILL mid-stream
 * and restarted on the same port a few seconds later, while events keep coming. The job rides it
 * out (its tasks fail and restart from the last checkpoint); compared with a failure-free run of
 * the same input: exactly-once loses and duplicates nothing, at-least-once loses nothing.
 */
class BrokerRestartITCase {
    private static final int PARALLELISM = 2;
    private static final int EVENTS = 4000;

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension().asChildProcess();

    @TempDir static Path tmp;
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static final List<String[]> INPUT = RecoveryRuns.syntheticInput(150, EVENTS, 23);

    @Test
    void jobRecoversFromBrokerCrashWithoutLoss() throws Exception {
        Output reference = run("at-least-once", false);
        Map<String, Recommendation> expected = reference.byEvent();
        assertThat(expected.size() + reference.deadLetters()).isEqualTo(EVENTS);

        Output exactlyOnce = run("exactly-once", true);
        assertThat(exactlyOnce.records())
                .as("exactly-once: one record per accepted event")
                .hasSize(expected.size());
        assertSameContents(exactlyOnce.byEvent(), expected);
        assertThat(exactlyOnce.deadLetters()).isEqualTo(reference.deadLetters());

        Output atLeastOnce = run("at-least-once", true);
        assertThat(atLeastOnce.byEvent().keySet())
                .as("at-least-once: none missing")
                .isEqualTo(expected.keySet());
        for (Recommendation r : atLeastOnce.records()) {
            assertSame(r, expected.get(r.eventId()));
        }
    }

    private Output run(String guarantee, boolean crashBroker) throws Exception {
        int n = RUNS.incrementAndGet();
        String in = "events-" + n;
        String out = "recs-" + n;
        String dlq = "dlq-" + n;
        KAFKA.createJobTopics(PARALLELISM, in, out, dlq);
        JobClient job =
                Jobs.start(
                        RecoveryRuns.config(
                                KAFKA.bootstrapServers(),
                                "broker-restart-" + n,
                                in,
                                out,
                                dlq,
                                guarantee,
                                tmp.resolve("ckpt-" + n)),
                        PARALLELISM,
                        "broker-restart-" + guarantee + "-" + n);
        // The producer keeps sending through the outage: it retries until the broker is back.
        CompletableFuture<Void> producing =
                RecoveryRuns.produceInBackground(KAFKA.bootstrapServers(), in, INPUT, 800);
        if (crashBroker) {
            try (KafkaConsumer<byte[], byte[]> watch =
                    RecoveryRuns.progressWatcher(KAFKA.bootstrapServers(), out, "watch-" + n)) {
                RecoveryRuns.awaitProgress(watch, 0, EVENTS / 3);
            }
            KAFKA.kill();
            Thread.sleep(3_000);
            KAFKA.restart();
        }
        return RecoveryRuns.finish(job, producing, KAFKA.bootstrapServers(), out, dlq, EVENTS);
    }
}
