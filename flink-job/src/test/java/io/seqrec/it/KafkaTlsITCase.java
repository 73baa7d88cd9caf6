package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.broker.EmbeddedKafkaBroker;
import io.seqrec.cli.CliRun;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
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
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka over TLS, with certificates made in the test by {@code keytool}: one broker with an SSL
 * listener that requires a client certificate (mutual TLS; the principal is the certificate's
 * subject) and a SASL_SSL listener (SCRAM over TLS). Clients verify the broker's host name (Kafka's
 * default, {@code ssl.endpoint.identification.algorithm=https}), against a certificate whose only
 * name is {@code IP:127.0.0.1}.
 *
 * <p>The job (the packaged jar, {@code run}) reads and writes over mutual TLS; {@code produce} and
 * {@code export-events} go over SASL_SSL and {@code tail} over mutual TLS, each given only {@code
 * --kafka-properties}. ({@code models status} reads the model registry, not Kafka.) A client with a
 * certificate the broker does not trust, without one, or asking for the broker by a name its
 * certificate does not carry, is refused, and {@code run} says so and exits 4.
 */
class KafkaTlsITCase {
    private static final String SCRAM_USER = "seqrec-tools";
    private static final String SCRAM_PASSWORD = "Tls-scram-pw-2b8e";
    private static final String IN = "tls-in";
    private static final String OUT = "tls-out";
    private static final String DLQ = "tls-dlq";
    private static final int EVENTS = 60;

    @RegisterExtension
    @Order(1)
    static final TestCertificates CERTS = new TestCertificates();

    @RegisterExtension
    @Order(2)
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension()
                    .withBrokerProperties(
                            Map.ofEntries(
                                    Map.entry(
                                            "listener.security.protocol.map",
                                            "CLIENT:SSL,CLIENT2:SASL_SSL,INTERNAL:PLAINTEXT,"
                                                    + "CONTROLLER:PLAINTEXT"),
                                    Map.entry("ssl.keystore.type", "PKCS12"),
                                    Map.entry(
                                            "ssl.keystore.location",
                                            CERTS.brokerKeystore().toString()),
                                    Map.entry("ssl.keystore.password", CERTS.password()),
                                    Map.entry("ssl.key.password", CERTS.password()),
                                    Map.entry("ssl.truststore.type", "PKCS12"),
                                    Map.entry(
                                            "ssl.truststore.location",
                                            CERTS.truststore().toString()),
                                    Map.entry("ssl.truststore.password", CERTS.password()),
                                    Map.entry(
                                            "listener.name."
                                                    + EmbeddedKafkaBroker.CLIENT_LISTENER
                                                            .toLowerCase()
                                                    + ".ssl.client.auth",
                                            "required"),
                                    Map.entry(
                                            "listener.name.client2.sasl.enabled.mechanisms",
                                            "SCRAM-SHA-256"),
                                    Map.entry(
                                            "listener.name.client2.scram-sha-256.sasl.jaas.config",
                                            "org.apache.kafka.common.security.scram.ScramLoginModule"
                                                + " required;")));

    @TempDir static Path tmp;

