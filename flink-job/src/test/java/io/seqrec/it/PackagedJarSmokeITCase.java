package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped artifact as users run it: the shaded jar, started as its own JVM with real
 * command-line arguments against a real broker; the output topic is drained and checked. A normal
 * {@code run} over a few checkpoints and a short {@code demo} log no warning or error at all. Also
 * checks the command line refuses bad configuration and a broken model with a clear message and a
 * non-zero exit.
 */
class PackagedJarSmokeITCase {
    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    @BeforeAll
    static void createTopics() {
        KAFKA.createJobTopics(2, "smoke-in", "smoke-out", "smoke-dlq");
    }

    /** As users run it, plus one INFO line per completed checkpoint (as scripts/soak.sh runs). */
    private static ProcessBuilder seqrec(Path log, String... args) throws Exception {
        Path conf = TestPaths.repoRoot().resolve("flink-job/conf");
        return PackagedJar.seqrec(
                log,
                List.of(
                        conf.resolve("log4j2-cli.properties"),
                        conf.resolve("log4j2-checkpoints.properties")),
                tmp,
                args);
    }

    /** A log line at WARN or above in the launcher's layout ({@code HH:mm:ss LEVEL logger - }). */
    private static final Pattern WARNING =
            Pattern.compile("^\\d\\d:\\d\\d:\\d\\d (WARN|ERROR|FATAL) .*");

    /** Users read a WARN as trouble: a normal run has none. */
    private static void assertNoWarningOrError(Path log) throws Exception {
        List<String> lines = Files.readAllLines(log);
        assertThat(lines.stream().filter(l -> WARNING.matcher(l).matches()))
                .as("warnings and errors; the whole log:%n%s", String.join("\n", lines))
                .isEmpty();
    }

