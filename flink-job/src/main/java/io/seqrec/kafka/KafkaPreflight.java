package io.seqrec.kafka;

import io.seqrec.config.JobConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the job is submitted, that Kafka can be used with exactly the settings the job's
 * source and sinks will use ({@code --bootstrap-servers} and {@code --kafka-properties}): the
 * brokers answer, complete the TLS handshake, accept the credentials, serve the input, output and
 * dead-letter topics, and grant the job's principal the ACLs in {@link JobAcls} as far as a client
 * can tell (topics: exactly; the group: once it exists, before that only whether any right on it is
 * granted; transactional ids: DESCRIBE, not WRITE). Without it, a wrong password, an untrusted
 * certificate, a missing topic or ACL shows up as a job that restarts over and over. Bounded: gives
 * up after the given timeout.
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
        List<JobAcls.Grant> needed = JobAcls.of(config);
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<JobAcls.Grant> missing = new ArrayList<>();
            missing.addAll(missingOnTopics(admin, needed, timeout));
            missing.addAll(missingOnGroup(admin, needed, timeout));
            missing.addAll(missingOnTransactionalIds(admin, needed, timeout));
            if (!missing.isEmpty()) {
                throw new KafkaUnavailableException(
                        where
                                + ": not authorized: the job's principal lacks "
                                + joined(missing)
                                + " (the job needs "
                                + joined(needed)
                                + ")",
                        null);
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SslAuthenticationException) {
                throw new KafkaUnavailableException(
                        where
                                + ": TLS handshake with the broker failed ("
                                + rootMessage(cause)
                                + "); check ssl.truststore.* in --kafka-properties (it must hold"
                                + " the CA that signed the broker's certificate, and that"
                                + " certificate must name the host given in --bootstrap-servers)"
                                + " and, where the broker requires client certificates,"
                                + " ssl.keystore.* (a certificate signed by a CA the broker"
                                + " trusts)",
                        cause);
            }
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

    /**
     * The topic rules the principal lacks, from the operations the broker says it may perform on
     * each topic ({@code includeAuthorizedOperations}); no DESCRIBE at all shows as a topic
     * authorization failure.
     */
    private static List<JobAcls.Grant> missingOnTopics(
            Admin admin, List<JobAcls.Grant> needed, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<JobAcls.Grant> onTopics = of(needed, ResourceType.TOPIC);
        Map<String, KafkaFuture<TopicDescription>> described =
                admin.describeTopics(
                                onTopics.stream().map(JobAcls.Grant::name).distinct().toList(),
                                new DescribeTopicsOptions().includeAuthorizedOperations(true))
                        .topicNameValues();
        List<JobAcls.Grant> missing = new ArrayList<>();
        for (JobAcls.Grant grant : onTopics) {
            try {
                TopicDescription d =
                        described.get(grant.name()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!allows(d.authorizedOperations(), grant.operation())) {
                    missing.add(grant);
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicAuthorizationException)) {
                    throw e;
                }
                missing.add(grant);
            }
        }
        return missing;
    }

    /**
     * The group rule, if lacking. A group that does not exist yet (the job's first start) has no
     * authorized operations to report: then only a lack of any right on it shows.
     */
    private static List<JobAcls.Grant> missingOnGroup(
            Admin admin, List<JobAcls.Grant> needed, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<JobAcls.Grant> missing = new ArrayList<>();
        for (JobAcls.Grant grant : of(needed, ResourceType.GROUP)) {
            try {
                ConsumerGroupDescription d =
                        admin.describeConsumerGroups(
                                        List.of(grant.name()),
                                        new DescribeConsumerGroupsOptions()
                                                .includeAuthorizedOperations(true))
                                .describedGroups()
                                .get(grant.name())
                                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (d.groupState() != GroupState.DEAD
                        && !allows(d.authorizedOperations(), grant.operation())) {
                    missing.add(grant);
                }
            } catch (ExecutionException e) {
                if (e.getCause() instanceof GroupAuthorizationException) {
                    missing.add(grant);
                } else if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                    throw e;
                }
            }
        }
        return missing;
    }

    /**
     * The transactional-id rule, if lacking. The broker reports no authorized operations for
     * transactional ids; describing the first id each sink uses tells whether the principal may
     * DESCRIBE them (a WRITE rule grants that), not whether it may WRITE.
     */
    private static List<JobAcls.Grant> missingOnTransactionalIds(
            Admin admin, List<JobAcls.Grant> needed, Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<JobAcls.Grant> missing = new ArrayList<>();
        for (JobAcls.Grant grant : of(needed, ResourceType.TRANSACTIONAL_ID)) {
            for (String role : List.of("rec", "dlq")) {
                try {
                    admin.describeTransactions(List.of(grant.name() + role + "-0-1"))
                            .all()
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TransactionalIdAuthorizationException) {
                        missing.add(grant);
                        break;
                    }
                    if (!(e.getCause() instanceof TransactionalIdNotFoundException)) {
                        throw e;
                    }
                }
            }
        }
        return missing;
    }

    private static List<JobAcls.Grant> of(List<JobAcls.Grant> grants, ResourceType type) {
        return grants.stream().filter(g -> g.resourceType() == type).toList();
    }

    /** Whether {@code authorized} (null: the broker did not say) includes {@code operation}. */
    private static boolean allows(Set<AclOperation> authorized, AclOperation operation) {
        return authorized == null
                || authorized.contains(operation)
                || authorized.contains(AclOperation.ALL);
    }

    private static String joined(List<JobAcls.Grant> grants) {
        return grants.stream().map(JobAcls.Grant::toString).collect(Collectors.joining(", "));
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.getMessage() : e.getMessage() + ": " + root.getMessage();
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
