package io.seqrec.event;

/**
 * A behavior event as a producer writes it to the input topic (see {@link EventCodec}); what the
 * job reads back is a {@link BehaviorEvent}.
 *
 * @param eventId idempotence key, or {@code null} to leave it out (the job then uses the record's
 *     topic-partition-offset)
 */
public record InputEvent(String eventId, String userId, String itemId, EventType type, long ts) {

    /** The same event at another time: producers stamp generated events with the send time. */
    public InputEvent withTs(long newTs) {
        return new InputEvent(eventId, userId, itemId, type, newTs);
    }
}
