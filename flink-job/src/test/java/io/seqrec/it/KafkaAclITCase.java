package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.cli.CliRun;
import io.seqrec.config.JobConfig;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.event.RecommendationCodec;
import io.seqrec.kafka.JobAcls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Least privilege against KRaft's {@code StandardAuthorizer}: the job's principal ({@code
 * User:}{@value #USER}, SASL/SCRAM) holds exactly the rules {@link JobAcls} lists for an
 * exactly-once job, and nothing else; everything else is denied ({@code
 * allow.everyone.if.no.acl.found} stays false). With them the packaged job reads, recommends,
 * dead-letters and commits its offsets, and its exactly-once output holds every event once. With
 * any one of them taken away (each in turn), {@code run} stops before submitting, exits 4 and names
 * the rule that is missing.
 *
 * <p>The job runs first, so the rules are then taken from a deployment whose group and
 * transactional ids exist, as when a running job's permissions change.
 *
 * <p>Test data and administration go through the broker's PLAINTEXT internal listener, whose {@code
 * User:ANONYMOUS} is the super user (as the broker's own inter-broker traffic needs).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaAclITCase {
    private static final String USER = "seqrec-job";
    private static final String PRINCIPAL = "User:" + USER;
    private static final String PASSWORD = "Acl-pw-5c1d9e";
    private static final String IN = "acl-in";
    private static final String OUT = "acl-out";
    private static final String DLQ = "acl-dlq";
    private static final String GROUP = "acl-group";
    private static final int EVENTS = 50;

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
                                            + " required;",
                                    "authorizer.class.name",
                                    "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                                    "super.users",
                                    "User:ANONYMOUS"));

    @TempDir static Path tmp;

    private static Admin admin;
    private static String[] runArgs;
    private static List<JobAcls.Grant> grants;

    @BeforeAll
    static void createTopicsUserAndAcls() throws Exception {
        KAFKA.createJobTopics(2, IN, OUT, DLQ);
        Properties client = KafkaTestSupport.scramClient("SASL_PLAINTEXT", USER, PASSWORD);
        Path clientFile = KafkaTestSupport.writeProperties(tmp.resolve("job.properties"), client);
        Properties probe = new Properties();
        probe.putAll(client);
        probe.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        KafkaTestSupport.addScramUser(KAFKA.internalBootstrapServers(), USER, PASSWORD, probe);

        runArgs =
                new String[] {
                    "run",
                    "--bootstrap-servers",
                    KAFKA.bootstrapServers(),
                    "--kafka-properties",
                    clientFile.toString(),
                    "--input-topic",
                    IN,
                    "--output-topic",
                    OUT,
                    "--dlq-topic",
                    DLQ,
                    "--group-id",
                    GROUP,
                    "--delivery-guarantee",
                    "exactly-once",
                    "--transactional-id-prefix",
                    "acl-job",
                    "--checkpoint-interval",
                    "2s",
                    "--model",
                    TestPaths.defaultModel().toString(),
                    "--starting-offsets",
                    "earliest",
                    "--parallelism",
                    "2",
                    "--checkpoint-dir",
                    tmp.resolve("ckpt").toUri().toString()
                };
        grants = JobAcls.of(JobConfig.fromArgs(Arrays.copyOfRange(runArgs, 1, runArgs.length)));
        Properties adminSettings = new Properties();
        adminSettings.put(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.internalBootstrapServers());
        admin = Admin.create(adminSettings);
        grantOnly(grants);
    }

    @AfterAll
    static void closeAdmin() {
        if (admin != null) {
            admin.close();
        }
    }

    /**
     * Makes {@code wanted} the principal's only rules, and returns once the broker enforces them:
     * the controller commits ACL changes before the broker's authorizer has applied them, and the
     * broker answers DescribeAcls from that authorizer.
     */
    private static void grantOnly(List<JobAcls.Grant> wanted) throws Exception {
        Set<AclBinding> target = new HashSet<>();
        wanted.forEach(g -> target.add(g.binding(PRINCIPAL)));
        Set<AclBinding> present = new HashSet<>(aclsOnBroker());
        List<AclBinding> extra = present.stream().filter(b -> !target.contains(b)).toList();
        if (!extra.isEmpty()) {
            admin.deleteAcls(extra.stream().map(AclBinding::toFilter).toList())
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        List<AclBinding> absent = target.stream().filter(b -> !present.contains(b)).toList();
        if (!absent.isEmpty()) {
            admin.createAcls(absent).all().get(30, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!new HashSet<>(aclsOnBroker()).equals(target)) {
            assertThat(System.nanoTime()).as("ACLs applied by the broker").isLessThan(deadline);
            Thread.sleep(50); // back-off between polls, bounded by the deadline
        }
    }

    private static List<AclBinding> aclsOnBroker() throws Exception {
        return List.copyOf(
                admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS));
    }

    @Test
    @Order(1)
    void jobRunsExactlyOnceWithExactlyTheListedAcls() throws Exception {
        List<String[]> input = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (int i = 0; i < EVENTS; i++) {
            String user = "acl-user-" + (i % 5);
            input.add(
                    new String[] {
                        user,
                        EventCodec.toJson(
                                new InputEvent(
                                        "e" + i,
                                        user,
                                        "item-" + String.format("%05d", (i * 3) % 100),
                                        EventType.VIEW,
                                        now + i))
                    });
        }
        input.add(new String[] {"acl-user-0", "{\"user_id\": broken"});
        KafkaTestSupport.produce(KAFKA.internalBootstrapServers(), IN, input);

        Path log = tmp.resolve("acl-run.log");
        Process job =
                PackagedJar.seqrec(
                                log,
                                TestPaths.repoRoot()
                                        .resolve("flink-job/conf/log4j2-cli.properties"),
                                tmp,
                                runArgs)
                        .start();
        try {
            List<ConsumerRecord<byte[], byte[]>> out =
                    KafkaTestSupport.drain(
                            KAFKA.internalBootstrapServers(),
                            OUT,
                            r -> r.size() >= EVENTS,
                            Duration.ofSeconds(180));
            List<ConsumerRecord<byte[], byte[]>> dead =
                    KafkaTestSupport.drain(
                            KAFKA.internalBootstrapServers(),
                            DLQ,
                            r -> r.size() >= 1,
                            Duration.ofSeconds(60));
            Map<TopicPartition, OffsetAndMetadata> committed = awaitCommittedOffsets();
            String output = Files.readString(log);
            assertThat(job.isAlive()).as("job process still running; log:%n%s", output).isTrue();
            Set<String> eventIds = new HashSet<>();
            out.forEach(r -> eventIds.add(RecommendationCodec.fromJson(r.value()).eventId()));
            assertThat(out).as("exactly once, read_committed; log:%n%s", output).hasSize(EVENTS);
            assertThat(eventIds).hasSize(EVENTS);
            assertThat(dead).hasSize(1);
            assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum())
                    .as("the source committed its offsets to the group")
                    .isPositive();
            assertThat(output).doesNotContain("AuthorizationException");
        } finally {
            job.destroy();
            if (!job.waitFor(30, TimeUnit.SECONDS)) {
                job.destroyForcibly();
            }
        }
    }

    /** The source commits offsets when a checkpoint completes; wait for the first commit. */
    private static Map<TopicPartition, OffsetAndMetadata> awaitCommittedOffsets() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets(GROUP)
                            .partitionsToOffsetAndMetadata()
                            .get(30, TimeUnit.SECONDS);
            if (!offsets.isEmpty() || System.nanoTime() > deadline) {
                return offsets;
            }
            Thread.sleep(200); // back-off between polls, bounded by the deadline
        }
    }

    static Stream<Integer> eachRule() {
        // The grants depend on the broker's address, known only once it runs: pass indices.
        return IntStream.range(0, 5).boxed();
    }

    @ParameterizedTest(name = "without rule {0}")
    @Order(2)
    @MethodSource("eachRule")
    void runNamesTheMissingRuleAndExits4(int index) throws Exception {
        assertThat(grants).as("an exactly-once job's rules").hasSize(5);
        JobAcls.Grant withheld = grants.get(index);
        List<JobAcls.Grant> rest = new ArrayList<>(grants);
        rest.remove(index);
        grantOnly(rest);
        try {
            CliRun run = CliRun.of(runArgs);
            assertThat(run.status()).as(run.err()).isEqualTo(4);
            assertThat(run.err())
                    .contains("seqrec run: Kafka at " + KAFKA.bootstrapServers())
                    .contains("not authorized: the job's principal lacks " + withheld + " (")
                    .doesNotContain(PASSWORD);
        } finally {
            grantOnly(grants);
        }
    }
}
