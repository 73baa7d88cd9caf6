/**
 * The {@code seqrec} command line and the jar's main class ({@link io.seqrec.cli.Main}): {@code
 * run}, {@code demo}, {@code bench}, {@code broker}, {@code produce}, {@code generate} and {@code
 * tail}. {@link io.seqrec.cli.JobLauncher} wires the Kafka-backed job after probing the model; the
 * integration tests build the job through it as well.
 *
 * <p>Dependencies: every other seqrec package ({@code config}, {@code event}, {@code generator},
 * {@code model}, {@code pipeline}, {@code kafka}, and {@code broker} for the commands that start a
 * local broker); Flink's environment and configuration ({@code flink-streaming-java}, {@code
 * flink-core}, {@code flink-runtime}) and {@code kafka-clients} for producing, tailing and topic
 * creation. No other package of the job depends on this one; the tests do.
 */
package io.seqrec.cli;
