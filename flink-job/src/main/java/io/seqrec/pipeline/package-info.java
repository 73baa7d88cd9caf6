/**
 * The recommender's dataflow ({@link io.seqrec.pipeline.RecommenderJob}), independent of where
 * events come from and go to: parsing with dead letters, the keyed operator that keeps each user's
 * sequence in state and runs batched inference ({@link io.seqrec.pipeline.RecommendOperator}), live
 * evaluation, and the Flink settings the job's guarantees need ({@link
 * io.seqrec.pipeline.JobEnvironment}).
 *
 * <p>Dependencies: {@code io.seqrec.config}, {@code io.seqrec.event} and {@code io.seqrec.model};
 * Flink's DataStream API and runtime ({@code flink-streaming-java}, {@code flink-core}, {@code
 * flink-runtime} for a metrics histogram), the ONNX Runtime Java API (to see whether a GPU provider
 * is available) and the SLF4J API. Not {@code io.seqrec.kafka}: the source and sinks come in
 * through the constructor, so tests can plug in bounded sources and collecting sinks.
 */
package io.seqrec.pipeline;
