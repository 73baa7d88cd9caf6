package io.seqrec.cli;

import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** {@code seqrec tail}: prints recommendations as they arrive, one line each. */
final class TailCommand {
    private TailCommand() {}

    static int run(String[] args) {
        Flags f =
                new Flags(
                        args,
                        Set.of("bootstrap-servers", "topic", "from", "max", "kafka-properties"));
        f.rejectRest();
        String from = f.string("from", "latest");
        if (!from.equals("earliest") && !from.equals("latest")) {
            throw new UsageException("--from '" + from + "': expected earliest or latest");
        }
        long max = f.longValue("max", Long.MAX_VALUE, 1);
        Properties p = ProduceCommand.loadProperties(f.string("kafka-properties", null));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, f.required("bootstrap-servers"));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, from);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "seqrec-tail-" + ProcessHandle.current().pid());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        long shown = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(f.string("topic", "recommendations")));
            while (shown < max) {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(500))) {
                    System.out.println(format(RecommendationCodec.fromJson(record.value())));
                    if (++shown >= max) {
                        break;
                    }
                }
            }
        }
        return 0;
    }

    static String format(Recommendation r) {
        StringBuilder sb =
                new StringBuilder()
                        .append(r.userId())
                        .append(" #")
                        .append(r.seq())
                        .append(" after ")
                        .append(r.eventId())
                        .append(" ->");
        for (int i = 0; i < r.itemIds().length; i++) {
            sb.append(' ').append(r.itemIds()[i]).append(String.format(" (%.2f)", r.scores()[i]));
        }
        return sb.toString();
    }
}
