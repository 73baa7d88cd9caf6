package io.seqrec.event;

/**
 * A user's top-K after one event. {@code seq} increases strictly per user, so consumers of an
 * at-least-once stream can drop replays; {@code producedTs} (the triggering record's Kafka
 * timestamp) is not on the wire and only feeds the latency metric.
 */
public record Recommendation(
        String userId,
        String eventId,
        long eventTs,
        long emittedTs,
        long seq,
        String modelVersion,
        String[] itemIds,
        float[] scores,
        long producedTs) {}
