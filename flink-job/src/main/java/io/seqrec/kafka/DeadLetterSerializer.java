package io.seqrec.kafka;

import io.seqrec.event.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Dead letters: the original key and value bytes untouched, and why and where from in headers
 * ({@value #REASON}, {@value #DETAIL}, {@value #SOURCE_TOPIC}, {@value #SOURCE_PARTITION}, {@value
 * #SOURCE_OFFSET}).
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;

    public static final String REASON = "seqrec.reason";
    public static final String DETAIL = "seqrec.detail";
    public static final String SOURCE_TOPIC = "seqrec.source.topic";
    public static final String SOURCE_PARTITION = "seqrec.source.partition";
    public static final String SOURCE_OFFSET = "seqrec.source.offset";

    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            DeadLetter d, KafkaSinkContext context, Long timestamp) {
        List<Header> headers =
                List.of(
                        header(REASON, d.reason().wireName()),
                        header(DETAIL, d.detail()),
                        header(SOURCE_TOPIC, d.source().topic()),
                        header(SOURCE_PARTITION, Integer.toString(d.source().partition())),
                        header(SOURCE_OFFSET, Long.toString(d.source().offset())));
        return new ProducerRecord<>(topic, null, null, d.key(), d.value(), headers);
    }

    private static Header header(String key, String value) {
        return new RecordHeader(
                key, value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8));
    }
}
