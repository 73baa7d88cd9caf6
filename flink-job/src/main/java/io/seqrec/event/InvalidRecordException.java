package io.seqrec.event;

/**
 * Thrown by {@link EventParser} for a record that cannot become an event. Carries the dead-letter
 * reason; no stack trace, since bad input is data, not a bug.
 */
public final class InvalidRecordException extends Exception {
    private final DeadLetterReason reason;

    public InvalidRecordException(DeadLetterReason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public DeadLetterReason reason() {
        return reason;
    }
}
