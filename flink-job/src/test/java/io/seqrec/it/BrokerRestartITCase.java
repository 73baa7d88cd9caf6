package io.seqrec.it;

import static io.seqrec.it.RecoveryRuns.assertSame;
import static io.seqrec.it.RecoveryRuns.assertSameContents;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka broker (a child process with its own log directory) is killed with SIGKILL mid-stream
 * and restarted on the same port, a few seconds later while events keep coming, or only after the
 * job has failed and restarted more than ten times. The job rides both out (its tasks fail and
 * restart from the last checkpoint); compared with a failure-free run of the same input:
 * exactly-once loses and duplicates nothing, at-least-once loses nothing.
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

    /**
     * Restarts the job allowed in a row before this change: an outage that outlasts them left the
     * job FAILED, and nothing restarted it.
     */
    private static final int FORMER_RESTART_LIMIT = 10;

    private static Output referenceRun;

    /** The failure-free run every faulty run is compared with; made once. */
    private static synchronized Output reference() throws Exception {
        if (referenceRun == null) {
            referenceRun = run("at-least-once", false);
            assertThat(referenceRun.byEvent().size() + referenceRun.deadLetters())
                    .isEqualTo(EVENTS);
        }
        return referenceRun;
    }

    @Test
    void jobRecoversFromBrokerCrashWithoutLoss() throws Exception {
        Output reference = reference();
        Map<String, Recommendation> expected = reference.byEvent();

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

    private static Output run(String guarantee, boolean crashBroker) throws Exception {
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

    /**
     * The broker stays down until the job has restarted more than {@value FORMER_RESTART_LIMIT}
     * times with the job's default (unlimited) restart attempts; the backoff is shortened and the
     * Kafka clients time out within seconds so that this takes tens of seconds, not the minutes the
     * deployed defaults (500 ms doubling to 30 s, the clients' own timeouts) would. The job is
     * still running when the broker returns, and its exactly-once output is then complete.
     */
    @Test
    void jobKeepsRestartingThroughAnOutageLongerThanTheFormerLimitAndLosesNothing()
            throws Exception {
        Map<String, Recommendation> expected = reference().byEvent();
        int n = RUNS.incrementAndGet();
        String in = "events-" + n;
        String out = "recs-" + n;
        String dlq = "dlq-" + n;
        KAFKA.createJobTopics(PARALLELISM, in, out, dlq);
        // Clients that give up after a few seconds, so each attempt fails quickly while the
        // broker is away: the source's partition discovery (default.api.timeout.ms; what failed
        // every attempt in the runs here), blocked sends and transaction set-up (max.block.ms),
        // undelivered records (delivery.timeout.ms) and requests (request.timeout.ms).
        Path clientProperties = tmp.resolve("impatient-" + n + ".properties");
        Files.writeString(
                clientProperties,
                String.join(
                        "\n",
                        "max.block.ms=3000",
                        "request.timeout.ms=2000",
                        "delivery.timeout.ms=5000",
                        "default.api.timeout.ms=3000",
                        ""));
        JobClient job =
                Jobs.start(
                        RecoveryRuns.config(
                                KAFKA.bootstrapServers(),
                                "broker-outage-" + n,
                                in,
                                out,
                                dlq,
                                "exactly-once",
                                tmp.resolve("ckpt-" + n),
                                "--kafka-properties",
                                clientProperties.toString(),
                                "--restart-backoff",
                                "100ms",
                                "--restart-max-backoff",
                                "1s"),
                        PARALLELISM,
                        "broker-outage-" + n);
        // Half the input before the outage, read while the broker dies; the rest after it.
        int half = EVENTS / 2;
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), in, INPUT.subList(0, half));
        try (KafkaConsumer<byte[], byte[]> watch =
                RecoveryRuns.progressWatcher(KAFKA.bootstrapServers(), out, "watch-" + n)) {
            RecoveryRuns.awaitProgress(watch, 0, EVENTS / 6);
        }
        KAFKA.kill();
        long down = System.nanoTime();
        long restarts = awaitRestartsAbove(job, FORMER_RESTART_LIMIT, Duration.ofMinutes(8));
        Duration outage = Duration.ofNanos(System.nanoTime() - down);
        assertThat(job.getJobStatus().get().isTerminalState())
                .as("job gave up after %d restarts in %s", restarts, outage)
                .isFalse();
        KAFKA.restart();
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), in, INPUT.subList(half, EVENTS));
        Output recovered =
                RecoveryRuns.finish(
                        job,
                        CompletableFuture.completedFuture(null),
                        KAFKA.bootstrapServers(),
                        out,
                        dlq,
                        EVENTS);
        System.out.printf(
                "broker outage: %d restarts in %d s of outage%n", restarts, outage.toSeconds());
        assertThat(recovered.records())
                .as("exactly-once after %d restarts: one record per accepted event", restarts)
                .hasSize(expected.size());
        assertSameContents(recovered.byEvent(), expected);
        assertThat(recovered.deadLetters()).isEqualTo(reference().deadLetters());
    }

    /**
     * Polls the JobManager's {@code numRestarts} metric of {@code job} over the MiniCluster's REST
     * API until it exceeds {@code limit}, and returns it; fails if the job ends or time runs out.
     */
    private static long awaitRestartsAbove(JobClient job, int limit, Duration timeout)
            throws Exception {
        Configuration client = FLINK.getClientConfiguration();
        URI uri =
                URI.create(
                        "http://"
                                + client.get(RestOptions.ADDRESS)
                                + ":"
                                + client.get(RestOptions.PORT)
                                + "/jobs/"
                                + job.getJobID()
                                + "/metrics?get=numRestarts");
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        long restarts = 0;
        while (restarts <= limit && System.nanoTime() < deadline) {
            assertThat(job.getJobStatus().get().isTerminalState())
                    .as("job ended after %d restarts", restarts)
                    .isFalse();
            Thread.sleep(1_000);
            JsonNode metrics =
                    new ObjectMapper()
                            .readTree(
                                    http.send(
                                                    HttpRequest.newBuilder(uri).build(),
                                                    HttpResponse.BodyHandlers.ofString())
                                            .body());
            for (JsonNode m : metrics) {
                if (m.path("id").asText().equals("numRestarts")) {
                    restarts = Long.parseLong(m.path("value").asText());
                }
            }
        }
        assertThat(restarts).as("restarts within %s", timeout).isGreaterThan(limit);
        return restarts;
    }
}
