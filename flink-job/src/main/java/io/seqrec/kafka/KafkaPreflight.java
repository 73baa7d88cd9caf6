package io.seqrec.kafka;

import io.seqrec.config.JobConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the job is submitted, that Kafka can be used with exactly the settings the job's
 * source and sinks will use ({@code --bootstrap-servers} and {@code --kafka-properties}): the
 * brokers answer, accept the credentials, and serve the input, output and dead-letter topics.
 * Without it, a wrong password or a missing topic shows up as a job that restarts over and over.
 * Bounded: gives up after the given timeout.
 */
public final class KafkaPreflight {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaPreflight.class);

    private KafkaPreflight() {}

    /**
     * @throws KafkaUnavailableException naming the bootstrap servers and what failed
     */
    public static void check(JobConfig config, Duration timeout) {
        Properties props = KafkaConnectors.clientProperties(config);
        LOG.info(
                "Kafka client settings for {}: {}",
                config.bootstrapServers(),
                ClientSettings.masked(props));
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "seqrec-preflight");
        props.put(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        props.put(
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                Long.toString(Math.min(timeout.toMillis(), 15_000)));
        String where = "Kafka at " + config.bootstrapServers();
        List<String> topics = new ArrayList<>();
        topics.add(config.inputTopic());
        topics.add(config.outputTopic());
        topics.add(config.dlqTopic());
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            admin.describeTopics(topics)
                    .allTopicNames()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof AuthenticationException) {
                throw new KafkaUnavailableException(
                        where
                                + ": authentication failed ("
                                + cause.getMessage()
                                + "); check the credentials in --kafka-properties",
                        cause);
            }
            if (cause instanceof AuthorizationException) {
                throw new KafkaUnavailableException(
                        where + ": not authorized: " + cause.getMessage(), cause);
            }
            if (cause instanceof UnknownTopicOrPartitionException) {
                throw new KafkaUnavailableException(
                        where
                                + ": a topic is missing (the job needs "
                                + String.join(", ", topics)
                                + "): "
                                + cause.getMessage(),
                        cause);
            }
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(where, timeout, cause);
            }
            throw new KafkaUnavailableException(where + ": " + cause, cause);
        } catch (TimeoutException e) {
            throw unreachable(where, timeout, e);
        } catch (InterruptedException e) {
            throw new InterruptException(e);
        } catch (org.apache.kafka.common.KafkaException e) {
            // e.g. an invalid security setting: Admin.create itself refuses it
            throw new KafkaUnavailableException(where + ": " + e.getMessage(), e);
        }
    }

    private static KafkaUnavailableException unreachable(
            String where, Duration timeout, Throwable cause) {
        return new KafkaUnavailableException(
                where
                        + ": no answer within "
                        + timeout.toSeconds()
                        + " s (unreachable, or --kafka-properties does not match the listener's"
                        + " security protocol)",
                cause);
    }
}
