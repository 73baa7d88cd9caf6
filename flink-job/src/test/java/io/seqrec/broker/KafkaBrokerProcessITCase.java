package io.seqrec.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerProcessITCase {

    private static final String TOPIC = "crash-test";

    @TempDir Path workDir;

    @Test
    void keepsAcknowledgedRecordsAcrossCrashAndRestartOnSamePort() throws Exception {
        try (KafkaBrokerProcess broker = KafkaBrokerProcess.start(workDir, Map.of());
                KafkaProducer<String, String> producer = producer(broker)) {
            broker.createTopics(2, Map.of(), TOPIC);
            String bootstrap = broker.bootstrapServers();
            String clusterId = broker.clusterId();

            sendAndAwaitAcks(producer, 0, 100);
            broker.kill();
            assertThat(broker.isAlive()).isFalse();
            broker.restart();
            // The same producer carries on: same address, and the broker kept its producer state.
            sendAndAwaitAcks(producer, 100, 200);

            assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(broker.clusterId()).isEqualTo(clusterId);
            assertThat(consumeAll(broker, 200))
                    .containsExactlyInAnyOrderElementsOf(
                            IntStream.range(0, 200).mapToObj(i -> "event-" + i).toList());
        }
    }

    private static void sendAndAwaitAcks(KafkaProducer<String, String> producer, int from, int to)
            throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            acks.add(producer.send(new ProducerRecord<>(TOPIC, "user-" + (i % 7), "event-" + i)));
        }
        for (Future<RecordMetadata> ack : acks) {
            ack.get(60, TimeUnit.SECONDS);
        }
    }

    private static KafkaProducer<String, String> producer(KafkaBrokerProcess broker) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // Reconnect quickly once the broker is back instead of backing off for up to a second.
        props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** Reads both partitions from the start, without a group, until {@code expected} arrived. */
    private static List<String> consumeAll(KafkaBrokerProcess broker, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions =
                    List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            // One more poll: duplicates from retried sends would show up as a surplus.
            consumer.poll(Duration.ofMillis(300)).forEach(r -> values.add(r.value()));
        }
        assertThat(values).hasSize(expected);
        return values;
    }
}
