/**
 * The model artifact and inference: the contract an artifact directory must meet ({@link
 * io.seqrec.model.ModelArtifact}, with its table from item key to the model's index), the SASRec
 * model on ONNX Runtime through DJL ({@link io.seqrec.model.OnnxSequenceModel}), the check that a
 * loaded model reproduces the artifact's reference vectors before it serves ({@link
 * io.seqrec.model.ModelVerifier}), batching of variable-length sequences into model calls ({@link
 * io.seqrec.model.BatchScorer}) and top-K selection.
 *
 * <p>Dependencies: DJL ({@code ai.djl:api}, with the {@code onnxruntime-engine} at run time), the
 * ONNX Runtime Java API (to check the graph's input tensor), {@code jackson-databind} (for {@code
 * metadata.json}) and, of seqrec, only {@link io.seqrec.event.StableHash} (the item key users'
 * histories name items by) and {@link io.seqrec.event.EventType} (whose codes a type-aware model's
 * behaviors input declares); nothing from Flink or Kafka, so the JMH benchmarks in {@code
 * benchmarks/} can measure it alone.
 */
package io.seqrec.model;
