package io.seqrec.generator;

import io.seqrec.event.EventCodec;
import io.seqrec.event.InputEvent;

/**
 * One generated input record: Kafka key (the user id, or {@code null} for some malformed records),
 * the JSON value, and the event it encodes ({@code null} for a malformed record).
 */
public record GeneratedRecord(String key, String value, InputEvent event) {

    public boolean valid() {
        return event != null;
    }

    /**
     * The value as sent at {@code ts}: a valid event re-encoded with that time (events are
     * generated ahead and stamped like live ones); a malformed record unchanged.
     */
    public String valueAt(long ts) {
        return event == null ? value : EventCodec.toJson(event.withTs(ts));
    }
}
