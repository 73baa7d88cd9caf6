package io.seqrec.event;

import java.util.Locale;

/** Why a record went to the dead-letter topic. The wire name is the lower-case constant name. */
public enum DeadLetterReason {
    /** The value is null (a tombstone) or empty. */
    EMPTY_VALUE,
    /** The value exceeds the configured maximum record size. */
    RECORD_TOO_LARGE,
    /** The value is not valid UTF-8. */
    INVALID_UTF8,
    /** The value is not well-formed JSON. */
    INVALID_JSON,
    /** The value is JSON, but not an object. */
    NOT_AN_OBJECT,
    /** The JSON nests deeper than an event ever needs. */
    TOO_DEEPLY_NESTED,
    /** A required field is absent or null. */
    MISSING_FIELD,
    /** A field has the wrong JSON type. */
    WRONG_TYPE,
    /** A required string field is empty or blank. */
    EMPTY_FIELD,
    /** A string field is longer than the configured maximum. */
    FIELD_TOO_LONG,
    /** A string field contains control characters. */
    INVALID_CHARACTERS,
    /** A field appears twice in one object. */
    DUPLICATE_FIELD,
    /** {@code event_type} is not one of the known types. */
    UNKNOWN_EVENT_TYPE,
    /** {@code ts} is negative, zero or not an integral number of milliseconds. */
    INVALID_TIMESTAMP,
    /** {@code ts} lies further ahead of the record's Kafka timestamp than allowed. */
    FUTURE_TIMESTAMP,
    /** The event is older than the user's newest event by more than the allowed lateness. */
    LATE,
    /** The event id was already applied to this user's sequence. */
    DUPLICATE_EVENT_ID,
    /** The model failed on the batch holding this event. */
    INFERENCE_FAILED,
    /** The user's events beyond {@code --max-events-per-user-per-second} (by event time). */
    RATE_LIMITED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
