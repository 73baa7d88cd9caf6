package io.seqrec.event;

/** Topic, partition and offset of an input record: enough to find it again. */
public record SourcePosition(String topic, int partition, long offset) {

    /** The stable event id derived when a record carries none. */
    public String derivedEventId() {
        return topic + "-" + partition + "-" + offset;
    }
}
