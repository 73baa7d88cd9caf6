package io.seqrec.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * Writes input events in the input topic's JSON format, the one {@link EventParser} reads: every
 * producer of events in seqrec (the generator, {@code produce}, {@code demo}, {@code bench}, the
 * tests) goes through here, so what they write is escaped correctly and parses as they meant it.
 *
 * <pre>
 * {"event_id":"e1","user_id":"u1","item_id":"i9","event_type":"view","ts":1700000000000}
 * </pre>
 */
public final class EventCodec {
    private static final JsonFactory JSON = new JsonFactory();

    private EventCodec() {}

    public static String toJson(InputEvent e) {
        StringWriter out = new StringWriter(96);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            if (e.eventId() != null) {
                g.writeStringField("event_id", e.eventId());
            }
            g.writeStringField("user_id", e.userId());
            g.writeStringField("item_id", e.itemId());
            g.writeStringField("event_type", e.type().wireName());
            g.writeNumberField("ts", e.ts());
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString();
    }
}
