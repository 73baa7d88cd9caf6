package io.seqrec.cli;

import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.oneOf;

import io.seqrec.config.Option;
import io.seqrec.config.Values;
import io.seqrec.event.Recommendation;
import io.seqrec.event.RecommendationCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** {@code seqrec tail}: prints recommendations as they arrive, one line each. */
final class TailCommand {
    private TailCommand() {}

    /** Where a new reader starts. */
    enum From {
        EARLIEST,
        LATEST
    }

    static final Option<String> BOOTSTRAP_SERVERS = SharedOptions.bootstrapServers();
    static final Option<String> TOPIC =
            SharedOptions.topic("recommendations", "The recommendations topic to read.");
    static final Option<From> FROM =
            new Option<>(
                    "from",
                    "latest",
                    "earliest|latest",
                    "Start at the topic's beginning or its end.",
                    oneOf(From.class));
    static final Option<Long> MAX =
            new Option<>(
                    "max",
                    null,
                    "N",
                    "Stop after this many recommendations (default: never).",
                    longInRange(1, Long.MAX_VALUE));
    static final Option<java.nio.file.Path> KAFKA_PROPERTIES = SharedOptions.kafkaProperties();

    static final Command COMMAND =
            new Command(
                    "tail",
                    "print recommendations as they arrive",
                    List.of(BOOTSTRAP_SERVERS, TOPIC, FROM, MAX, KAFKA_PROPERTIES),
                    false,
                    TailCommand::run);

    static int run(Flags f) {
        String from = Values.wireName(f.get(FROM));
        long max = f.get(MAX, Long.MAX_VALUE);
        Properties p = SharedOptions.clientProperties(f.get(KAFKA_PROPERTIES));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, f.required(BOOTSTRAP_SERVERS));
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
            consumer.subscribe(List.of(f.get(TOPIC)));
            while (shown < max) {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(500))) {
                    System.out.println(
                            record.value() == null
                                    ? forgotten(record.key())
                                    : format(RecommendationCodec.fromJson(record.value())));
                    if (++shown >= max) {
                        break;
                    }
                }
            }
        }
        return 0;
    }

    /** A tombstone: the job forgot the user (a deletion request), the key is all there is. */
    static String forgotten(byte[] key) {
        return (key == null ? "(no key)" : new String(key, StandardCharsets.UTF_8))
                + " forgotten (tombstone)";
    }

    static String format(Recommendation r) {
        StringBuilder sb =
                new StringBuilder()
                        .append(r.userId())
                        .append(" #")
                        .append(r.seq())
                        .append(" after ")
                        .append(r.eventId());
        if (!Recommendation.MODEL.equals(r.strategy())) {
            sb.append(" [").append(r.strategy()).append(']');
        }
        sb.append(" ->");
        for (int i = 0; i < r.itemIds().length; i++) {
            sb.append(' ').append(r.itemIds()[i]).append(String.format(" (%.2f)", r.scores()[i]));
        }
        if (r.because() != null) {
            sb.append("  because ").append(r.because());
        }
        return sb.toString();
    }
}
