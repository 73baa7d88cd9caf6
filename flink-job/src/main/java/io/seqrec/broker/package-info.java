/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) running inside this JVM,
 * {@link io.seqrec.broker.EmbeddedKafkaBroker}, for {@code seqrec demo}, {@code seqrec bench},
 * {@code seqrec broker} and the tests. The tests' child-process variant that can be killed and
 * restarted ({@code KafkaBrokerProcess}) shares its configuration and lives in the test sources of
 * this package.
 *
 * <p>Dependencies: the Kafka broker ({@code kafka_2.13}, {@code kafka-server}; Maven scope
 * provided, so never part of the job jar) and {@code kafka-clients}; Log4j only by reflection, when
 * present. Nothing from Flink, nothing from the rest of seqrec. The job must not depend on this
 * package: on a cluster the broker classes it needs are absent. Callers are {@code io.seqrec.cli},
 * {@code io.seqrec.bench} and the tests.
 */
package io.seqrec.broker;
