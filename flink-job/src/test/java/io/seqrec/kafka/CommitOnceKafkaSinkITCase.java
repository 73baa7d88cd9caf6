package io.seqrec.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.config.JobConfig;
import io.seqrec.it.KafkaBrokerExtension;
import io.seqrec.it.KafkaTestSupport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.Committer.CommitRequest;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.apache.flink.connector.kafka.sink.internal.KafkaCommitter;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Restored transactions against a real Kafka 4 broker (transaction protocol version 2): the
 * connector's committer alone reports a transaction its writer committed before the restart as
 * fenced; through {@link CommitOnceKafkaSink}'s committer such a transaction is marked already
 * committed, and an open one is committed as before.
 */
class CommitOnceKafkaSinkITCase {
    private static final String TOPIC = "commit-once";

    @RegisterExtension static final KafkaBrokerExtension broker = new KafkaBrokerExtension();

    @BeforeAll
    static void createTopic() {
        broker.createTopics(1, TOPIC);
    }

    @Test
    void marksTransactionsCommittedBeforeTheRestartAndCommitsOpenOnes() throws Exception {
        Request alone = new Request(committedBefore("commit-once-0-1", "first"));
        try (KafkaCommitter connector = connectorCommitter("commit-once-a")) {
            connector.commit(List.of(alone));
        }
        assertThat(alone.failure)
                .as("what the connector alone makes of a transaction committed before")
                .isInstanceOf(ProducerFencedException.class);

        Request again = new Request(committedBefore("commit-once-0-2", "second"));
        FlinkKafkaInternalProducer<byte[], byte[]> writer = begin("commit-once-0-3", "open");
        Request pending = new Request(restored(writer));
        try (Committer<KafkaCommittable> committer =
                new CommitOnceKafkaSink.SkipCommittedCommitter(
                        connectorCommitter("commit-once-b"), adminProperties())) {
            committer.commit(List.of(again, pending));
        } finally {
            writer.close();
        }
        assertThat(again.alreadyCommitted).isTrue();
        assertThat(again.failure).isNull();
        assertThat(pending.alreadyCommitted).isFalse();
        assertThat(pending.failure).isNull();
        assertThat(
                        KafkaTestSupport.drain(
                                        broker.bootstrapServers(),
                                        TOPIC,
                                        r -> r.size() >= 3,
                                        Duration.ofSeconds(30))
                                .stream()
                                .map(r -> new String(r.value(), StandardCharsets.UTF_8)))
                .containsExactlyInAnyOrder("first", "second", "open");
    }

    /** A transaction with one record, committed by its writer, as a checkpoint holds it. */
    private static KafkaCommittable committedBefore(String transactionalId, String value) {
        try (FlinkKafkaInternalProducer<byte[], byte[]> writer = begin(transactionalId, value)) {
            KafkaCommittable committable = restored(writer);
            writer.commitTransaction();
            return committable;
        }
    }

    /** A producer in a transaction with one record sent. */
    private static FlinkKafkaInternalProducer<byte[], byte[]> begin(
            String transactionalId, String value) {
        FlinkKafkaInternalProducer<byte[], byte[]> producer =
                new FlinkKafkaInternalProducer<>(producerProperties(), transactionalId);
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(TOPIC, value.getBytes(StandardCharsets.UTF_8)));
        producer.flush();
        return producer;
    }

    /**
     * The producer's transaction as a restored checkpoint holds it: its id and epoch, no live
     * producer.
     */
    private static KafkaCommittable restored(FlinkKafkaInternalProducer<?, ?> producer) {
        return new KafkaCommittable(
                producer.getProducerId(), producer.getEpoch(), producer.getTransactionalId(), null);
    }

    private static KafkaCommitter connectorCommitter(String prefix) {
        return new KafkaCommitter(
                producerProperties(), prefix, 0, 0, false, FlinkKafkaInternalProducer::new);
    }

    private static Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
        return p;
    }

    /** The job's own admin settings for its sinks. */
    private static Properties adminProperties() {
        return KafkaConnectors.adminProperties(
                JobConfig.fromArgs(
                        new String[] {"--bootstrap-servers", broker.bootstrapServers()}));
    }

    /** Records how the committer settled one request. */
    private static final class Request implements CommitRequest<KafkaCommittable> {
        final KafkaCommittable committable;
        int retries;
        boolean alreadyCommitted;
        Throwable failure;

        Request(KafkaCommittable committable) {
            this.committable = committable;
        }

        @Override
        public KafkaCommittable getCommittable() {
            return committable;
        }

        @Override
        public int getNumberOfRetries() {
            return retries;
        }

        @Override
        public void signalFailedWithKnownReason(Throwable t) {
            failure = t;
        }

        @Override
        public void signalFailedWithUnknownReason(Throwable t) {
            failure = t;
        }

        @Override
        public void retryLater() {
            retries++;
        }

        @Override
        public void updateAndRetryLater(KafkaCommittable committable) {
            retries++;
        }

        @Override
        public void signalAlreadyCommitted() {
            alreadyCommitted = true;
        }
    }
}
