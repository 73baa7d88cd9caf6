package io.seqrec.kafka;

import io.seqrec.config.DeliveryGuarantee;
import io.seqrec.config.JobConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka ACLs the job's principal needs, and no more: the one list that {@code run}'s start-up
 * check ({@link KafkaPreflight}), the broker tests and the Strimzi {@code KafkaUser} in {@code
 * k8s/} are held to.
 *
 * <ul>
 *   <li>READ on the input topic: the source fetches it, and lists its partitions and offsets
 *       (DESCRIBE, which READ implies).
 *   <li>READ on the consumer group ({@code --group-id}): the source commits its offsets there on
 *       every checkpoint and, with {@code --starting-offsets committed}, reads them at start.
 *   <li>WRITE on the output and dead-letter topics (which implies DESCRIBE, for metadata). An
 *       idempotent producer needs no IDEMPOTENT_WRITE on the cluster when it may write to a topic
 *       (KIP-679).
 *   <li>With {@code --delivery-guarantee exactly-once} only: WRITE on transactional ids starting
 *       with {@code <--transactional-id-prefix>-} (prefixed): the sinks name their transactions
 *       {@code <prefix>-rec-<subtask>-<n>} and {@code <prefix>-dlq-<subtask>-<n>}, and the restore
 *       check describes them (DESCRIBE, which WRITE implies).
 * </ul>
 */
public final class JobAcls {
    private JobAcls() {}

    /** One ALLOW rule: an operation on a resource, matched literally or by prefix. */
    public record Grant(
            ResourceType resourceType,
            String name,
            PatternType patternType,
            AclOperation operation) {

        /** The rule for {@code principal} (e.g. {@code User:seqrec}) from any host. */
        public AclBinding binding(String principal) {
            return new AclBinding(
                    new ResourcePattern(resourceType, name, patternType),
                    new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
        }

        /** E.g. {@code READ on topic 'behavior-events'}, for messages. */
        @Override
        public String toString() {
            String resource =
                    switch (resourceType) {
                        case TOPIC -> "topic";
                        case GROUP -> "group";
                        case TRANSACTIONAL_ID -> "transactional ids";
                        default -> resourceType.name().toLowerCase(java.util.Locale.ROOT);
                    };
            String match = patternType == PatternType.PREFIXED ? " prefixed '" : " '";
            return operation + " on " + resource + match + name + "'";
        }
    }

    /** The rules the job configured by {@code config} needs. */
    public static List<Grant> of(JobConfig config) {
        List<Grant> grants = new ArrayList<>();
        grants.add(literal(ResourceType.TOPIC, config.inputTopic(), AclOperation.READ));
        grants.add(literal(ResourceType.GROUP, config.groupId(), AclOperation.READ));
        grants.add(literal(ResourceType.TOPIC, config.outputTopic(), AclOperation.WRITE));
        grants.add(literal(ResourceType.TOPIC, config.dlqTopic(), AclOperation.WRITE));
        if (config.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE) {
            grants.add(
                    new Grant(
                            ResourceType.TRANSACTIONAL_ID,
                            transactionalIdPrefix(config),
                            PatternType.PREFIXED,
                            AclOperation.WRITE));
        }
        return List.copyOf(grants);
    }

    /** What every transactional id the job's sinks use starts with. */
    static String transactionalIdPrefix(JobConfig config) {
        return config.transactionalIdPrefix() + "-";
    }

    private static Grant literal(ResourceType type, String name, AclOperation operation) {
        return new Grant(type, name, PatternType.LITERAL, operation);
    }
}
