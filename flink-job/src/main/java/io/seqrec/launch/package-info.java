/**
 * Starting the job: {@link io.seqrec.launch.JobLauncher} wires the Kafka-backed dataflow after
 * probing the model (the one way {@code seqrec run}, {@code demo}, {@code bench} and the
 * integration tests build the job), {@link io.seqrec.launch.LocalJob} runs it on a Flink embedded
 * in this process, and {@link io.seqrec.launch.WorkDir} holds a local run's files.
 *
 * <p>Dependencies: {@code io.seqrec.config}, {@code io.seqrec.event}, {@code io.seqrec.kafka},
 * {@code io.seqrec.model} and {@code io.seqrec.pipeline}; Flink's DataStream API and client. Not
 * the broker: where Kafka runs is the caller's business.
 */
package io.seqrec.launch;
