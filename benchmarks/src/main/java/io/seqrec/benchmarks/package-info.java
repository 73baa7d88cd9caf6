/**
 * JMH benchmarks of the inference component: the DJL model the job runs against the raw ONNX
 * Runtime Java API, batch sizes, padding policies, and top-K selection. Depends on the job's {@code
 * io.seqrec.model} package only. How to run them and the figures: {@code docs/BENCHMARKS.md}.
 */
package io.seqrec.benchmarks;
