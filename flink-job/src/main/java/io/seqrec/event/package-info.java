/**
 * The job's records and wire formats: the raw input record and where it came from, the strict
 * parser that turns it into a {@link io.seqrec.event.BehaviorEvent} or a dead-letter reason, the
 * {@link io.seqrec.event.Recommendation} and its JSON codec, the dead letter, the writer of input
 * events ({@link io.seqrec.event.EventCodec}) that every producer in seqrec uses, and the stable
 * hash that names items and event ids in state ({@link io.seqrec.event.StableHash}).
 *
 * <p>Dependencies: Jackson ({@code jackson-core} streaming parser and generator, {@code
 * jackson-databind} to read recommendations back); no other seqrec package, nothing from Flink or
 * Kafka, so the formats are the same wherever they are read or written.
 */
package io.seqrec.event;
