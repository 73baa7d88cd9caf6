/**
 * {@code seqrec bench}: end-to-end throughput and latency on this machine against the bare-model
 * ceiling and the unbatched and naive pipelines ({@link io.seqrec.bench.Benchmark}), one phase at a
 * time ({@link io.seqrec.bench.PhaseRunner}, {@link io.seqrec.bench.OutputProbe}), the model step
 * alone ({@link io.seqrec.bench.BareInference}), and the latency statistics that {@code demo}
 * reports too ({@link io.seqrec.bench.LatencyStats}).
 *
 * <p>Dependencies: {@code io.seqrec.broker} (the in-process broker each run starts), {@code
 * io.seqrec.launch}, {@code io.seqrec.kafka}, {@code io.seqrec.generator}, {@code io.seqrec.event},
 * {@code io.seqrec.model}, {@code io.seqrec.pipeline} (the operator's options and state, which the
 * bare run applies as the job does) and {@code io.seqrec.config}; Flink's key-group assignment and
 * {@code kafka-clients}. Only {@code io.seqrec.cli} uses it.
 */
package io.seqrec.bench;
