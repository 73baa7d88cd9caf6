/**
 * Where events for {@code seqrec demo}, {@code produce}, {@code generate} and {@code bench} come
 * from: seeded synthetic behavior, with regularities a sequence model can learn, and malformed
 * records of many kinds (also the shipped model's training data and test data); and replays of real
 * interaction files ({@link io.seqrec.generator.ReplaySource}).
 *
 * <p>Dependencies: {@code io.seqrec.event}, whose {@link io.seqrec.event.EventCodec} writes every
 * valid event; the JDK otherwise.
 */
package io.seqrec.generator;
