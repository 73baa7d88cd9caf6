/**
 * What is popular now, for users the model cannot serve: a time-decayed heavy-hitters sketch of
 * item interactions in bounded memory ({@link io.seqrec.trending.TrendingSketch}), kept by every
 * subtask from the events it sees.
 *
 * <p>Dependencies: none beyond the JDK. The caller is {@code io.seqrec.pipeline}.
 */
package io.seqrec.trending;
