package io.seqrec.event;

/**
 * A user's top-K after one event. {@code seq} increases strictly per user, so consumers of an
 * at-least-once stream can drop replays; {@code strategy} says how the list was made ({@link
 * #MODEL}, {@link #TRENDING}); {@code because}, if not {@code null}, is the item of the user's
 * history the model attended to most for a model list; {@code producedTs} (the triggering record's
 * Kafka timestamp) is not on the wire and only feeds the latency metric.
 *
 * <p>A {@link #isTombstone() tombstone} answers a deletion request: on the wire it is the user's
 * key with a null value, which makes compaction drop the user's last list; it has no list, model or
 * {@code seq}.
 */
public record Recommendation(
        String userId,
        String eventId,
        long eventTs,
        long emittedTs,
        long seq,
        String modelVersion,
        String strategy,
        String[] itemIds,
        float[] scores,
        String because,
        long producedTs) {
    /** The model scored the user's history. */
    public static final String MODEL = "model";

    /**
     * The model knows none of the user's items (a new user, or one of new items only): the items
     * trending now, without those the user has seen.
     */
    public static final String TRENDING = "trending";

    /**
     * The user's history is short ({@code --blend-max-history}): the model's ranking fused with
     * trending's (reciprocal-rank fusion).
     */
    public static final String BLEND = "blend";

    /** The {@code strategy} of a tombstone; never on the wire (a tombstone has no value). */
    public static final String FORGOTTEN = "forgotten";

    /** The tombstone answering the deletion request {@code eventId} for {@code userId}. */
    public static Recommendation tombstone(
            String userId, String eventId, long eventTs, long emittedTs, long producedTs) {
        return new Recommendation(
                userId,
                eventId,
                eventTs,
                emittedTs,
                0,
                null,
                FORGOTTEN,
                null,
                null,
                null,
                producedTs);
    }

    /** Whether this is a deletion request's tombstone rather than a list. */
    public boolean isTombstone() {
        return FORGOTTEN.equals(strategy);
    }
}
