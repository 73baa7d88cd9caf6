/**
 * Kafka plumbing for local runs, benchmarks and tests: a real single-node KRaft broker in this JVM
 * ({@link io.seqrec.kafka.EmbeddedKafkaBroker}) or as a child process that can be crashed and
 * restarted ({@link io.seqrec.kafka.KafkaBrokerProcess}).
 *
 * <p>Dependencies: the Kafka broker ({@code kafka_2.13}, {@code kafka-server}, scope provided, so
 * never part of the job jar) and {@code kafka-clients}; nothing from Flink, nothing from the rest
 * of seqrec. The job itself must not depend on this package: on a cluster the broker classes are
 * absent. Callers are the {@code seqrec demo} / {@code bench} launchers and tests.
 */
package io.seqrec.kafka;
