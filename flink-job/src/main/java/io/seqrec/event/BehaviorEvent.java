package io.seqrec.event;

/**
 * One validated record of the input topic, with where it came from: a behavior event, or a deletion
 * request ({@link #forget}).
 *
 * <p>{@code rawKey} and {@code rawValue} keep the record's original bytes so that an event rejected
 * after parsing (late, duplicate, failed inference) still reaches the dead-letter topic byte for
 * byte, key included. {@code producedTs} is the Kafka record timestamp, the start of the
 * event-to-recommendation latency.
 *
 * @param forget a deletion request for {@code userId} ({@code "event_type":"forget"}): {@code
 *     itemId} and {@code eventType} are then {@code null}, {@code ts} is 0 if the record had none
 * @param stateKey what the job keys the user's state by: {@code userId}, or its pseudonym ({@code
 *     Pseudonyms}, {@code --pseudonymize-key-file}); {@code userId} is then only carried to name
 *     the user in the output, never stored
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
        byte[] rawValue,
        boolean forget,
        String stateKey) {

    /** A deletion request for {@code userId}. */
    public static BehaviorEvent forget(
            String userId,
            long ts,
            String eventId,
            SourcePosition source,
            long producedTs,
            byte[] rawKey,
            byte[] rawValue) {
        return new BehaviorEvent(
                userId,
                null,
                null,
                ts,
                eventId,
                source,
                producedTs,
                rawKey,
                rawValue,
                true,
                userId);
    }

    /**
     * The same record keyed by {@code pseudonym}; named in the output by {@code outputId} (the
     * user's id, or the pseudonym with {@code --emit-pseudonym}).
     */
    public BehaviorEvent pseudonymized(String pseudonym, String outputId) {
        return new BehaviorEvent(
                outputId,
                itemId,
                eventType,
                ts,
                eventId,
                source,
                producedTs,
                rawKey,
                rawValue,
                forget,
                pseudonym);
    }
}
