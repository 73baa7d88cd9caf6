package io.seqrec.config;

/** Where the source starts when it has no checkpointed position. */
public enum StartingOffsets {
    /** The consumer group's committed offsets, else the earliest. */
    COMMITTED,
    EARLIEST,
    LATEST
}
