package io.seqrec.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends input records at a target rate (or as fast as the broker takes them), idempotently and with
 * {@code acks=all}, and remembers the first send error.
 */
public final class EventSender implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final double rate;
    private final long startNanos = System.nanoTime();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicReference<Exception> error = new AtomicReference<>();
    private long sent;

    /**
     * @param rate records per second, or 0 for no limit
     */
    public EventSender(
            String bootstrapServers, Properties clientProperties, String topic, double rate) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // Kafka 4.0's default: a paced producer's records travel in batches of up to 5 ms, so the
        // broker and every consumer handle fewer, larger requests. Adds at most 5 ms of latency.
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
        this.topic = topic;
        this.rate = rate;
    }

    /** Sends one record, waiting first if ahead of the target rate. Returns the send time. */
    public long send(String key, String value) throws InterruptedException {
        if (error.get() != null) {
            throw new IllegalStateException("sending to " + topic + " failed", error.get());
        }
        if (rate > 0) {
            long due = startNanos + (long) (sent * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
        }
        sent++;
        long now = System.currentTimeMillis();
        producer.send(
                new ProducerRecord<>(
                        topic,
                        null,
                        now,
                        key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                        value == null ? null : value.getBytes(StandardCharsets.UTF_8)),
                (md, e) -> {
                    if (e != null) {
                        error.compareAndSet(null, e);
                    } else {
                        acked.incrementAndGet();
                    }
                });
        return now;
    }

    public long sent() {
        return sent;
    }

    public long acked() {
        return acked.get();
    }

    @Override
    public void close() {
        producer.flush();
        producer.close();
        if (error.get() != null) {
            throw new IllegalStateException("sending to " + topic + " failed", error.get());
        }
    }
}
