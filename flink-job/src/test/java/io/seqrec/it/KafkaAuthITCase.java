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
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job against a broker that requires SASL/SCRAM-SHA-256 over SASL_PLAINTEXT on its client
 * listener, run as users run it: the packaged jar in its own JVM, {@code run --kafka-properties
 * FILE}, logging at INFO for every logger (Kafka's client configuration dumps included). With the
 * right password it reads, recommends and writes through the secured listener (the only one it is
 * given); with a wrong one {@code run} stops at once with a message naming the brokers and the
 * authentication failure. Neither password ever appears in the output.
 *
 * <p>Test data goes in and out through the broker's PLAINTEXT internal listener, so only the job
 * needs credentials.
 */
class KafkaAuthITCase {
    private static final String USER = "seqrec-job";
    private static final String PASSWORD = "S3cr3t-pw-4f9a1c";
    private static final String WRONG_PASSWORD = "Wr0ng-pw-77b1e0";
    private static final String IN = "auth-in";
    private static final String OUT = "auth-out";
    private static final String DLQ = "auth-dlq";

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension()
                    .withBrokerProperties(
                            Map.of(
                                    "listener.security.protocol.map",
                                    "CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
                                    "listener.name.client.sasl.enabled.mechanisms",
                                    "SCRAM-SHA-256",
                                    "listener.name.client.scram-sha-256.sasl.jaas.config",
                                    "org.apache.kafka.common.security.scram.ScramLoginModule"
                                            + " required;"));

    @TempDir static Path tmp;

    @BeforeAll
    static void createTopicsAndUser() throws Exception {
        KAFKA.createJobTopics(2, IN, OUT, DLQ);
        Properties probe = clientProperties(PASSWORD);
        probe.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        KafkaTestSupport.addScramUser(KAFKA.internalBootstrapServers(), USER, PASSWORD, probe);
    }

    private static Properties clientProperties(String password) {
        return KafkaTestSupport.scramClient("SASL_PLAINTEXT", USER, password);
    }

    private static Path propertiesFile(String name, String password) throws Exception {
        return KafkaTestSupport.writeProperties(tmp.resolve(name), clientProperties(password));
    }

    /** INFO for every logger, so whatever the job and its Kafka clients log is checked. */
    private static Path verboseLogging() throws Exception {
        Path file = tmp.resolve("log4j2-info.properties");
        Files.writeString(
                file,
                String.join(
                        "\n",
                        "rootLogger.level = INFO",
                        "rootLogger.appenderRef.console.ref = console",
                        "appender.console.type = Console",
                        "appender.console.name = console",
                        "appender.console.layout.type = PatternLayout",
                        "appender.console.layout.pattern = %d{HH:mm:ss} %-5p %c{1} - %m%n%ex",
                        ""));
        return file;
    }

    private static ProcessBuilder seqrec(Path log, String... args) throws Exception {
        return PackagedJar.seqrec(log, verboseLogging(), tmp, args);
    }

    private static String[] runArgs(Path kafkaProperties) {
        return new String[] {
            "run",
            "--bootstrap-servers",
            KAFKA.bootstrapServers(),
            "--kafka-properties",
            kafkaProperties.toString(),
            "--input-topic",
            IN,
            "--output-topic",
            OUT,
            "--dlq-topic",
            DLQ,
            "--model",
            TestPaths.defaultModel().toString(),
            "--starting-offsets",
            "earliest",
            "--parallelism",
            "2",
            "--checkpoint-dir",
            tmp.resolve("ckpt").toUri().toString()
        };
    }

    @Test
    void jobAuthenticatesThroughKafkaPropertiesAndNeverLogsThePassword() throws Exception {
        List<String[]> input = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (int i = 0; i < 100; i++) {
            String user = "auth-user-" + (i % 10);
            input.add(
                    new String[] {
                        user,
                        EventCodec.toJson(
                                new InputEvent(
                                        "a" + i,
                                        user,
                                        "item-" + String.format("%05d", (i * 7) % 200),
                                        EventType.VIEW,
                                        now + i))
                    });
        }
        input.add(new String[] {"auth-user-0", "{\"user_id\": broken"});
        KafkaTestSupport.produce(KAFKA.internalBootstrapServers(), IN, input);

        Path log = tmp.resolve("auth-run.log");
        Process job = seqrec(log, runArgs(propertiesFile("client.properties", PASSWORD))).start();
        try {
            List<ConsumerRecord<byte[], byte[]>> out =
                    KafkaTestSupport.drain(
                            KAFKA.internalBootstrapServers(),
                            OUT,
                            r -> r.size() >= 100,
                            Duration.ofSeconds(180));
            // The dead-letter producer authenticated as well.
            List<ConsumerRecord<byte[], byte[]>> dead =
                    KafkaTestSupport.drain(
                            KAFKA.internalBootstrapServers(),
                            DLQ,
                            r -> r.size() >= 1,
                            Duration.ofSeconds(30));
            assertThat(job.isAlive())
                    .as("job process still running; log:%n%s", Files.readString(log))
                    .isTrue();
            Set<String> eventIds = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : out) {
                Recommendation rec = RecommendationCodec.fromJson(r.value());
                eventIds.add(rec.eventId());
            }
            assertThat(eventIds).as("log:%n%s", Files.readString(log)).hasSize(100);
            assertThat(dead).hasSize(1);
        } finally {
            job.destroy();
            if (!job.waitFor(30, TimeUnit.SECONDS)) {
                job.destroyForcibly();
            }
        }
        String output = Files.readString(log);
        assertThat(output)
                .as("the start-up check logged the settings it used, secrets hidden")
                .contains("Kafka client settings for " + KAFKA.bootstrapServers())
                .contains("sasl.jaas.config=[hidden]");
        assertThat(output)
                .as("Kafka's own client configuration dumps were captured (INFO), masked")
                .contains("sasl.jaas.config = [hidden]");
        assertThat(output).doesNotContain(PASSWORD);
    }

    @Test
    void wrongPasswordFailsFastNamingTheBrokersAndTheAuthenticationFailure() throws Exception {
        Path log = tmp.resolve("auth-wrong.log");
        Process run =
                seqrec(log, runArgs(propertiesFile("wrong.properties", WRONG_PASSWORD))).start();
        assertThat(run.waitFor(90, TimeUnit.SECONDS)).as("run gave up on its own").isTrue();
        String output = Files.readString(log);
        assertThat(run.exitValue()).as(output).isEqualTo(4);
        assertThat(output)
                .contains("seqrec run: Kafka at " + KAFKA.bootstrapServers())
                .contains("authentication failed")
                .doesNotContain(WRONG_PASSWORD)
                .doesNotContain(PASSWORD);
    }
}
