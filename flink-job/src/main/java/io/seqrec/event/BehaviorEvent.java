package io.seqrec.event;

/**
 * One validated behavior event, with where it came from.
 *
 * <p>{@code rawKey} and {@code rawValue} keep the record's original bytes so that an event rejected
 * after parsing (late, duplicate, failed inference) still reaches the dead-letter topic byte for
 * byte, key included. {@code producedTs} is the Kafka record timestamp, the start of the
 * event-to-recommendation latency.
 */
public record BehaviorEvent(
        String userId,
        String itemId,
        EventType eventType,
        long ts,
        String eventId,
        SourcePosition source,
        long producedTs,
        byte[] rawKey,
        byte[] rawValue) {}
