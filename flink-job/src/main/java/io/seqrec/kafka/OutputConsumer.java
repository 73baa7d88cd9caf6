package io.seqrec.kafka;

import io.seqrec.config.JobConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** A consumer of the job's output, as a downstream service reads it, for demo and bench. */
public final class OutputConsumer {
    private OutputConsumer() {}

    /**
     * A read_committed consumer of the output and dead-letter topics from the earliest offset.
     * Assigned, not subscribed: no group join (seconds of rebalance delay) before the first fetch,
     * so the latency measured from the first event on is the pipeline's, not the consumer's.
     */
    public static KafkaConsumer<byte[], byte[]> ofOutputAndDeadLetters(JobConfig config) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(config.outputTopic(), config.dlqTopic())) {
            for (PartitionInfo info : c.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        c.assign(partitions);
        c.seekToBeginning(partitions);
        partitions.forEach(c::position);
        return c;
    }
}
