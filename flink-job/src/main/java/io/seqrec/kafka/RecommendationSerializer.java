package io.seqrec.kafka;

import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Recommendations keyed by {@code user_id}: one partition per user keeps a user's records in {@code
 * seq} order, and on a compacted topic the latest per user is what survives. A {@link
 * Recommendation#isTombstone() tombstone} is written as the key with a null value: compaction then
 * removes the user's last list, and after {@code delete.retention.ms} the tombstone itself.
 */
public final class RecommendationSerializer
        implements KafkaRecordSerializationSchema<Recommendation> {
    private static final long serialVersionUID = 1L;
    private final String topic;

    public RecommendationSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            Recommendation r, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(
                topic,
                null,
                r.emittedTs(),
                r.userId().getBytes(StandardCharsets.UTF_8),
                r.isTombstone() ? null : RecommendationCodec.toJson(r));
    }
}
