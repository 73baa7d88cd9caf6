package io.seqrec.bench;

import io.seqrec.config.JobConfig;
import io.seqrec.kafka.OutputConsumer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Reads a phase's output on a thread of its own and notes, per event, when its recommendation
 * arrived and when the job emitted it. Events are numbered by their id ({@code eN}); the values are
 * scanned for the two numbers rather than parsed, so that at tens of thousands of records a second
 * the probe costs little of the CPU it shares with the job.
 */
final class OutputProbe implements AutoCloseable {
    private static final byte[] EVENT_ID_KEY =
            "\"event_id\":\"e".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EMITTED_KEY = "\"emitted_ts\":".getBytes(StandardCharsets.US_ASCII);

    /** {@code System.nanoTime()} at receipt, 0 until received. */
    final long[] received;

    /** The recommendation's {@code emitted_ts}. */
    final long[] emitted;

    private final AtomicInteger count = new AtomicInteger();
    private final AtomicInteger deadLetters = new AtomicInteger();
    private final AtomicInteger unmeasured = new AtomicInteger();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;

    OutputProbe(JobConfig config, int events) {
        this.received = new long[events];
        this.emitted = new long[events];
        this.thread = new Thread(() -> consume(config), "bench-consumer");
        thread.setDaemon(true);
        thread.start();
    }

    int recommendations() {
        return count.get();
    }

    int deadLetters() {
        return deadLetters.get();
    }

    /** Recommendations for events not numbered {@code eN}: the unmeasured history. */
    int unmeasured() {
        return unmeasured.get();
    }

    private void consume(JobConfig config) {
        try (KafkaConsumer<byte[], byte[]> c = OutputConsumer.ofOutputAndDeadLetters(config)) {
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> record : c.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    if (record.topic().equals(config.dlqTopic())) {
                        deadLetters.incrementAndGet();
                        continue;
                    }
                    if (record.value() == null) {
                        continue; // a tombstone: a deletion request, not a list
                    }
                    int i = (int) numberAfter(record.value(), EVENT_ID_KEY);
                    if (i < 0) {
                        unmeasured.incrementAndGet();
                        continue;
                    }
                    if (i < received.length && received[i] == 0) {
                        received[i] = now;
                        emitted[i] = numberAfter(record.value(), EMITTED_KEY);
                        count.incrementAndGet();
                    }
                }
            }
        }
    }

    /** Stops reading; the arrays are complete once this returns. */
    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join(5000);
    }

    /**
     * The whole number right after {@code key} in a recommendation's JSON (the {@code N} of {@code
     * "event_id":"eN"}, or {@code emitted_ts}), without parsing it all; -1 if absent.
     */
    static long numberAfter(byte[] json, byte[] key) {
        outer:
        for (int at = 0; at + key.length < json.length; at++) {
            for (int j = 0; j < key.length; j++) {
                if (json[at + j] != key[j]) {
                    continue outer;
                }
            }
            long v = 0;
            int i = at + key.length;
            int start = i;
            for (; i < json.length && json[i] >= '0' && json[i] <= '9'; i++) {
                v = v * 10 + (json[i] - '0');
            }
            return i > start ? v : -1;
        }
        return -1;
    }
}
