package io.seqrec.kafka;

import io.seqrec.config.ConfigException;
import io.seqrec.config.DeliveryGuarantee;
import io.seqrec.config.JobConfig;
import io.seqrec.event.DeadLetter;
import io.seqrec.event.RawRecord;
import io.seqrec.event.Recommendation;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Builds the job's Kafka source and sinks from its configuration. The client properties file
 * ({@code --kafka-properties}) is applied to all three alike, so one security setup covers them.
 */
public final class KafkaConnectors {
    private KafkaConnectors() {}

    /** Client properties from {@code --kafka-properties}, or empty. */
    public static Properties clientProperties(JobConfig config) {
        Properties props = new Properties();
        if (config.kafkaProperties() != null) {
            try (Reader in =
                    Files.newBufferedReader(config.kafkaProperties(), StandardCharsets.UTF_8)) {
                props.load(in);
            } catch (IOException | IllegalArgumentException e) {
                throw new ConfigException(
                        "--kafka-properties '"
                                + config.kafkaProperties()
                                + "': cannot read: "
                                + e.getMessage(),
                        e);
            }
        }
        return props;
    }

    public static KafkaSource<RawRecord> source(JobConfig config) {
        OffsetsInitializer start;
        switch (config.startingOffsets()) {
            case EARLIEST:
                start = OffsetsInitializer.earliest();
                break;
            case LATEST:
                start = OffsetsInitializer.latest();
                break;
            default:
                start = OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        }
        Properties props = clientProperties(config);
        // Fail fast on wrong credentials or an unreachable broker instead of retrying silently.
        props.putIfAbsent("partition.discovery.interval.ms", "60000");
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(config.inputTopic())
                .setGroupId(config.groupId())
                .setStartingOffsets(start)
                .setDeserializer(new RawRecordDeserializer())
                .setProperties(props)
                .build();
    }

    public static Sink<Recommendation> recommendationSink(JobConfig config) {
        return sink(config, new RecommendationSerializer(config.outputTopic()), "rec");
    }

    /**
     * The dead-letter sink. It carries any record the input topic accepted, original bytes and
     * headers, so its producer's {@code max.request.size} defaults to {@value
     * #DEAD_LETTER_MAX_REQUEST_BYTES} bytes instead of Kafka's 1 MiB: with the default, one large
     * input record failed the sink, and the replay after each restart failed it again.
     */
    public static Sink<DeadLetter> deadLetterSink(JobConfig config) {
        Properties props = clientProperties(config);
        props.putIfAbsent("max.request.size", Integer.toString(DEAD_LETTER_MAX_REQUEST_BYTES));
        return sink(config, props, new DeadLetterSerializer(config.dlqTopic()), "dlq");
    }

    static final int DEAD_LETTER_MAX_REQUEST_BYTES = 16 * 1024 * 1024;

    private static <T> Sink<T> sink(
            JobConfig config, KafkaRecordSerializationSchema<T> serializer, String role) {
        return sink(config, clientProperties(config), serializer, role);
    }

    /**
     * An at-least-once {@link KafkaSink}, or an exactly-once one that commits each restored
     * transaction once ({@link CommitOnceKafkaSink}).
     */
    private static <T> Sink<T> sink(
            JobConfig config,
            Properties props,
            KafkaRecordSerializationSchema<T> serializer,
            String role) {
        props.putIfAbsent("linger.ms", "1");
        props.putIfAbsent("compression.type", "lz4");
        boolean exactlyOnce = config.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE;
        if (exactlyOnce) {
            // Must stay under the broker's transaction.max.timeout.ms (15 min by default), or the
            // sink restarts forever; JobConfig refuses a longer --transaction-timeout.
            props.setProperty(
                    "transaction.timeout.ms",
                    Long.toString(config.transactionTimeout().toMillis()));
        }
        org.apache.flink.connector.base.DeliveryGuarantee guarantee =
                exactlyOnce
                        ? org.apache.flink.connector.base.DeliveryGuarantee.EXACTLY_ONCE
                        : org.apache.flink.connector.base.DeliveryGuarantee.AT_LEAST_ONCE;
        KafkaSink<T> sink =
                KafkaSink.<T>builder()
                        .setBootstrapServers(config.bootstrapServers())
                        .setKafkaProducerConfig(props)
                        .setRecordSerializer(serializer)
                        .setDeliveryGuarantee(guarantee)
                        .setTransactionalIdPrefix(JobAcls.transactionalIdPrefix(config) + role)
                        // The connector's default, stated: one transaction per transactional id,
                        // which CommitOnceKafkaSink's check relies on.
                        .setTransactionNamingStrategy(TransactionNamingStrategy.INCREMENTING)
                        .build();
        return exactlyOnce ? new CommitOnceKafkaSink<>(sink, adminProperties(config)) : sink;
    }

    /** For an admin client of the sinks' cluster, with the same client settings. */
    static Properties adminProperties(JobConfig config) {
        Properties props = clientProperties(config);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, config.transactionalIdPrefix() + "-check");
        // The admin client refuses an API timeout below the request timeout (30 s by default).
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return props;
    }
}
