package io.seqrec.event;

/**
 * An input record as it came off Kafka, before any parsing. Key and value may be {@code null}
 * (tombstones and key-less records are legal Kafka records, and must be dead-lettered, not lost).
 */
public record RawRecord(byte[] key, byte[] value, SourcePosition source, long timestamp) {}
