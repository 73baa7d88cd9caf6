/**
 * Seeded synthetic behavior events, with regularities a sequence model can learn, and malformed
 * records of many kinds: the input of {@code seqrec demo}, {@code produce}, {@code generate} and
 * {@code bench}, the training data of the shipped model, and test data.
 *
 * <p>Dependencies: the JDK only; it writes the input JSON itself, without {@code io.seqrec.event}.
 */
package io.seqrec.generator;
