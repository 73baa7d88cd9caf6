package io.seqrec.event;

/**
 * A record the job could not accept: the original key and value bytes, why, and where it came from.
 * Written to the dead-letter topic with the original bytes as the value and the rest as headers, so
 * nothing about the input is lost.
 */
public record DeadLetter(
        DeadLetterReason reason,
        String detail,
        SourcePosition source,
        long timestamp,
        byte[] key,
        byte[] value) {

    public static DeadLetter of(RawRecord record, DeadLetterReason reason, String detail) {
        return new DeadLetter(
                reason, detail, record.source(), record.timestamp(), record.key(), record.value());
    }

    public static DeadLetter of(BehaviorEvent event, DeadLetterReason reason, String detail) {
        return new DeadLetter(
                reason,
                detail,
                event.source(),
                event.producedTs(),
                event.rawKey(),
                event.rawValue());
    }
}
