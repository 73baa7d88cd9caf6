package io.seqrec.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.it.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaBrokerITCase {

    private static final Duration CONSUME_TIMEOUT = Duration.ofSeconds(30);

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void roundTripsRecordsThroughRealBroker() throws Exception {
        KAFKA.createTopics(2, "round-trip");
        List<ProducerRecord<String, String>> sent = new ArrayList<>();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try (KafkaProducer<String, String> producer =
                producer(KAFKA.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 1000; i++) {
                ProducerRecord<String, String> record =
                        new ProducerRecord<>("round-trip", "user-" + (i % 37), "event-" + i);
                acks.add(producer.send(record));
                sent.add(record);
            }
            producer.flush();
        }
        for (Future<RecordMetadata> ack : acks) {
            ack.get(30, TimeUnit.SECONDS);
        }

        List<ConsumerRecord<String, String>> received =
                consume(KAFKA.bootstrapServers(), "round-trip", "read_uncommitted", 1000);

        assertThat(received)
                .extracting(ConsumerRecord::key, ConsumerRecord::value)
                .containsExactlyInAnyOrderElementsOf(
                        sent.stream()
                                .map(r -> org.assertj.core.groups.Tuple.tuple(r.key(), r.value()))
                                .toList());
        assertThat(received).extracting(ConsumerRecord::partition).containsOnly(0, 1);
        // Keys hash to a fixed partition, and a partition keeps the order records were sent in.
        Map<String, List<String>> valuesByKey =
                received.stream()
                        .collect(
                                Collectors.groupingBy(
                                        ConsumerRecord::key,
                                        Collectors.mapping(
                                                ConsumerRecord::value, Collectors.toList())));
        sent.stream()
                .collect(
                        Collectors.groupingBy(
                                ProducerRecord::key,
                                Collectors.mapping(ProducerRecord::value, Collectors.toList())))
                .forEach((key, values) -> assertThat(valuesByKey.get(key)).isEqualTo(values));
    }

    @Test
    void readCommittedConsumerSeesCommittedTransactionsOnly() throws Exception {
        KAFKA.createTopics(2, "transactions");
        Map<String, String> transactional =
                Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + UUID.randomUUID());
        try (KafkaProducer<String, String> producer =
                producer(KAFKA.bootstrapServers(), transactional)) {
            producer.initTransactions();
            sendInTransaction(producer, "committed-a-", true);
            sendInTransaction(producer, "aborted-", false);
            sendInTransaction(producer, "committed-b-", true);
        }

        List<String> committed =
                values(consume(KAFKA.bootstrapServers(), "transactions", "read_committed", 20));
        List<String> everything =
                values(consume(KAFKA.bootstrapServers(), "transactions", "read_uncommitted", 30));

        List<String> expectedCommitted = new ArrayList<>(tenValues("committed-a-"));
        expectedCommitted.addAll(tenValues("committed-b-"));
        assertThat(committed).containsExactlyInAnyOrderElementsOf(expectedCommitted);
        // The aborted records did reach the log: only the isolation level hides them.
        assertThat(everything).containsAll(tenValues("aborted-")).hasSize(30);
    }

    @Test
    void createsTopicsWithPerTopicConfigs() throws Exception {
        KAFKA.createTopics(3, Map.of("cleanup.policy", "compact"), "compacted-a", "compacted-b");

        try (Admin admin = admin(KAFKA.bootstrapServers())) {
            Map<String, Integer> partitions =
                    admin
                            .describeTopics(Set.of("compacted-a", "compacted-b"))
                            .allTopicNames()
                            .get(30, TimeUnit.SECONDS)
                            .entrySet()
                            .stream()
                            .collect(
                                    Collectors.toMap(
                                            Map.Entry::getKey,
                                            e -> e.getValue().partitions().size()));
            assertThat(partitions)
                    .containsOnly(Map.entry("compacted-a", 3), Map.entry("compacted-b", 3));
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "compacted-a");
            Config config =
                    admin.describeConfigs(Set.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic);
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
        }
    }

    @Test
    void refusesToProduceToTopicsNobodyCreated() {
        Map<String, String> impatient = Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, "1500");
        try (KafkaProducer<String, String> producer =
                producer(KAFKA.bootstrapServers(), impatient)) {
            assertThatThrownBy(
                            () ->
                                    producer.send(new ProducerRecord<>("never-created", "k", "v"))
                                            .get(10, TimeUnit.SECONDS))
                    .hasMessageContaining("never-created");
        }
    }

    @Test
    void runsTwoBrokersAtOnceAndStartsAgainAfterClose(@TempDir Path otherWorkDir) throws Exception {
        Map<String, String> extra = Map.of("transaction.max.timeout.ms", "60000");
        Path brokerDir;
        try (EmbeddedKafkaBroker second = EmbeddedKafkaBroker.start(otherWorkDir, extra)) {
            assertThat(second.bootstrapServers())
                    .startsWith("127.0.0.1:")
                    .isNotEqualTo(KAFKA.bootstrapServers());
            assertThat(second.clusterId()).isNotEqualTo(KAFKA.clusterId());
            assertThat(brokerSetting(second.bootstrapServers(), "transaction.max.timeout.ms"))
                    .isEqualTo("60000");
            second.createTopics(1, "second");
            produceAndConsumeOne(second.bootstrapServers(), "second");
            try (var entries = Files.list(otherWorkDir)) {
                brokerDir = entries.findFirst().orElseThrow();
            }
        }
        assertThat(brokerDir).doesNotExist();

        try (EmbeddedKafkaBroker third = EmbeddedKafkaBroker.start(otherWorkDir)) {
            third.createTopics(1, "second");
            produceAndConsumeOne(third.bootstrapServers(), "second");
        }
        produceAndConsumeOne(KAFKA.bootstrapServers(), createdTopic("still-serving"));
    }

    @Test
    void rejectsPropertiesThatWouldMoveItsListenersOrData(@TempDir Path workDir) {
        assertThatThrownBy(
                        () ->
                                EmbeddedKafkaBroker.start(
                                        workDir, Map.of("listeners", "PLAINTEXT://:9092")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("listeners");
    }

    private static String createdTopic(String name) {
        KAFKA.createTopics(1, name);
        return name;
    }

    private static void sendInTransaction(
            KafkaProducer<String, String> producer, String prefix, boolean commit) {
        producer.beginTransaction();
        for (String value : tenValues(prefix)) {
            producer.send(new ProducerRecord<>("transactions", value, value));
        }
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.flush();
            producer.abortTransaction();
        }
    }

    private static List<String> tenValues(String prefix) {
        return IntStream.range(0, 10).mapToObj(i -> prefix + i).toList();
    }

    private static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }

    private static void produceAndConsumeOne(String bootstrap, String topic) throws Exception {
        String value = "hello-" + UUID.randomUUID();
        try (KafkaProducer<String, String> producer = producer(bootstrap, Map.of())) {
            producer.send(new ProducerRecord<>(topic, "k", value)).get(30, TimeUnit.SECONDS);
        }
        assertThat(values(consume(bootstrap, topic, "read_uncommitted", 1))).contains(value);
    }

    private static String brokerSetting(String bootstrap, String name) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            String nodeId =
                    admin.describeCluster()
                            .nodes()
                            .get(30, TimeUnit.SECONDS)
                            .iterator()
                            .next()
                            .idString();
            ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, nodeId);
            return admin.describeConfigs(Set.of(resource))
                    .all()
                    .get(30, TimeUnit.SECONDS)
                    .get(resource)
                    .get(name)
                    .value();
        }
    }

    private static KafkaProducer<String, String> producer(
            String bootstrap, Map<String, String> overrides) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.putAll(overrides);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    /**
     * Reads {@code topic} from the beginning in a fresh consumer group until {@code expected}
     * records arrived, then a little longer to catch any extra ones.
     */
    private static List<ConsumerRecord<String, String>> consume(
            String bootstrap, String topic, String isolationLevel, int expected) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + CONSUME_TIMEOUT.toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // One more poll: a surplus (e.g. aborted records leaking through) must show up.
            consumer.poll(Duration.ofMillis(300)).forEach(records::add);
        }
        records.sort(
                Comparator.comparingInt((ConsumerRecord<String, String> r) -> r.partition())
                        .thenComparingLong(ConsumerRecord::offset));
        assertThat(records).as("records consumed from %s", topic).hasSize(expected);
        return records;
    }
}
