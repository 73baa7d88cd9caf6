package io.seqrec.generator;

/**
 * One generated input record: Kafka key (the user id, or {@code null} for some malformed records),
 * the JSON value, and whether it is a valid event.
 */
public record GeneratedRecord(String key, String value, boolean valid) {}
