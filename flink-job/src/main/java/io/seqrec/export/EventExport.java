package io.seqrec.export;

import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.DeadLetterReason;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventParser;
import io.seqrec.event.InputEvent;
import io.seqrec.event.InvalidRecordException;
import io.seqrec.event.RawRecord;
import io.seqrec.event.SourcePosition;
import io.seqrec.event.StableHash;
import io.seqrec.pipeline.UserState;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Exports the events of one time range of the input topic that the job accepts, in the input format
 * (one JSON object per line), for {@code seqrec_model train --format events}.
 *
 * <p><b>Which events.</b> Records from the first offset whose Kafka timestamp is at or after {@code
 * fromMs} up to the partition's end as of the start (or the first record after {@code untilMs}),
 * judged as the job judges them: {@link EventParser} with the Kafka record around the bytes, then
 * each user's late and duplicate rules ({@link UserState#apply}, with the job's limits), in the
 * order of each partition (the order the job reads them in, since a user's records share a
 * partition). What the job would dead-letter is counted by reason and left out. An event without
 * {@code event_id} is written with the id the job derives from its position, so a second export of
 * the same range drops it as a duplicate exactly as the job would.
 *
 * <p><b>Forgotten users.</b> A user with a deletion request ({@code "event_type":"forget"})
 * anywhere from the range's start to the topic's end as of the start is left out entirely: their
 * events before the request and after it (a user who comes back under the same id is left out of
 * exports whose range holds the request; the job itself starts them afresh). That takes a first
 * pass over the records from the range's start to the topic's end, parsing each, before the pass
 * that writes. Requests before the range's start are not looked for: the events they erased lie
 * before it too.
 *
 * <p><b>Memory.</b> The events stream to the file; per user only what the rules need (the newest
 * time and the last {@code dedupe-window} event ids), so memory grows with distinct users, not
 * events.
 *
 * <p><b>Interruption.</b> The lines go to {@code FILE.part}, renamed to {@code FILE} once complete:
 * an interrupted export leaves no partial file behind, and running it again starts over.
 */
public final class EventExport {

    /**
     * Counts so far: records read, events written, records left out by reason, and records left out
     * because their user asked to be forgotten (their events and the requests).
     */
    public record Counts(
            long read, long written, Map<DeadLetterReason, Long> rejected, long forgotten) {}

    private final Properties consumer;
    private final String topic;
    private final EventParser parser;
    private final UserState.Limits limits;

    /**
     * @param consumer client settings (bootstrap servers, security); deserializers, offsets and
     *     isolation are set here
     * @param limits the job's per-user limits (allowed lateness, dedupe window, rate limit); the
     *     history length is not needed and kept at one step
     */
    public EventExport(
            Properties consumer, String topic, EventParser parser, UserState.Limits limits) {
        this.consumer = consumer;
        this.topic = topic;
        this.parser = parser;
        this.limits =
                new UserState.Limits(
                        limits.allowedLatenessMs(),
                        1,
                        limits.dedupeWindow(),
                        limits.maxEventsPerSecond());
    }

