package io.seqrec.config;

/** How output reaches Kafka after a failure. */
public enum DeliveryGuarantee {
    /** Low latency; after a failure records may repeat, identical and with the same {@code seq}. */
    AT_LEAST_ONCE,
    /** Kafka transactions: visible to read_committed consumers when a checkpoint completes. */
    EXACTLY_ONCE
}