    @BeforeAll
    static void createTopicsAndUser() throws Exception {
        KAFKA.createJobTopics(2, IN, OUT, DLQ);
        Properties probe = scramOverTls();
        probe.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.secondBootstrapServers());
        KafkaTestSupport.addScramUser(
                KAFKA.internalBootstrapServers(), SCRAM_USER, SCRAM_PASSWORD, probe);
    }

    private static Properties scramOverTls() {
        Properties p = KafkaTestSupport.scramClient("SASL_SSL", SCRAM_USER, SCRAM_PASSWORD);
        p.putAll(CERTS.trusting("SASL_SSL"));
        return p;
    }

    private static Path mutualTls() throws Exception {
        return KafkaTestSupport.writeProperties(
                tmp.resolve("mtls.properties"), CERTS.presenting("SSL", CERTS.clientKeystore()));
    }

    private static String[] runArgs(String bootstrap, Path kafkaProperties) {
        return new String[] {
            "run",
            "--bootstrap-servers",
            bootstrap,
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
    void jobAndToolsWorkOverMutualTlsAndScramOverTls() throws Exception {
        Path events = tmp.resolve("events.jsonl");
        List<String> lines = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (int i = 0; i < EVENTS; i++) {
            String user = "tls-user-" + (i % 6);
            lines.add(
                    EventCodec.toJson(
                            new InputEvent(
                                    "t" + i,
                                    user,
                                    "item-" + String.format("%05d", (i * 7) % 200),
                                    EventType.VIEW,
                                    now + i)));
        }
        Files.write(events, lines);
        Path scramFile =
                KafkaTestSupport.writeProperties(tmp.resolve("scram.properties"), scramOverTls());

        CliRun produced =
                CliRun.of(
                        "produce",
                        "--bootstrap-servers",
                        KAFKA.secondBootstrapServers(),
                        "--kafka-properties",
                        scramFile.toString(),
                        "--topic",
                        IN,
                        "--source",
                        events.toString());
        assertThat(produced.status()).as(produced.err()).isZero();
        assertThat(produced.out()).contains("produced " + EVENTS + " records to " + IN);

        Path log = tmp.resolve("tls-run.log");
        Process job =
                PackagedJar.seqrec(
                                log,
                                TestPaths.repoRoot()
                                        .resolve("flink-job/conf/log4j2-cli.properties"),
                                tmp,
                                runArgs(KAFKA.bootstrapServers(), mutualTls()))
                        .start();
        try {
            List<ConsumerRecord<byte[], byte[]>> out =
                    KafkaTestSupport.drain(
                            KAFKA.internalBootstrapServers(),
                            OUT,
                            r -> r.size() >= EVENTS,
                            Duration.ofSeconds(180));
            assertThat(job.isAlive())
                    .as("job process still running; log:%n%s", Files.readString(log))
                    .isTrue();
            Set<String> eventIds = new HashSet<>();
            out.forEach(r -> eventIds.add(RecommendationCodec.fromJson(r.value()).eventId()));
            assertThat(eventIds).as("log:%n%s", Files.readString(log)).hasSize(EVENTS);
        } finally {
            job.destroy();
            if (!job.waitFor(30, TimeUnit.SECONDS)) {
                job.destroyForcibly();
            }
        }

        CliRun tail =
                CliRun.of(
                        "tail",
                        "--bootstrap-servers",
                        KAFKA.bootstrapServers(),
                        "--kafka-properties",
                        mutualTls().toString(),
                        "--topic",
                        OUT,
                        "--from",
                        "earliest",
                        "--max",
                        Integer.toString(EVENTS));
        assertThat(tail.status()).as(tail.err()).isZero();
        assertThat(tail.out().lines().filter(l -> l.startsWith("tls-user-"))).hasSize(EVENTS);

        Path exported = tmp.resolve("exported.jsonl");
        CliRun export =
                CliRun.of(
                        "export-events",
                        "--bootstrap-servers",
                        KAFKA.secondBootstrapServers(),
                        "--kafka-properties",
                        scramFile.toString(),
                        "--topic",
                        IN,
                        "--from-timestamp",
                        "0",
                        "--out",
                        exported.toString());
        assertThat(export.status()).as(export.err()).isZero();
        assertThat(Files.readAllLines(exported)).hasSize(EVENTS);
    }

    @Test
    void runRefusesABrokerThatDoesNotTrustTheClientCertificate() throws Exception {
        assertRunRefusedAtHandshake(
                KAFKA.bootstrapServers(),
                CERTS.presenting("SSL", CERTS.strangerKeystore()),
                "untrusted.properties");
    }

    @Test
    void runRefusesWithoutAClientCertificate() throws Exception {
        assertRunRefusedAtHandshake(
                KAFKA.bootstrapServers(), CERTS.trusting("SSL"), "no-cert.properties");
    }

    /** The certificate names 127.0.0.1 only: asking for "localhost" fails hostname verification. */
    @Test
    void runRefusesABrokerWhoseCertificateDoesNotNameTheHost() throws Exception {
        String port = KAFKA.bootstrapServers().substring("127.0.0.1:".length());
        assertRunRefusedAtHandshake(
                "localhost:" + port,
                CERTS.presenting("SSL", CERTS.clientKeystore()),
                "by-name.properties");
    }

    private static void assertRunRefusedAtHandshake(
            String bootstrap, Properties settings, String fileName) throws Exception {
        Path file = KafkaTestSupport.writeProperties(tmp.resolve(fileName), settings);
        CliRun run = CliRun.of(runArgs(bootstrap, file));
        assertThat(run.status()).as(run.err()).isEqualTo(4);
        assertThat(run.err())
                .contains("seqrec run: Kafka at " + bootstrap)
                .contains("TLS handshake with the broker failed")
                .contains("ssl.truststore")
                .doesNotContain(CERTS.password());
    }
}