    private static void awaitLine(Path log, String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.readString(log).contains(text)) {
            assertThat(System.nanoTime()).as("'%s' in %s", text, log).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @Test
    void packagedJarRunsTheJobAgainstARealBroker() throws Exception {
        List<String[]> input = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (int i = 0; i < 300; i++) {
            String user = "smoke-user-" + (i % 30);
            String item = String.format("item-%05d", (i * 7) % 200);
            input.add(
                    new String[] {
                        user,
                        EventCodec.toJson(
                                new InputEvent("s" + i, user, item, EventType.VIEW, now + i))
                    });
        }
        input.add(new String[] {null, "{\"user_id\": broken"});
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "smoke-in", input);

        Path log = tmp.resolve("run.log");
        Process job =
                seqrec(
                                log,
                                "run",
                                "--bootstrap-servers",
                                KAFKA.bootstrapServers(),
                                "--input-topic",
                                "smoke-in",
                                "--output-topic",
                                "smoke-out",
                                "--dlq-topic",
                                "smoke-dlq",
                                "--model",
                                TestPaths.defaultModel().toString(),
                                "--starting-offsets",
                                "earliest",
                                "--parallelism",
                                "2",
                                "--checkpoint-dir",
                                tmp.resolve("ckpt").toUri().toString(),
                                "--checkpoint-interval",
                                "1s")
                        .start();
        try {
            List<ConsumerRecord<byte[], byte[]>> out =
                    KafkaTestSupport.drain(
                            KAFKA.bootstrapServers(),
                            "smoke-out",
                            r -> r.size() >= 300,
                            Duration.ofSeconds(120));
            List<ConsumerRecord<byte[], byte[]>> dead =
                    KafkaTestSupport.drain(
                            KAFKA.bootstrapServers(),
                            "smoke-dlq",
                            r -> r.size() >= 1,
                            Duration.ofSeconds(30));
            assertThat(job.isAlive())
                    .as("job process still running; log:%n%s", Files.readString(log))
                    .isTrue();
            Set<String> eventIds = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : out) {
                Recommendation rec = RecommendationCodec.fromJson(r.value());
                eventIds.add(rec.eventId());
                assertThat(rec.itemIds()).hasSize(10);
            }
            assertThat(out).hasSize(300);
            assertThat(eventIds).hasSize(300);
            assertThat(dead).hasSize(1);
            assertThat(KafkaTestSupport.header(dead.get(0), "seqrec.reason"))
                    .isEqualTo("invalid_json");
            awaitLine(log, "Completed checkpoint 3 ", Duration.ofSeconds(60));
            assertNoWarningOrError(log);
        } finally {
            job.destroy();
            if (!job.waitFor(30, TimeUnit.SECONDS)) {
                job.destroyForcibly();
            }
        }
    }

    @Test
    void shortDemoLogsNoWarningOrError() throws Exception {
        Path log = tmp.resolve("demo.log");
        Process demo =
                seqrec(
                                log,
                                "demo",
                                "--events",
                                "2000",
                                "--rate",
                                "2000",
                                "--model",
                                TestPaths.defaultModel().toString())
                        .start();
        assertThat(demo.waitFor(180, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
        assertThat(demo.exitValue()).as(Files.readString(log)).isZero();
        assertThat(Files.readString(log)).contains("SUMMARY events_in=2000");
        // The SUMMARY's fields are those the README shows, in its order.
        String summary =
                Files.readAllLines(log).stream()
                        .filter(l -> l.startsWith("SUMMARY "))
                        .findFirst()
                        .orElseThrow();
        String documented =
                Files.readAllLines(TestPaths.repoRoot().resolve("README.md")).stream()
                        .filter(l -> l.startsWith("SUMMARY events_in=N accepted="))
                        .findFirst()
                        .orElseThrow();
        assertThat(summaryKeys(summary)).isEqualTo(summaryKeys(documented));
        assertThat(summary).containsPattern(" purchase_evaluated=[1-9][0-9]*$");
        assertNoWarningOrError(log);
    }

    private static List<String> summaryKeys(String line) {
        List<String> keys = new ArrayList<>();
        for (String field : line.substring("SUMMARY ".length()).split(" ")) {
            keys.add(field.substring(0, field.indexOf('=')));
        }
        return keys;
    }

    @Test
    void producesSyntheticAndReplayedEventsAndTailsRecommendations() throws Exception {
        KAFKA.createTopics(1, "produce-synthetic", "produce-replay", "tail-in");
        Path log = tmp.resolve("produce.log");
        Process synthetic =
                seqrec(
                                log,
                                "produce",
                                "--bootstrap-servers",
                                KAFKA.bootstrapServers(),
                                "--topic",
                                "produce-synthetic",
                                "--source",
                                "synthetic",
                                "--events",
                                "200",
                                "--users",
                                "20",
                                "--seed",
                                "3")
                        .start();
        assertThat(synthetic.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(synthetic.exitValue()).as(Files.readString(log)).isZero();
        List<ConsumerRecord<byte[], byte[]>> events =
                KafkaTestSupport.drain(
                        KAFKA.bootstrapServers(),
                        "produce-synthetic",
                        r -> r.size() >= 200,
                        Duration.ofSeconds(30));
        assertThat(events).hasSize(200);
        io.seqrec.event.EventParser parser = new io.seqrec.event.EventParser(65536, 256, 3_600_000);
        for (ConsumerRecord<byte[], byte[]> r : events) {
            parser.parse(
                    new io.seqrec.event.RawRecord(
                            r.key(),
                            r.value(),
                            new io.seqrec.event.SourcePosition(
                                    r.topic(), r.partition(), r.offset()),
                            r.timestamp()));
        }

        Path ml1m = tmp.resolve("sequences.txt");
        Files.writeString(ml1m, "1 2 3\n4 5\n");
        Process replay =
                seqrec(
                                log,
                                "produce",
                                "--bootstrap-servers",
                                KAFKA.bootstrapServers(),
                                "--topic",
                                "produce-replay",
                                "--source",
                                ml1m.toString(),
                                "--format",
                                "ml-1m")
                        .start();
        assertThat(replay.waitFor(60, TimeUnit.SECONDS)).isTrue();
        List<ConsumerRecord<byte[], byte[]>> replayed =
                KafkaTestSupport.drain(
                        KAFKA.bootstrapServers(),
                        "produce-replay",
                        r -> r.size() >= 5,
                        Duration.ofSeconds(30));
        // users interleaved round-robin, each user's items in order
        assertThat(replayed.stream().map(r -> field(r.value(), "item_id")).toList())
                .containsExactly("1", "4", "2", "5", "3");

        List<String[]> recs = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            recs.add(
                    new String[] {
                        "u" + i,
                        new String(
                                RecommendationCodec.toJson(
                                        new Recommendation(
                                                "u" + i,
                                                "e" + i,
                                                i,
                                                i,
                                                i,
                                                "m1",
                                                i % 2 == 0
                                                        ? Recommendation.MODEL
                                                        : Recommendation.TRENDING,
                                                new String[] {"a", "b"},
                                                new float[] {2f, 1f},
                                                i % 2 == 0 ? "c" : null,
                                                0)))
                    });
        }
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "tail-in", recs);
        Path tailLog = tmp.resolve("tail.log");
        Process tail =
                seqrec(
                                tailLog,
                                "tail",
                                "--bootstrap-servers",
                                KAFKA.bootstrapServers(),
                                "--topic",
                                "tail-in",
                                "--from",
                                "earliest",
                                "--max",
                                "3")
                        .start();
        assertThat(tail.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(tailLog))
                .contains("u1 #1 after e1 [trending] -> a (2.00) b (1.00)")
                .contains("u2 #2 after e2 -> a (2.00) b (1.00)")
                .contains("u3 #3 after e3 [trending] -> a (2.00) b (1.00)");
    }

    private static String field(byte[] json, String name) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(json)
                    .get(name)
                    .asText();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void refusesInvalidConfigurationWithClearMessageAndExitStatus2() throws Exception {
        Path log = tmp.resolve("bad-config.log");
        Process p =
                seqrec(log, "run", "--bootstrap-servers", "127.0.0.1:1", "--batch-size", "zero")
                        .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(Files.readString(log)).contains("--batch-size 'zero': expected a whole number");
    }

    @Test
    void refusesBrokenModelNamingTheFileWithExitStatus3() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("broken-model"));
        try (var files = Files.list(TestPaths.defaultModel())) {
            for (Path f : files.toList()) {
                Files.copy(f, model.resolve(f.getFileName()));
            }
        }
        Files.delete(model.resolve("items.txt"));
        Path log = tmp.resolve("bad-model.log");
        Process p =
                seqrec(
                                log,
                                "run",
                                "--bootstrap-servers",
                                KAFKA.bootstrapServers(),
                                "--model",
                                model.toString())
                        .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(3);
        assertThat(Files.readString(log)).contains("model refused").contains("items.txt");
    }
}
