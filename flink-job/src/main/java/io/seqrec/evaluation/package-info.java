/**
 * How recommendations are scored against what users do next, with one definition for every place
 * that reports it: the job's live metrics, the live figures it writes to the model registry for
 * {@code seqrec models status}, and the demo's summary. {@link io.seqrec.evaluation.LiveEvaluation}
 * records checks; {@link io.seqrec.evaluation.LiveTotals} is their sums as a value, which adds up
 * over subtasks and gives rates and 95 % confidence intervals. {@link
 * io.seqrec.evaluation.PopularityBaseline} checks the same protocol against the most-popular list;
 * {@link io.seqrec.evaluation.BeyondAccuracy} computes coverage, novelty and intra-list diversity.
 *
 * <p>Dependencies: none beyond the JDK. Callers are {@code io.seqrec.pipeline}, {@code
 * io.seqrec.registry}, {@code io.seqrec.cli} and the tests.
 */
package io.seqrec.evaluation;
