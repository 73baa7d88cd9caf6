/**
 * The job's side of Kafka: the Flink source and sinks built from {@link io.seqrec.config.JobConfig}
 * ({@link io.seqrec.kafka.KafkaConnectors}), the record (de)serializers they use, the start-up
 * check that Kafka serves the job's topics with the job's own client settings ({@link
 * io.seqrec.kafka.KafkaPreflight}), and client settings made safe to print ({@link
 * io.seqrec.kafka.ClientSettings}). Everything here ships in the job jar and runs on a cluster.
 * Also the client-side tools of the local commands: a paced producer of input events ({@link
 * io.seqrec.kafka.EventSender}), creation of the job's topics ({@link io.seqrec.kafka.Topics}) and
 * a consumer of its output ({@link io.seqrec.kafka.OutputConsumer}).
 *
 * <p>Dependencies: {@code io.seqrec.config} and {@code io.seqrec.event}; Flink's Kafka connector
 * ({@code flink-connector-kafka}, with {@code flink-connector-base} and {@code flink-core} types),
 * {@code kafka-clients} and the SLF4J API. Never the Kafka broker ({@code io.seqrec.broker}), which
 * is absent on a cluster. Callers are {@code io.seqrec.launch}, {@code io.seqrec.cli}, {@code
 * io.seqrec.bench} and the tests; {@code io.seqrec.pipeline} takes its source and sinks as
 * parameters and does not use this package.
 */
package io.seqrec.kafka;
