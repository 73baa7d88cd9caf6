package io.seqrec.pipeline;

import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.EventType;
import io.seqrec.event.SourcePosition;
import java.nio.charset.StandardCharsets;

/** Test data builder for events, with fixed instants. */
final class Events {
    static final long T0 = 1_767_225_600_000L;

    private Events() {}

    static BehaviorEvent event(String user, String item, long offsetMs, String eventId) {
        return event(user, item, EventType.VIEW, offsetMs, eventId);
    }

    /** The same, in the argument order of the live-evaluation tests. */
    static BehaviorEvent event(
            String user, String item, long offsetMs, String eventId, EventType type) {
        return event(user, item, type, offsetMs, eventId);
    }

    static BehaviorEvent event(
            String user, String item, EventType type, long offsetMs, String eventId) {
        String json =
                "{\"user_id\":\""
                        + user
                        + "\",\"item_id\":\""
                        + item
                        + "\",\"event_type\":\""
                        + type.wireName()
                        + "\",\"ts\":"
                        + (T0 + offsetMs)
                        + "}";
        return new BehaviorEvent(
                user,
                item,
                type,
                T0 + offsetMs,
                eventId,
                new SourcePosition("behavior-events", 0, offsetMs),
                T0 + offsetMs,
                user.getBytes(StandardCharsets.UTF_8),
                json.getBytes(StandardCharsets.UTF_8),
                false,
                user);
    }

    /** A deletion request for {@code user}, as the parser makes it. */
    static BehaviorEvent forget(String user, long offsetMs, String eventId) {
        String json =
                "{\"user_id\":\""
                        + user
                        + "\",\"event_type\":\"forget\",\"ts\":"
                        + (T0 + offsetMs)
                        + "}";
        return BehaviorEvent.forget(
                user,
                T0 + offsetMs,
                eventId,
                new SourcePosition("behavior-events", 0, offsetMs),
                T0 + offsetMs,
                user.getBytes(StandardCharsets.UTF_8),
                json.getBytes(StandardCharsets.UTF_8));
    }

    /** Event types as a user's state stores them: their ordinals. */
    static byte[] ordinals(EventType... types) {
        byte[] out = new byte[types.length];
        for (int i = 0; i < types.length; i++) {
            out[i] = (byte) types[i].ordinal();
        }
        return out;
    }
}
