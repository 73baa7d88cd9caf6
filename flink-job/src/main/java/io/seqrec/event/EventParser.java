package io.seqrec.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.io.Serializable;

/**
 * Turns an input record into a {@link BehaviorEvent} or says precisely why it cannot.
 *
 * <p>Strict by design: every way a producer can get a record wrong maps to its own {@link
 * DeadLetterReason}, so a platform reading the dead-letter topic knows what to fix. Unknown fields
 * are ignored (producers may add fields before the job knows them). Uses Jackson's streaming
 * parser: no tree, no reflection, bounded nesting and string sizes.
 */
public final class EventParser implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int MAX_NESTING_DEPTH = 16;

    /**
     * The {@code event_type} of a deletion request: not an {@link EventType} (no behavior, never in
     * a history), so it is decided here and carried as {@link BehaviorEvent#forget()}.
     */
    public static final String FORGET = "forget";

    private final int maxRecordBytes;
    private final int maxFieldLength;
    private final long maxFutureSkewMs;
    private transient JsonFactory json;

    /**
     * @param maxRecordBytes values longer than this are rejected unread
     * @param maxFieldLength longest accepted {@code user_id}, {@code item_id}, {@code event_id}
     * @param maxFutureSkewMs how far {@code ts} may lie ahead of the record's Kafka timestamp
     */
    public EventParser(int maxRecordBytes, int maxFieldLength, long maxFutureSkewMs) {
        this.maxRecordBytes = maxRecordBytes;
        this.maxFieldLength = maxFieldLength;
        this.maxFutureSkewMs = maxFutureSkewMs;
    }

    public BehaviorEvent parse(RawRecord record) throws InvalidRecordException {
        byte[] value = record.value();
        if (value == null || value.length == 0) {
            throw new InvalidRecordException(DeadLetterReason.EMPTY_VALUE, "record has no value");
        }
        if (value.length > maxRecordBytes) {
            throw new InvalidRecordException(
                    DeadLetterReason.RECORD_TOO_LARGE,
                    "value is " + value.length + " bytes, limit " + maxRecordBytes);
        }
        checkUtf8(value);
        if (value.length >= 3
                && value[0] == (byte) 0xEF
                && value[1] == (byte) 0xBB
                && value[2] == (byte) 0xBF) {
            // Jackson would skip it silently; RFC 8259 forbids sending one, so say so.
            throw new InvalidRecordException(
                    DeadLetterReason.INVALID_JSON, "value starts with a byte order mark");
        }

        String userId = null;
        String itemId = null;
        String eventId = null;
        EventType eventType = null;
        boolean forget = false;
        long ts = 0;
        boolean hasTs = false;
        JsonParser p;
        try {
            p = factory().createParser(value);
        } catch (IOException e) {
            throw new InvalidRecordException(DeadLetterReason.INVALID_JSON, e.getMessage());
        }
        try (p) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidRecordException(
                        DeadLetterReason.NOT_AN_OBJECT, "value is not a JSON object");
            }
            JsonToken token;
            while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                switch (field) {
                    case "user_id":
                        userId = readId(p, v, field);
                        break;
                    case "item_id":
                        itemId = readId(p, v, field);
                        break;
                    case "event_id":
                        eventId = v == JsonToken.VALUE_NULL ? null : readId(p, v, field);
                        break;
                    case "event_type":
                        forget = v == JsonToken.VALUE_STRING && FORGET.equals(p.getText());
                        if (!forget) {
                            eventType = readEventType(p, v);
                        }
                        break;
                    case "ts":
                        ts = readTimestamp(p, v);
                        hasTs = v != JsonToken.VALUE_NULL;
                        break;
                    default:
                        p.skipChildren();
                }
            }
            if (token != JsonToken.END_OBJECT) {
                throw new InvalidRecordException(DeadLetterReason.INVALID_JSON, "malformed object");
            }
            if (p.nextToken() != null) {
                throw new InvalidRecordException(
                        DeadLetterReason.INVALID_JSON, "trailing content after the object");
            }
        } catch (StreamConstraintsException e) {
            DeadLetterReason reason;
            if (e.getMessage().contains("depth")) {
                reason = DeadLetterReason.TOO_DEEPLY_NESTED;
            } else if ("ts".equals(p.getParsingContext().getCurrentName())
                    && e.getMessage().startsWith("Number")) {
                // Jackson reads a scalar together with its field name: the context names its field.
                reason = DeadLetterReason.INVALID_TIMESTAMP;
            } else {
                reason = DeadLetterReason.FIELD_TOO_LONG;
            }
            throw new InvalidRecordException(reason, firstLine(e.getOriginalMessage()));
        } catch (JsonParseException e) {
            DeadLetterReason reason =
                    e.getOriginalMessage().startsWith("Duplicate field")
                            ? DeadLetterReason.DUPLICATE_FIELD
                            : DeadLetterReason.INVALID_JSON;
            throw new InvalidRecordException(reason, firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new InvalidRecordException(
                    DeadLetterReason.INVALID_JSON, firstLine(e.getMessage()));
        }

        if (userId == null) {
            throw missing("user_id");
        }
        if (eventId == null) {
            eventId = record.source().derivedEventId();
        }
        if (forget) {
            // A deletion request names a user and nothing else it needs: no item, and its time
            // (if given, checked as any ts) is not needed to order it, the partition does that.
            return BehaviorEvent.forget(
                    userId, ts, eventId, record.source(), record.timestamp(), record.key(), value);
        }
        if (itemId == null) {
            throw missing("item_id");
        }
        if (!hasTs) {
            throw missing("ts");
        }
        if (ts > record.timestamp() + maxFutureSkewMs && record.timestamp() > 0) {
            throw new InvalidRecordException(
                    DeadLetterReason.FUTURE_TIMESTAMP,
                    "ts "
                            + ts
                            + " is more than "
                            + maxFutureSkewMs
                            + " ms after the record time "
                            + record.timestamp());
        }
        return new BehaviorEvent(
                userId,
                itemId,
                eventType == null ? EventType.VIEW : eventType,
                ts,
                eventId,
                record.source(),
                record.timestamp(),
                record.key(),
                value,
                false,
                userId);
    }

    private String readId(JsonParser p, JsonToken v, String field)
            throws IOException, InvalidRecordException {
        if (v == JsonToken.VALUE_NULL) {
            throw missing(field);
        }
        if (v != JsonToken.VALUE_STRING) {
            p.skipChildren();
            throw new InvalidRecordException(
                    DeadLetterReason.WRONG_TYPE, field + " must be a string, got " + describe(v));
        }
        String s = p.getText();
        if (s.isBlank()) {
            throw new InvalidRecordException(DeadLetterReason.EMPTY_FIELD, field + " is empty");
        }
        if (s.length() > maxFieldLength) {
            throw new InvalidRecordException(
                    DeadLetterReason.FIELD_TOO_LONG,
                    field + " has " + s.length() + " characters, limit " + maxFieldLength);
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)
                    && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++; // a pair: one code point outside the BMP
                continue;
            }
            // An escaped lone surrogate (U+D800 without its pair) is valid JSON but no character:
            // it cannot be written back as UTF-8 (keys, output), so the id would change on the way
            // out.
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || Character.isSurrogate(c)) {
                throw new InvalidRecordException(
                        DeadLetterReason.INVALID_CHARACTERS,
                        field
                                + " contains "
                                + (Character.isSurrogate(c)
                                        ? "unpaired surrogate"
                                        : "control character")
                                + " U+"
                                + String.format("%04X", (int) c));
            }
        }
        return s;
    }

    private static EventType readEventType(JsonParser p, JsonToken v)
            throws IOException, InvalidRecordException {
        if (v == JsonToken.VALUE_NULL) {
            return null;
        }
        if (v != JsonToken.VALUE_STRING) {
            p.skipChildren();
            throw new InvalidRecordException(
                    DeadLetterReason.WRONG_TYPE, "event_type must be a string, got " + describe(v));
        }
        EventType type = EventType.fromWireName(p.getText());
        if (type == null) {
            throw new InvalidRecordException(
                    DeadLetterReason.UNKNOWN_EVENT_TYPE,
                    "event_type '"
                            + abbreviate(p.getText())
                            + "' is not one of view|click|cart|purchase|rate|"
                            + FORGET);
        }
        return type;
    }

    private static long readTimestamp(JsonParser p, JsonToken v)
            throws IOException, InvalidRecordException {
        switch (v) {
            case VALUE_NULL:
                return 0;
            case VALUE_NUMBER_INT:
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw new InvalidRecordException(
                            DeadLetterReason.INVALID_TIMESTAMP, "ts does not fit in 64 bits");
                }
                long ts = p.getLongValue();
                if (ts <= 0) {
                    throw new InvalidRecordException(
                            DeadLetterReason.INVALID_TIMESTAMP, "ts must be positive, got " + ts);
                }
                return ts;
            case VALUE_NUMBER_FLOAT:
                throw new InvalidRecordException(
                        DeadLetterReason.INVALID_TIMESTAMP,
                        "ts must be whole epoch milliseconds, got " + p.getText());
            default:
                p.skipChildren();
                throw new InvalidRecordException(
                        DeadLetterReason.WRONG_TYPE, "ts must be a number, got " + describe(v));
        }
    }

    /**
     * Rejects malformed UTF-8 up front: Jackson would only call it invalid JSON. Also a NUL byte,
     * which UTF-8 JSON text never holds (a NUL in a string is written {@code \u0000}): without this
     * check, Jackson would detect UTF-16 or UTF-32 from the zero bytes of an ASCII record and read
     * it in that encoding.
     */
    private static void checkUtf8(byte[] b) throws InvalidRecordException {
        int i = 0;
        int n = b.length;
        while (i < n) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                if (c == 0) {
                    throw new InvalidRecordException(
                            DeadLetterReason.INVALID_JSON,
                            "a NUL byte at byte "
                                    + i
                                    + ": not UTF-8 JSON (UTF-16 or UTF-32 text has them)");
                }
                i++;
                continue;
            }
            int extra;
            int min;
            if (c >= 0xc2 && c <= 0xdf) {
                extra = 1;
                min = 0x80;
            } else if (c >= 0xe0 && c <= 0xef) {
                extra = 2;
                min = 0x800;
            } else if (c >= 0xf0 && c <= 0xf4) {
                extra = 3;
                min = 0x10000;
            } else {
                throw invalidUtf8(i);
            }
            if (i + extra >= n) {
                throw invalidUtf8(i);
            }
            int cp = c & (0x3f >> extra);
            for (int k = 1; k <= extra; k++) {
                int cc = b[i + k] & 0xff;
                if ((cc & 0xc0) != 0x80) {
                    throw invalidUtf8(i);
                }
                cp = (cp << 6) | (cc & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                throw invalidUtf8(i);
            }
            i += extra + 1;
        }
    }

    private static InvalidRecordException invalidUtf8(int offset) {
        return new InvalidRecordException(
                DeadLetterReason.INVALID_UTF8, "invalid UTF-8 at byte " + offset);
    }

    private static InvalidRecordException missing(String field) {
        return new InvalidRecordException(
                DeadLetterReason.MISSING_FIELD, "required field " + field + " is missing or null");
    }

    private static String describe(JsonToken t) {
        switch (t) {
            case START_OBJECT:
                return "an object";
            case START_ARRAY:
                return "an array";
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return "a number";
            case VALUE_TRUE:
            case VALUE_FALSE:
                return "a boolean";
            default:
                return t.asString() == null ? t.name() : t.asString();
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 32 ? s : s.substring(0, 32) + "...";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private JsonFactory factory() {
        if (json == null) {
            json =
                    JsonFactory.builder()
                            .streamReadConstraints(
                                    StreamReadConstraints.builder()
                                            .maxNestingDepth(MAX_NESTING_DEPTH)
                                            .maxStringLength(Math.max(maxRecordBytes, 1024))
                                            .maxNumberLength(32)
                                            .build())
                            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                            .build();
        }
        return json;
    }
}
