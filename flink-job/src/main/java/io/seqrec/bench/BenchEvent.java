package io.seqrec.bench;

/** One input event of a benchmark run: who turned to which item. */
public record BenchEvent(String userId, String itemId) {}
