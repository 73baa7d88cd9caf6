/**
 * The model registry: versions of model artifacts and the pointer that splits traffic between a
 * stable version and a canary, on any Flink file system ({@link io.seqrec.registry.ModelRegistry},
 * {@link io.seqrec.registry.RegistryPointer}). {@code seqrec models} changes it; a job polls it to
 * swap models while it runs.
 *
 * <p>Serving subtasks also write their live figures by version there ({@link
 * io.seqrec.registry.LiveReport}), so {@code models status} can compare the versions without access
 * to the job's metrics.
 *
 * <p>Dependencies: {@code io.seqrec.model} (the artifact contract, and the verifier that runs a
 * model on its reference vectors before it is published), {@code io.seqrec.evaluation} (the live
 * figures' sums); Flink's file-system API ({@code org.apache.flink.core.fs} in {@code flink-core},
 * which a cluster provides with its plugins) and {@code jackson-databind}, the SLF4J API. No other
 * seqrec package: the job and the CLI use this one.
 */
package io.seqrec.registry;