    /** Exports records with Kafka timestamps from {@code fromMs} on (to {@code untilMs}). */
    public Counts run(long fromMs, long untilMs, Path out, Consumer<Counts> progress)
            throws IOException {
        Properties p = new Properties();
        p.putAll(consumer);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // Producers write the input topic transactionally or not: only committed records count.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Path part = out.resolveSibling(out.getFileName() + ".part");
        Map<String, UserState> users = new HashMap<>();
        Map<DeadLetterReason, Long> rejected = new EnumMap<>(DeadLetterReason.class);
        long[] read = {0};
        long[] written = {0};
        long[] forgottenRecords = {0};
        try (KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(p);
                BufferedWriter writer = Files.newBufferedWriter(part, StandardCharsets.UTF_8)) {
            Set<String> forgotten = new HashSet<>();
            // Both passes end at the same offsets: a request that arrives during the export is
            // no more looked for than the events after it.
            Map<TopicPartition, Long> ends = endOffsets(kafka);
            scan(
                    kafka,
                    fromMs,
                    Long.MAX_VALUE,
                    ends,
                    r -> {
                        BehaviorEvent e = parse(r);
                        if (e != null && e.forget()) {
                            forgotten.add(e.userId());
                        }
                    },
                    () -> {});
            scan(
                    kafka,
                    fromMs,
                    untilMs,
                    ends,
                    r -> {
                        read[0]++;
                        BehaviorEvent e;
                        try {
                            e = parser.parse(raw(r));
                        } catch (InvalidRecordException ex) {
                            rejected.merge(ex.reason(), 1L, Long::sum);
                            return;
                        }
                        if (forgotten.contains(e.userId())) {
                            forgottenRecords[0]++;
                            return;
                        }
                        DeadLetterReason reason = accept(e, users, writer);
                        if (reason == null) {
                            written[0]++;
                        } else {
                            rejected.merge(reason, 1L, Long::sum);
                        }
                    },
                    () ->
                            progress.accept(
                                    new Counts(
                                            read[0],
                                            written[0],
                                            Map.copyOf(rejected),
                                            forgottenRecords[0])));
        }
        Files.move(part, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Counts(read[0], written[0], Map.copyOf(rejected), forgottenRecords[0]);
    }

    /** What one record of the range is handed to; may write the export. */
    @FunctionalInterface
    private interface RecordHandler {
        void accept(ConsumerRecord<byte[], byte[]> r) throws IOException;
    }

    /**
     * Hands {@code handler} every record from the first offset at or after {@code fromMs} to each
     * partition's end in {@code ends} or the first record after {@code untilMs}, in partition
     * order; calls {@code report} every two seconds.
     */
    private void scan(
            KafkaConsumer<byte[], byte[]> kafka,
            long fromMs,
            long untilMs,
            Map<TopicPartition, Long> ends,
            RecordHandler handler,
            Runnable report)
            throws IOException {
        Map<TopicPartition, Long> end = seek(kafka, fromMs, ends);
        long lastReport = System.currentTimeMillis();
        while (!end.isEmpty()) {
            for (ConsumerRecord<byte[], byte[]> r : kafka.poll(Duration.ofMillis(500))) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                Long stop = end.get(tp);
                if (stop == null) {
                    continue; // finished: the rest of this poll is past its end
                }
                if (r.offset() >= stop || r.timestamp() > untilMs) {
                    end.remove(tp);
                    kafka.pause(List.of(tp));
                    continue;
                }
                handler.accept(r);
            }
            // Partitions whose end offset has been reached without a record past it.
            for (TopicPartition tp : new ArrayList<>(end.keySet())) {
                if (kafka.position(tp) >= end.get(tp)) {
                    end.remove(tp);
                    kafka.pause(List.of(tp));
                }
            }
            long now = System.currentTimeMillis();
            if (now - lastReport >= 2000) {
                lastReport = now;
                report.run();
            }
        }
    }

    /** Assigns every partition of the topic; returns each one's end offset now. */
    private Map<TopicPartition, Long> endOffsets(KafkaConsumer<byte[], byte[]> kafka) {
        List<PartitionInfo> infos = kafka.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalArgumentException("topic '" + topic + "' does not exist");
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : infos) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        kafka.assign(partitions);
        return kafka.endOffsets(partitions);
    }

    /**
     * Seeks every partition of {@code ends} to the first offset at or after {@code fromMs}; returns
     * the end offsets of those with something to read before their end (the others are paused).
     */
    private Map<TopicPartition, Long> seek(
            KafkaConsumer<byte[], byte[]> kafka, long fromMs, Map<TopicPartition, Long> ends) {
        List<TopicPartition> partitions = new ArrayList<>(ends.keySet());
        kafka.resume(partitions); // a second pass: the first paused the partitions it finished
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(tp -> query.put(tp, fromMs));
        Map<TopicPartition, OffsetAndTimestamp> starts = kafka.offsetsForTimes(query);
        Map<TopicPartition, Long> remaining = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndTimestamp start = starts.get(tp);
            long end = ends.get(tp);
            long offset = start == null ? end : start.offset();
            kafka.seek(tp, offset);
            if (offset < end) {
                remaining.put(tp, end);
            } else {
                kafka.pause(List.of(tp));
            }
        }
        return remaining;
    }

    private static RawRecord raw(ConsumerRecord<byte[], byte[]> r) {
        return new RawRecord(
                r.key(),
                r.value(),
                new SourcePosition(r.topic(), r.partition(), r.offset()),
                r.timestamp());
    }

    /** The record as the job parses it; {@code null} if the job would dead-letter it. */
    private BehaviorEvent parse(ConsumerRecord<byte[], byte[]> r) {
        try {
            return parser.parse(raw(r));
        } catch (InvalidRecordException ex) {
            return null;
        }
    }

    /** Writes the event if the job accepts it; else returns why the job would not. */
    private DeadLetterReason accept(
            BehaviorEvent e, Map<String, UserState> users, BufferedWriter writer)
            throws IOException {
        UserState before = users.getOrDefault(e.userId(), EMPTY);
        UserState.Transition t =
                before.apply(e.eventId(), StableHash.of(e.itemId()), e.eventType(), e.ts(), limits);
        switch (t.outcome()) {
            case LATE:
                return DeadLetterReason.LATE;
            case DUPLICATE:
                return DeadLetterReason.DUPLICATE_EVENT_ID;
            case RATE_LIMITED:
                return DeadLetterReason.RATE_LIMITED;
            default:
                users.put(e.userId(), t.state());
                writer.write(
                        EventCodec.toJson(
                                new InputEvent(
                                        e.eventId(),
                                        e.userId(),
                                        e.itemId(),
                                        e.eventType(),
                                        e.ts())));
                writer.newLine();
                return null;
        }
    }

    private static final UserState EMPTY = new UserState();
}
