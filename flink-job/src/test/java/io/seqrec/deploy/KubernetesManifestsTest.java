package io.seqrec.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.seqrec.cli.CliContract;
import io.seqrec.config.JobConfig;
import io.seqrec.kafka.JobAcls;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import io.strimzi.api.kafka.model.user.KafkaUserAuthorizationSimple;
import io.strimzi.api.kafka.model.user.acl.AclResourcePatternType;
import io.strimzi.api.kafka.model.user.acl.AclRule;
import io.strimzi.api.kafka.model.user.acl.AclRuleGroupResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleTopicResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleTransactionalIdResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleType;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * k8s/ as the cluster would receive it: each overlay built (the kustomize subset in {@link
 * Kustomize}) and every object validated against its real schema or API type, and the pieces
 * checked against each other and against the job, the CLI and the images.
 */
class KubernetesManifestsTest {
    private static final String CRD = "META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml";

    /** The FlinkStateSnapshot CRD of the same operator-api jar (operator 1.10+). */
    private static final String SNAPSHOT_CRD =
            "META-INF/fabric8/flinkstatesnapshots.flink.apache.org-v1.yml";

    /**
     * The only change made to the operator-api 1.10.0 schema: its flinkVersion enum ends at v1_20
     * (the newest Maven Central serves here); Flink 2.x deployments need an operator that accepts
     * v2_x, which k8s/README.md installs.
     */
    private static final List<String> NEWER_FLINK_VERSIONS = List.of("v2_0", "v2_1", "v2_2");

    private static JsonNode flinkDeploymentSchema;
    private static JsonNode flinkStateSnapshotSchema;
    private static FlinkConfigKeys flinkKeys;
    private static Map<String, List<ObjectNode>> overlays;

    @TempDir static Path tmp;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in =
                KubernetesManifestsTest.class.getClassLoader().getResourceAsStream(CRD)) {
            JsonNode crd = Manifests.YAML.readTree(in);
            for (JsonNode version : crd.path("spec").path("versions")) {
                if (version.path("name").asText().equals("v1beta1")) {
                    flinkDeploymentSchema = version.path("schema").path("openAPIV3Schema");
                }
            }
        }
        flinkStateSnapshotSchema = v1beta1Schema(SNAPSHOT_CRD);
        ArrayNode versions =
                (ArrayNode)
                        flinkDeploymentSchema
                                .path("properties")
                                .path("spec")
                                .path("properties")
                                .path("flinkVersion")
                                .path("enum");
        assertThat(versions.toString()).contains("v1_20").doesNotContain("v2_");
        NEWER_FLINK_VERSIONS.forEach(versions::add);
        flinkKeys = FlinkConfigKeys.scan();
        overlays = new LinkedHashMap<>();
        for (String overlay : List.of("cpu", "gpu")) {
            overlays.put(
                    overlay, Kustomize.build(Manifests.k8s().resolve("overlays").resolve(overlay)));
        }
    }

    private static JsonNode v1beta1Schema(String crdResource) throws java.io.IOException {
        try (InputStream in =
                KubernetesManifestsTest.class.getClassLoader().getResourceAsStream(crdResource)) {
            assertThat(in).as(crdResource).isNotNull();
            for (JsonNode version : Manifests.YAML.readTree(in).path("spec").path("versions")) {
                if (version.path("name").asText().equals("v1beta1")) {
                    return version.path("schema").path("openAPIV3Schema");
                }
            }
        }
        throw new AssertionError("no v1beta1 in " + crdResource);
    }

    private static ObjectNode deployment(String overlay) {
        return overlayObject(overlay, "FlinkDeployment");
    }

    private static ObjectNode overlayObject(String overlay, String kind) {
        List<ObjectNode> docs = overlays.get(overlay);
        assertThat(docs)
                .extracting(d -> d.path("kind").asText())
                .containsExactlyInAnyOrder("FlinkDeployment", "PodDisruptionBudget");
        return docs.stream()
                .filter(d -> d.path("kind").asText().equals(kind))
                .findFirst()
                .orElseThrow();
    }

    /** Files applied with kubectl apply -f, and the objects each overlay produces. */
    private static Map<String, List<ObjectNode>> everythingApplied() {
        Map<String, List<ObjectNode>> out = new LinkedHashMap<>();
        List<Path> partial = new ArrayList<>();
        for (Path file : Manifests.yamlFiles(Manifests.k8s())) {
            if (file.getFileName().toString().equals("kustomization.yaml")) {
                partial.add(file);
                partial.addAll(Kustomize.patchFiles(file.getParent()));
            }
        }
        for (Path file : Manifests.yamlFiles(Manifests.k8s())) {
            if (!partial.contains(file) && !file.startsWith(Manifests.k8s().resolve("base"))) {
                out.put(Manifests.k8s().relativize(file).toString(), Manifests.documents(file));
            }
        }
        overlays.forEach((name, docs) -> out.put("overlays/" + name + " (built)", docs));
        return out;
    }

    @Test
    void everyObjectValidatesAgainstItsSchemaOrApiType() {
        Map<String, Integer> kinds = new HashMap<>();
        everythingApplied()
                .forEach(
                        (file, docs) -> {
                            for (ObjectNode doc : docs) {
                                String where = file + " " + Manifests.kindAndName(doc);
                                validate(doc, where);
                                kinds.merge(doc.path("kind").asText(), 1, Integer::sum);
                            }
                        });
        assertThat(kinds)
                .containsEntry("FlinkDeployment", 2)
                .containsEntry("PodDisruptionBudget", 2)
                .containsEntry("PrometheusRule", 1)
                .containsEntry("FlinkStateSnapshot", 1)
                .containsEntry("KafkaTopic", 3)
                .containsEntry("Secret", 3)
                .containsEntry("KafkaUser", 2)
                .containsEntry("Job", 3)
                .containsEntry("CronJob", 2)
                .containsKeys(
                        "ConfigMap",
                        "Namespace",
                        "Kafka",
                        "KafkaNodePool",
                        "KafkaUser",
                        "PodMonitor");
    }

    private static void validate(ObjectNode doc, String where) {
        String kind = doc.path("kind").asText();
        String apiVersion = doc.path("apiVersion").asText();
        switch (kind) {
            case "FlinkDeployment" -> {
                validateFlinkResource(doc, flinkDeploymentSchema, where);
                // The pod templates are core PodTemplateSpecs: check them against the real type
                // too.
                JsonNode spec = doc.path("spec");
                for (JsonNode template :
                        List.of(
                                spec.path("podTemplate"),
                                spec.path("jobManager").path("podTemplate"),
                                spec.path("taskManager").path("podTemplate"))) {
                    if (!template.isMissingNode()) {
                        StrictTypes.bind(template, PodTemplateSpec.class, where + " podTemplate");
                    }
                }
            }
            case "Kafka" -> StrictTypes.bind(doc, Kafka.class, where);
            case "KafkaNodePool" -> StrictTypes.bind(doc, KafkaNodePool.class, where);
            case "KafkaTopic" -> StrictTypes.bind(doc, KafkaTopic.class, where);
            case "KafkaUser" -> StrictTypes.bind(doc, KafkaUser.class, where);
            case "Namespace" -> StrictTypes.bind(doc, Namespace.class, where);
            case "Secret" -> StrictTypes.bind(doc, Secret.class, where);
            case "Job" -> StrictTypes.bind(doc, Job.class, where);
            case "CronJob" -> StrictTypes.bind(doc, CronJob.class, where);
            case "ConfigMap" -> StrictTypes.bind(doc, ConfigMap.class, where);
            case "PodMonitor" -> StrictTypes.bind(doc, PodMonitor.class, where);
            case "PrometheusRule" -> StrictTypes.bind(doc, PrometheusRule.class, where);
            case "PodDisruptionBudget" -> {
                assertThat(apiVersion).as(where).isEqualTo("policy/v1");
                StrictTypes.bind(doc, PodDisruptionBudget.class, where);
            }
            case "FlinkStateSnapshot" ->
                    validateFlinkResource(doc, flinkStateSnapshotSchema, where);
            default -> throw new AssertionError(where + ": no validator for kind " + kind);
        }
        if (kind.startsWith("Kafka")) {
            assertThat(apiVersion).as(where).isEqualTo("kafka.strimzi.io/v1beta2");
        }
        if (!kind.equals("Namespace")) {
            assertThat(doc.path("metadata").path("namespace").asText())
                    .as(where)
                    .isEqualTo("seqrec");
        }
    }

    /** A custom resource of the operator: its metadata by type, the rest by its CRD's schema. */
    private static void validateFlinkResource(ObjectNode doc, JsonNode schema, String where) {
        assertThat(doc.path("apiVersion").asText()).as(where).isEqualTo("flink.apache.org/v1beta1");
        StrictTypes.bind(doc.path("metadata"), ObjectMeta.class, where + " metadata");
        ObjectNode body = doc.deepCopy();
        body.remove(List.of("apiVersion", "kind", "metadata"));
        assertThat(OpenApiValidator.validate(schema, body)).as(where).isEmpty();
    }

    @Test
    void theValidatorRejectsWhatTheServerWouldNot() {
        ObjectNode bad = deployment("cpu").deepCopy();
        bad.remove(List.of("apiVersion", "kind", "metadata"));
        ((ObjectNode) bad.path("spec").path("job")).put("upgradMode", "last-state");
        ((ObjectNode) bad.path("spec").path("job")).put("parallelism", "2");
        ((ObjectNode) bad.path("spec").path("flinkConfiguration")).put("parallelism.default", 2);
        ((ObjectNode) bad.path("spec")).put("flinkVersion", "v3_0");
        assertThat(OpenApiValidator.validate(flinkDeploymentSchema, bad))
                .anyMatch(e -> e.contains("$.spec.job.upgradMode: unknown field"))
                .anyMatch(e -> e.contains("$.spec.job.parallelism: expected an integer"))
                .anyMatch(
                        e ->
                                e.contains(
                                        "$.spec.flinkConfiguration.parallelism.default: expected a"
                                                + " string"))
                .anyMatch(e -> e.contains("$.spec.flinkVersion: \"v3_0\" is not one of"));
        ObjectNode topic =
                Manifests.documents(Manifests.k8s().resolve("kafka/topics.yaml")).get(0).deepCopy();
        ((ObjectNode) topic.path("spec")).put("partitons", 3);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> StrictTypes.bind(topic, KafkaTopic.class, "topic"))
                .hasMessageContaining("$.spec.partitons");
    }

    @Test
    void bothOverlaysRunTheJobWithDurableStateHaAndMetrics() {
        for (String overlay : overlays.keySet()) {
            JsonNode spec = deployment(overlay).path("spec");
            JsonNode conf = spec.path("flinkConfiguration");
            assertThat(spec.path("job").path("upgradeMode").asText()).isEqualTo("last-state");
            assertThat(spec.path("job").path("state").asText()).isEqualTo("running");
            assertThat(spec.path("flinkVersion").asText())
                    .isEqualTo(
                            "v"
                                    + Images.pomProperty("flink.version")
                                            .replaceAll("^(\\d+)\\.(\\d+).*", "$1_$2"));
            assertThat(conf.path("high-availability.type").asText()).isEqualTo("kubernetes");
            assertThat(conf.path("high-availability.storageDir").asText()).startsWith("s3://");
            assertThat(conf.path("execution.checkpointing.dir").asText()).startsWith("s3://");
            assertThat(conf.path("execution.checkpointing.savepoint-dir").asText())
                    .startsWith("s3://");
            assertThat(conf.path("metrics.reporter.prom.factory.class").asText())
                    .isEqualTo(
                            org.apache.flink.metrics.prometheus.PrometheusReporterFactory.class
                                    .getName());
            assertThat(conf.path("classloader.parent-first-patterns.additional").asText())
                    .contains("ai.onnxruntime.")
                    .contains("ai.djl.");
            assertThat(conf.path("env.java.opts.all").asText()).contains("-Dai.djl.offline=true");
            JsonNode container = mainContainer(spec.path("podTemplate"));
            assertThat(
                            container
                                    .path("securityContext")
                                    .path("allowPrivilegeEscalation")
                                    .asBoolean(true))
                    .isFalse();
            assertThat(
                            container
                                    .path("securityContext")
                                    .path("capabilities")
                                    .path("drop")
                                    .toString())
                    .isEqualTo("[\"ALL\"]");
            JsonNode podSecurity = spec.path("podTemplate").path("spec").path("securityContext");
            assertThat(podSecurity.path("runAsNonRoot").asBoolean()).isTrue();
            assertThat(
                            podSecurity.path("runAsUser").asText()
                                    + ":"
                                    + podSecurity.path("runAsGroup").asText())
                    .isEqualTo(Images.user(Images.dockerfile()))
                    .isEqualTo(Images.user(Images.gpuDockerfile()));
            for (String component : List.of("jobManager", "taskManager")) {
                JsonNode resource = spec.path(component).path("resource");
                assertThat(resource.path("cpu").asDouble()).as(component).isPositive();
                assertThat(resource.path("memory").asText()).as(component).matches("\\d+m");
            }
        }
    }

    @Test
    void gpuOverlayRequestsGpusThroughFlinkExternalResources() {
        JsonNode spec = deployment("gpu").path("spec");
        JsonNode conf = spec.path("flinkConfiguration");
        assertThat(conf.path("external-resources").asText()).isEqualTo("gpu");
        assertThat(conf.path("external-resource.gpu.amount").asText()).isEqualTo("1");
        assertThat(conf.path("external-resource.gpu.driver-factory.class").asText())
                .isEqualTo("org.apache.flink.externalresource.gpu.GPUDriverFactory");
        assertThat(conf.path("external-resource.gpu.kubernetes.config-key").asText())
                .isEqualTo("nvidia.com/gpu");
        JsonNode tm = spec.path("taskManager").path("podTemplate").path("spec");
        assertThat(
                        mainContainer(spec.path("taskManager").path("podTemplate"))
                                .path("resources")
                                .path("limits")
                                .path("nvidia.com/gpu")
                                .asText())
                .isEqualTo(conf.path("external-resource.gpu.amount").asText());
        assertThat(tm.path("tolerations").toString()).contains("nvidia.com/gpu");
        assertThat(tm.path("nodeSelector").size()).isPositive();
        List<String> args = args(spec);
        assertThat(args.subList(args.size() - 2, args.size())).containsExactly("--device", "gpu");
        assertThat(JobConfig.fromArgs(jobArgs(args)).device())
                .isEqualTo(io.seqrec.config.Device.GPU);
        assertThat(spec.path("image").asText()).endsWith("-gpu");
        // The CPU overlay's task managers request no GPU and the job keeps its default device.
        JsonNode cpu = deployment("cpu").path("spec");
        assertThat(cpu.path("flinkConfiguration").has("external-resources")).isFalse();
        assertThat(args(cpu)).doesNotContain("--device");
        // Everything else is the same deployment.
        ObjectNode a = deployment("cpu").deepCopy();
        ObjectNode b = deployment("gpu").deepCopy();
        for (ObjectNode d : List.of(a, b)) {
            ObjectNode s = (ObjectNode) d.get("spec");
            s.remove(List.of("image", "taskManager"));
            ((ObjectNode) s.get("flinkConfiguration"))
                    .remove(
                            List.of(
                                    "external-resources",
                                    "external-resource.gpu.amount",
                                    "external-resource.gpu.driver-factory.class",
                                    "external-resource.gpu.kubernetes.config-key",
                                    // the task manager's shape: CUDA's host memory on top
                                    "taskmanager.memory.task.off-heap.size"));
            ArrayNode jobArgs = (ArrayNode) s.path("job").path("args");
            if (jobArgs.get(jobArgs.size() - 1).asText().equals("gpu")) {
                jobArgs.remove(jobArgs.size() - 1);
                jobArgs.remove(jobArgs.size() - 1);
            }
        }
        assertThat(b).isEqualTo(a);
    }

    @Test
    void everyFlinkConfigurationKeyIsAFlinkOption() {
        assertThat(flinkKeys.size()).isGreaterThan(500);
        assertThat(flinkKeys.classes())
                .contains(
                        "org.apache.flink.configuration.CheckpointingOptions",
                        "org.apache.flink.configuration.MetricOptions",
                        "org.apache.flink.configuration.ExternalResourceOptions",
                        // the operator's autoscaler (pom.xml, operator-config-jars)
                        "org.apache.flink.autoscaler.config.AutoScalerOptions");
        // Placeholders for "whatever the plugin reads": not accepted as patterns (see isKnown).
        assertThat(flinkKeys.wildcards())
                .containsExactlyInAnyOrder(
                        "metrics.reporter.<name>.<parameter>",
                        "traces.reporter.<name>.<parameter>",
                        "events.reporter.<name>.<parameter>",
                        "external-resource.<resource_name>.param.<param>");
        for (String overlay : overlays.keySet()) {
            Map<String, String> conf = new LinkedHashMap<>();
            deployment(overlay)
                    .path("spec")
                    .path("flinkConfiguration")
                    .fields()
                    .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
            assertThat(conf.keySet())
                    .as(overlay)
                    .allMatch(k -> flinkKeys.isKnown(k, conf), "a Flink option");
        }
        Map<String, String> none = Map.of();
        assertThat(flinkKeys.isKnown("execution.checkpointing.interval", none)).isTrue();
        assertThat(flinkKeys.isKnown("state.checkpoints.dir", none)).isTrue(); // deprecated key
        assertThat(flinkKeys.isKnown("execution.checkpointing.intervall", none)).isFalse();
        assertThat(flinkKeys.isKnown("job.autoscaler.vertex.max-parallelism", none)).isTrue();
        assertThat(flinkKeys.isKnown("job.autoscaler.vertex.max-paralelism", none)).isFalse();
        assertThat(flinkKeys.isKnown("kubernetes.operator.job.restart.failed", none)).isTrue();
        assertThat(flinkKeys.isKnown("metrics.reporter.prom.port", none)).isFalse(); // no factory
        assertThat(
                        flinkKeys.isKnown(
                                "metrics.reporter.prom.portt",
                                Map.of(
                                        "metrics.reporter.prom.factory.class",
                                        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory")))
                .isFalse();
    }

    @Test
    void jobArgumentsAreAcceptedByTheCliAndPointIntoTheImage() throws Exception {
        for (String overlay : overlays.keySet()) {
            JsonNode spec = deployment(overlay).path("spec");
            JsonNode job = spec.path("job");
            assertThat(job.path("entryClass").asText())
                    .isEqualTo(io.seqrec.cli.Main.class.getName());
            assertThat(job.path("jarURI").asText()).startsWith("local://");
            String jar = job.path("jarURI").asText().substring("local://".length());
            Path dockerfile = overlay.equals("gpu") ? Images.gpuDockerfile() : Images.dockerfile();
            List<String> copied = Images.finalStageCopyDestinations(dockerfile);
            assertThat(copied).as(dockerfile.toString()).contains(jar);
            List<String> args = args(spec);
            assertThat(args.get(0)).isEqualTo("run");
            JobConfig config = JobConfig.fromArgs(jobArgs(args));
            // Models come from a registry beside the checkpoints, in the same bucket.
            String checkpoints =
                    spec.path("flinkConfiguration").path("execution.checkpointing.dir").asText();
            assertThat(config.modelRegistry()).startsWith("s3://");
            assertThat(bucket(config.modelRegistry())).isEqualTo(bucket(checkpoints));
            assertThat(job.path("parallelism").asInt()).isPositive();
        }
    }

    @Test
    void kafkaPiecesFitTogether() {
        JsonNode spec = deployment("cpu").path("spec");
        JobConfig config = JobConfig.fromArgs(jobArgs(args(spec)));
        // Topics: the job's three, the output compacted.
        Map<String, JsonNode> topics = new HashMap<>();
        for (ObjectNode t : Manifests.documents(Manifests.k8s().resolve("kafka/topics.yaml"))) {
            topics.put(t.path("metadata").path("name").asText(), t);
            assertThat(t.path("metadata").path("labels").path("strimzi.io/cluster").asText())
                    .isEqualTo("seqrec-kafka");
        }
        assertThat(topics)
                .containsOnlyKeys(config.inputTopic(), config.outputTopic(), config.dlqTopic());
        assertThat(
                        topics.get(config.outputTopic())
                                .path("spec")
                                .path("config")
                                .path("cleanup.policy")
                                .asText())
                .isEqualTo("compact");
        // The bootstrap address is the Strimzi cluster's bootstrap service on the SCRAM listener.
        JsonNode kafka =
                Manifests.documents(Manifests.k8s().resolve("kafka/kafka.yaml")).stream()
                        .filter(d -> d.path("kind").asText().equals("Kafka"))
                        .findFirst()
                        .orElseThrow();
        JsonNode listener = kafka.path("spec").path("kafka").path("listeners").get(0);
        assertThat(config.bootstrapServers())
                .isEqualTo(
                        kafka.path("metadata").path("name").asText()
                                + "-kafka-bootstrap.seqrec.svc:"
                                + listener.path("port").asInt());
        assertThat(listener.path("authentication").path("type").asText())
                .isEqualTo("scram-sha-512");
        // --kafka-properties is the mounted Secret key; the KafkaUser takes its password from it.
        Map<String, JsonNode> secrets = new HashMap<>();
        Manifests.documents(Manifests.k8s().resolve("secrets.yaml"))
                .forEach(s -> secrets.put(s.path("metadata").path("name").asText(), s));
        JsonNode pod = spec.path("podTemplate").path("spec");
        JsonNode mount = mainContainer(spec.path("podTemplate")).path("volumeMounts").get(0);
        JsonNode volume = pod.path("volumes").get(0);
        assertThat(volume.path("name")).isEqualTo(mount.path("name"));
        JsonNode item = volume.path("secret").path("items").get(0);
        assertThat(mount.path("mountPath").asText() + "/" + item.path("path").asText())
                .isEqualTo(option(args(spec), "--kafka-properties"));
        String secretName = volume.path("secret").path("secretName").asText();
        String properties =
                secrets.get(secretName).path("stringData").path(item.path("key").asText()).asText();
        assertThat(properties).contains("SCRAM-SHA-512").contains("username=\"seqrec\"");
        JsonNode user = kafkaUserDocument("seqrec");
        JsonNode ref =
                user.path("spec")
                        .path("authentication")
                        .path("password")
                        .path("valueFrom")
                        .path("secretKeyRef");
        assertThat(
                        secrets.get(ref.path("name").asText())
                                .path("stringData")
                                .has(ref.path("key").asText()))
                .isTrue();
        assertThat(properties)
                .contains(
                        "password=\""
                                + secrets.get(ref.path("name").asText())
                                        .path("stringData")
                                        .path(ref.path("key").asText())
                                        .asText()
                                + "\"");
        assertThat(user.path("metadata").path("name").asText()).isEqualTo("seqrec");
        // S3 credentials come from the optional seqrec-s3 Secret.
        assertThat(mainContainer(spec.path("podTemplate")).path("envFrom").toString())
                .contains(
                        secrets.keySet().stream()
                                .filter(n -> n.contains("s3"))
                                .findFirst()
                                .orElseThrow());
    }

    /**
     * Least privilege: the job's KafkaUser holds exactly the rules {@link JobAcls} derives from
     * every overlay's job arguments (KafkaAclITCase runs the job on a broker granting no more), on
     * a cluster that enforces ACLs; the tool Jobs (produce, tail, the retraining export) run as a
     * user of their own.
     */
    @Test
    void theJobsKafkaUserHoldsExactlyTheAclsTheJobNeeds() throws Exception {
        KafkaUser user =
                StrictTypes.bind(kafkaUserDocument("seqrec"), KafkaUser.class, "kafka/user.yaml");
        KafkaUserAuthorizationSimple authorization =
                (KafkaUserAuthorizationSimple) user.getSpec().getAuthorization();
        List<JobAcls.Grant> declared = new ArrayList<>();
        for (AclRule rule : authorization.getAcls()) {
            assertThat(rule.getType()).as("allow rules only").isIn(null, AclRuleType.ALLOW);
            assertThat(rule.getHost()).as("from any host").isIn(null, "*");
            rule.getOperations().forEach(op -> declared.add(grant(rule.getResource(), op)));
        }
        for (String overlay : overlays.keySet()) {
            JobConfig config = JobConfig.fromArgs(jobArgs(args(deployment(overlay).path("spec"))));
            assertThat(declared)
                    .as(overlay)
                    .containsExactlyInAnyOrderElementsOf(JobAcls.of(config));
        }
        JsonNode kafka =
                Manifests.documents(Manifests.k8s().resolve("kafka/kafka.yaml")).stream()
                        .filter(d -> d.path("kind").asText().equals("Kafka"))
                        .findFirst()
                        .orElseThrow();
        assertThat(kafka.path("spec").path("kafka").path("authorization").path("type").asText())
                .isEqualTo("simple");
        // The tool Jobs log in as seqrec-tools, whose password comes from the Secret they mount.
        Map<String, JsonNode> secrets = new HashMap<>();
        Manifests.documents(Manifests.k8s().resolve("secrets.yaml"))
                .forEach(s -> secrets.put(s.path("metadata").path("name").asText(), s));
        JsonNode tools = kafkaUserDocument("seqrec-tools");
        JsonNode ref =
                tools.path("spec")
                        .path("authentication")
                        .path("password")
                        .path("valueFrom")
                        .path("secretKeyRef");
        JsonNode toolSecret = secrets.get(ref.path("name").asText()).path("stringData");
        assertThat(toolSecret.path("client.properties").asText())
                .contains("username=\"seqrec-tools\"")
                .contains(
                        "password=\"" + toolSecret.path(ref.path("key").asText()).asText() + "\"");
        for (String file : List.of("produce.yaml", "tail.yaml", "retrain.yaml")) {
            assertThat(Files.readString(Manifests.k8s().resolve("jobs/" + file)))
                    .as(file)
                    .contains("secretName: " + ref.path("name").asText() + "\n");
        }
    }

    private static JsonNode kafkaUserDocument(String name) {
        List<ObjectNode> users =
                Manifests.documents(Manifests.k8s().resolve("kafka/user.yaml")).stream()
                        .filter(d -> d.path("metadata").path("name").asText().equals(name))
                        .toList();
        assertThat(users).as("KafkaUser " + name).hasSize(1);
        return users.get(0);
    }

    /** A Strimzi ACL rule's resource and one of its operations, as a {@link JobAcls.Grant}. */
    private static JobAcls.Grant grant(
            AclRuleResource resource, io.strimzi.api.kafka.model.user.acl.AclOperation operation) {
        String name;
        AclResourcePatternType pattern;
        ResourceType type;
        if (resource instanceof AclRuleTopicResource t) {
            type = ResourceType.TOPIC;
            name = t.getName();
            pattern = t.getPatternType();
        } else if (resource instanceof AclRuleGroupResource g) {
            type = ResourceType.GROUP;
            name = g.getName();
            pattern = g.getPatternType();
        } else if (resource instanceof AclRuleTransactionalIdResource x) {
            type = ResourceType.TRANSACTIONAL_ID;
            name = x.getName();
            pattern = x.getPatternType();
        } else {
            throw new AssertionError("the job needs no rule on " + resource.getType());
        }
        return new JobAcls.Grant(
                type,
                name,
                pattern == AclResourcePatternType.PREFIX
                        ? PatternType.PREFIXED
                        : PatternType.LITERAL,
                AclOperation.valueOf(operation.name()));
    }

    /**
     * The publish Job puts the model the image carries into the registry the job serves from, with
     * the deployment's S3 settings and credentials: a registry the job can start on.
     */
    @Test
    void thePublishJobSeedsTheJobsRegistryFromTheImage() throws Exception {
        List<ObjectNode> docs =
                Manifests.documents(Manifests.k8s().resolve("jobs/publish-model.yaml"));
        ConfigMap cli =
                StrictTypes.bind(
                        docs.stream()
                                .filter(d -> d.path("kind").asText().equals("ConfigMap"))
                                .findFirst()
                                .orElseThrow(),
                        ConfigMap.class,
                        "cli config");
        Job job =
                StrictTypes.bind(
                        docs.stream()
                                .filter(d -> d.path("kind").asText().equals("Job"))
                                .findFirst()
                                .orElseThrow(),
                        Job.class,
                        "publish");
        var container = job.getSpec().getTemplate().getSpec().getContainers().get(0);
        List<String> command = container.getCommand();
        assertThat(command.subList(0, 6))
                .containsExactly(
                        "java",
                        "-cp",
                        "/opt/flink/usrlib/seqrec-job.jar:/opt/flink/lib/*",
                        io.seqrec.cli.Main.class.getName(),
                        "models",
                        "publish");
        CliContract.assertAccepted(command.subList(4, command.size()));
        // It publishes the model directory the image holds ...
        String modelDir = command.get(6);
        assertThat(Images.finalStageCopies(Images.dockerfile()))
                .anySatisfy(
                        c ->
                                assertThat(c)
                                        .containsExactly(
                                                "model/artifacts/default/", modelDir + "/"));
        for (String overlay : overlays.keySet()) {
            JsonNode spec = deployment(overlay).path("spec");
            JobConfig config = JobConfig.fromArgs(jobArgs(args(spec)));
            // ... to the registry every overlay serves from ...
            assertThat(command.subList(7, 9)).containsExactly("--registry", config.modelRegistry());
            // ... with the deployment's S3 settings (the CLI reads FLINK_CONF_DIR/config.yaml)
            Map<String, String> s3 = new TreeMap<>();
            spec.path("flinkConfiguration")
                    .fields()
                    .forEachRemaining(
                            e -> {
                                if (e.getKey().startsWith("s3.")) {
                                    s3.put(e.getKey(), e.getValue().asText());
                                }
                            });
            Map<String, String> cliConf = new TreeMap<>();
            Manifests.YAML
                    .readTree(cli.getData().get("config.yaml"))
                    .fields()
                    .forEachRemaining(e -> cliConf.put(e.getKey(), e.getValue().asText()));
            assertThat(cliConf).as(overlay).isEqualTo(s3);
            // ... and credentials from the same Secret.
            assertThat(container.getEnvFrom().get(0).getSecretRef().getName())
                    .isEqualTo(
                            mainContainer(spec.path("podTemplate"))
                                    .path("envFrom")
                                    .get(0)
                                    .path("secretRef")
                                    .path("name")
                                    .asText());
        }
        Map<String, String> env = new HashMap<>();
        container.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        assertThat(env)
                .containsEntry("FLINK_PLUGINS_DIR", "/opt/flink/plugins")
                .containsKey("FLINK_CONF_DIR");
        assertThat(container.getVolumeMounts().get(0).getMountPath())
                .isEqualTo(env.get("FLINK_CONF_DIR"));
        assertThat(
                        job.getSpec()
                                .getTemplate()
                                .getSpec()
                                .getVolumes()
                                .get(0)
                                .getConfigMap()
                                .getName())
                .isEqualTo(cli.getMetadata().getName());
        assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    }

    private static String bucket(String s3Uri) {
        assertThat(s3Uri).startsWith("s3://");
        return URI.create(s3Uri).getHost();
    }

    private static CronJob cronJob(String file) {
        return StrictTypes.bind(
                Manifests.single(Manifests.k8s().resolve("jobs/" + file)), CronJob.class, file);
    }

    /** The value after {@code flag} in {@code args}. */
    private static String after(List<String> args, String flag) {
        int i = args.indexOf(flag);
        assertThat(i).as(flag + " in " + args).isGreaterThanOrEqualTo(0);
        return args.get(i + 1);
    }

    /**
     * The nightly retraining: export, fetch the stable version, train warm-started from it, publish
     * as a canary, each step reading what the one before wrote, on the registry the job serves,
     * every command accepted by its CLI.
     */
    @Test
    void theRetrainingCronJobExportsTrainsWarmAndPublishesACanary() throws Exception {
        var pod =
                cronJob("retrain.yaml")
                        .getSpec()
                        .getJobTemplate()
                        .getSpec()
                        .getTemplate()
                        .getSpec();
        var init = pod.getInitContainers();
        assertThat(init)
                .extracting(c -> c.getName())
                .containsExactly("export-events", "fetch-stable", "train");
        List<String> export = init.get(0).getCommand();
        List<String> fetch = init.get(1).getCommand();
        List<String> train = init.get(2).getArgs();
        List<String> publish = pod.getContainers().get(0).getCommand();
        for (List<String> cli : List.of(export, fetch, publish)) {
            assertThat(cli.subList(0, 4))
                    .containsExactly(
                            "java",
                            "-cp",
                            "/opt/flink/usrlib/seqrec-job.jar:/opt/flink/lib/*",
                            io.seqrec.cli.Main.class.getName());
            CliContract.assertAccepted(cli.subList(4, cli.size()));
        }
        assertThat(export.get(4)).isEqualTo("export-events");
        assertThat(fetch.subList(4, 6)).containsExactly("models", "fetch");
        assertThat(publish.subList(4, 6)).containsExactly("models", "publish");
        // The steps hand their files on through /work.
        assertThat(train.get(0)).isEqualTo("train");
        assertThat(after(train, "--data")).isEqualTo(after(export, "--out"));
        assertThat(after(train, "--init-from")).isEqualTo(after(fetch, "--out"));
        assertThat(publish.get(6)).isEqualTo(after(train, "--export-dir"));
        assertThat(after(train, "--format")).isEqualTo("events");
        // Every training flag is one seqrec_model train has.
        String trainCli =
                Files.readString(
                        Manifests.k8s().resolve("../model/seqrec_model/cli.py").normalize());
        train.stream()
                .filter(a -> a.startsWith("--"))
                .forEach(flag -> assertThat(trainCli).as(flag).contains("\"" + flag + "\""));
        // The registry every overlay serves, with the publish Job's S3 settings and credentials.
        for (String overlay : overlays.keySet()) {
            JobConfig config = JobConfig.fromArgs(jobArgs(args(deployment(overlay).path("spec"))));
            assertThat(after(fetch, "--registry")).isEqualTo(config.modelRegistry());
            assertThat(after(publish, "--registry")).isEqualTo(config.modelRegistry());
        }
        assertThat(Integer.parseInt(after(publish, "--canary"))).isBetween(1, 50);
        assertThat(pod.getVolumes())
                .filteredOn(v -> v.getConfigMap() != null)
                .extracting(v -> v.getConfigMap().getName())
                .containsExactly("seqrec-models-cli");
        // The training image is the one docker/Dockerfile.train builds.
        assertThat(init.get(2).getImage())
                .isEqualTo("seqrec-train:0.1.0")
                .isEqualTo(Images.documentedTag(Manifests.docker().resolve("Dockerfile.train")));
    }

    @Test
    void thePromotionCronJobDecidesFromLiveFiguresAndWaitingIsNoFailure() {
        var container =
                cronJob("promote.yaml")
                        .getSpec()
                        .getJobTemplate()
                        .getSpec()
                        .getTemplate()
                        .getSpec()
                        .getContainers()
                        .get(0);
        List<String> args = container.getArgs();
        CliContract.assertAccepted(args);
        assertThat(args.subList(0, 2)).containsExactly("models", "promote");
        assertThat(Double.parseDouble(after(args, "--if-better"))).isBetween(0.0, 0.2);
        assertThat(container.getCommand().subList(0, 2)).containsExactly("sh", "-c");
        assertThat(container.getCommand().get(2))
                .contains("io.seqrec.cli.Main \"$@\"")
                .contains("\"$status\" = " + io.seqrec.cli.CliContract.UNDECIDED);
    }

    @Test
    void producerAndTailJobsUseTheCliAsDocumented() {
        for (String name : List.of("produce", "tail")) {
            Job job =
                    StrictTypes.bind(
                            Manifests.single(Manifests.k8s().resolve("jobs/" + name + ".yaml")),
                            Job.class,
                            name);
            var container = job.getSpec().getTemplate().getSpec().getContainers().get(0);
            List<String> command = container.getCommand();
            assertThat(command.subList(0, 4))
                    .containsExactly(
                            "java",
                            "-cp",
                            "/opt/flink/usrlib/seqrec-job.jar:/opt/flink/lib/*",
                            io.seqrec.cli.Main.class.getName());
            assertThat(Images.finalStageCopyDestinations(Images.dockerfile()))
                    .contains("/opt/flink/usrlib/seqrec-job.jar");
            assertThat(command.get(4)).isEqualTo(name);
            CliContract.assertAccepted(command.subList(4, command.size()));
            assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
            assertThat(job.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot())
                    .isTrue();
        }
    }

    @Test
    void podMonitorScrapesTheReporterPortOfTheJobsPods() {
        PodMonitor monitor =
                StrictTypes.bind(
                        Manifests.single(Manifests.k8s().resolve("monitoring/podmonitor.yaml")),
                        PodMonitor.class,
                        "pm");
        JsonNode deployment = deployment("cpu");
        // Native mode labels the pods app=<FlinkDeployment name>, type=flink-native-kubernetes.
        assertThat(monitor.getSpec().getSelector().getMatchLabels())
                .containsEntry("app", deployment.path("metadata").path("name").asText())
                .containsEntry("type", "flink-native-kubernetes");
        String portName = monitor.getSpec().getPodMetricsEndpoints().get(0).getPort();
        JsonNode port = null;
        for (JsonNode p :
                mainContainer(deployment.path("spec").path("podTemplate")).path("ports")) {
            if (p.path("name").asText().equals(portName)) {
                port = p;
            }
        }
        assertThat(port).as("container port named " + portName).isNotNull();
        assertThat(port.path("containerPort").asText())
                .isEqualTo(
                        deployment
                                .path("spec")
                                .path("flinkConfiguration")
                                .path("metrics.reporter.prom.port")
                                .asText());
    }

    /**
     * One budget over all of the job's pods (the labels native mode gives them, which the
     * PodMonitor also selects), letting one go at a time: a drain proceeds, one restart per pod.
     */
    @Test
    void aDisruptionBudgetLetsOnePodOfTheJobGoAtATime() {
        for (String overlay : overlays.keySet()) {
            PodDisruptionBudget pdb =
                    StrictTypes.bind(
                            overlayObject(overlay, "PodDisruptionBudget"),
                            PodDisruptionBudget.class,
                            overlay + " pdb");
            assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
            assertThat(pdb.getSpec().getMinAvailable()).isNull();
            assertThat(pdb.getSpec().getSelector().getMatchLabels())
                    .containsExactlyInAnyOrderEntriesOf(
                            Map.of(
                                    "app",
                                    deployment(overlay).path("metadata").path("name").asText(),
                                    "type",
                                    "flink-native-kubernetes"));
        }
    }

    /**
     * The job restarts without limit, with a capped backoff (its own strategy, which overrides any
     * restart-strategy key of the cluster's), and the operator redeploys a job that ends FAILED.
     */
    @Test
    void theJobNeverGivesUpAndTheOperatorRestartsAFailedOne() {
        for (String overlay : overlays.keySet()) {
            JsonNode spec = deployment(overlay).path("spec");
            JobConfig config = JobConfig.fromArgs(jobArgs(args(spec)));
            assertThat(config.restartAttempts())
                    .isEqualTo(io.seqrec.config.JobOptions.UNLIMITED_RESTARTS);
            assertThat(config.restartMaxBackoff())
                    .isLessThanOrEqualTo(java.time.Duration.ofMinutes(5));
            JsonNode conf = spec.path("flinkConfiguration");
            assertThat(conf.path("kubernetes.operator.job.restart.failed").asText())
                    .isEqualTo("true");
            conf.fieldNames()
                    .forEachRemaining(
                            key ->
                                    assertThat(key)
                                            .as(overlay)
                                            .doesNotStartWith("restart-strategy"));
        }
    }

    /**
     * Savepoints are FlinkStateSnapshot resources (operator 1.10+), periodic and on demand; the
     * deprecated savepointTriggerNonce is gone from k8s/ and the docs.
     */
    @Test
    void savepointsAreFlinkStateSnapshotsOfTheDeployment() throws Exception {
        JsonNode snapshot = Manifests.single(Manifests.k8s().resolve("jobs/savepoint.yaml"));
        JsonNode conf = deployment("cpu").path("spec").path("flinkConfiguration");
        assertThat(snapshot.path("spec").path("jobReference").path("kind").asText())
                .isEqualTo("FlinkDeployment");
        assertThat(snapshot.path("spec").path("jobReference").path("name").asText())
                .isEqualTo(deployment("cpu").path("metadata").path("name").asText());
        // Into the deployment's savepoint directory, kept when the resource is deleted.
        assertThat(snapshot.path("spec").path("savepoint").has("path")).isFalse();
        assertThat(snapshot.path("spec").path("savepoint").path("disposeOnDelete").asBoolean(true))
                .isFalse();
        assertThat(conf.path("kubernetes.operator.snapshot.resource.enabled").asText())
                .isEqualTo("true");
        assertThat(conf.path("kubernetes.operator.periodic.savepoint.interval").asText())
                .isNotEmpty();
        Path root = io.seqrec.TestPaths.repoRoot();
        List<Path> texts = new ArrayList<>(Manifests.yamlFiles(Manifests.k8s()));
        texts.add(Manifests.k8s().resolve("README.md"));
        try (var docs = Files.walk(root.resolve("docs"))) {
            docs.filter(f -> f.toString().endsWith(".md")).forEach(texts::add);
        }
        texts.add(root.resolve("README.md"));
        texts.add(Manifests.docker().resolve("README.md"));
        for (Path text : texts) {
            // Mentioned as deprecated is fine; set (a YAML key or a JSON patch) is not.
            assertThat(Manifests.read(text))
                    .as(text.toString())
                    .doesNotContainPattern("savepointTriggerNonce\"?\\s*:");
        }
    }

    /**
     * The autoscaler may move each operator between one subtask and as many as the input topic has
     * partitions: more source subtasks than partitions would idle.
     */
    @Test
    void theAutoscalerStaysWithinTheInputTopicsPartitions() {
        Map<String, Integer> partitions = new HashMap<>();
        for (ObjectNode t : Manifests.documents(Manifests.k8s().resolve("kafka/topics.yaml"))) {
            partitions.put(
                    t.path("metadata").path("name").asText(),
                    t.path("spec").path("partitions").asInt());
        }
        for (String overlay : overlays.keySet()) {
            JsonNode spec = deployment(overlay).path("spec");
            JsonNode conf = spec.path("flinkConfiguration");
            JobConfig config = JobConfig.fromArgs(jobArgs(args(spec)));
            int inputPartitions = partitions.get(config.inputTopic());
            assertThat(conf.path("job.autoscaler.enabled").asText()).isEqualTo("true");
            assertThat(conf.path("job.autoscaler.vertex.max-parallelism").asInt())
                    .isEqualTo(inputPartitions);
            assertThat(conf.path("job.autoscaler.vertex.min-parallelism").asInt())
                    .isBetween(1, inputPartitions);
            assertThat(spec.path("job").path("parallelism").asInt()).isBetween(1, inputPartitions);
            double target = conf.path("job.autoscaler.utilization.target").asDouble();
            assertThat(target)
                    .isStrictlyBetween(
                            conf.path("job.autoscaler.utilization.min").asDouble(),
                            conf.path("job.autoscaler.utilization.max").asDouble());
            assertThat(conf.path("job.autoscaler.utilization.max").asDouble())
                    .isLessThanOrEqualTo(1.0);
            // The job's state is spread over key groups fixed by its max parallelism: changing
            // it would make every checkpoint unrestorable, so the autoscaler bound is not that.
            assertThat(conf.has("pipeline.max-parallelism")).isFalse();
        }
    }

    /**
     * kube-prometheus-stack's Prometheus selects PodMonitors and PrometheusRules by its Helm
     * release's label, and its Grafana loads ConfigMaps labelled grafana_dashboard=1.
     */
    @Test
    void monitoringObjectsCarryTheLabelsKubePrometheusStackSelects() {
        JsonNode podMonitor =
                Manifests.single(Manifests.k8s().resolve("monitoring/podmonitor.yaml"));
        JsonNode rule = Manifests.single(Manifests.k8s().resolve("monitoring/prometheusrule.yaml"));
        JsonNode dashboard =
                Manifests.single(Manifests.k8s().resolve("monitoring/grafana-dashboard.yaml"));
        String release = podMonitor.path("metadata").path("labels").path("release").asText();
        assertThat(release).isNotEmpty();
        assertThat(rule.path("metadata").path("labels").path("release").asText())
                .isEqualTo(release);
        assertThat(dashboard.path("metadata").path("labels").path("grafana_dashboard").asText())
                .isEqualTo("1");
        assertThat(Manifests.read(Manifests.k8s().resolve("README.md")))
                .contains("release: " + release)
                .contains("helm install " + release + " ");
    }

    /**
     * An alert for each failure the issue names, each with a runbook section in k8s/README.md,
     * reading only metrics the README documents (MetricsITCase checks each against a scrape).
     */
    @Test
    void everyAlertHasARunbookAndReadsOnlyDocumentedMetrics() {
        String k8sReadme = Manifests.read(Manifests.k8s().resolve("README.md"));
        String readme = Manifests.read(Manifests.k8s().resolve("../README.md"));
        String metricsSection =
                readme.substring(
                        readme.indexOf("\n## Metrics"),
                        readme.indexOf("\n## ", readme.indexOf("\n## Metrics") + 1));
        JsonNode rule = Manifests.single(Manifests.k8s().resolve("monitoring/prometheusrule.yaml"));
        List<String> alerts = new ArrayList<>();
        for (JsonNode group : rule.path("spec").path("groups")) {
            for (JsonNode r : group.path("rules")) {
                String alert = r.path("alert").asText();
                alerts.add(alert);
                String runbook = r.path("annotations").path("runbook_url").asText();
                assertThat(runbook).as(alert).isEqualTo("k8s/README.md#" + alert.toLowerCase());
                assertThat(k8sReadme).as(alert + " runbook").contains("\n### " + alert + "\n");
                assertThat(r.path("labels").path("severity").asText())
                        .as(alert)
                        .isIn("warning", "critical");
            }
        }
        assertThat(alerts)
                .containsExactlyInAnyOrder(
                        "SeqrecJobRestarting",
                        "SeqrecCheckpointsFailing",
                        "SeqrecCheckpointsStale",
                        "SeqrecConsumerLagGrowing",
                        "SeqrecDeadLetterRateHigh",
                        "SeqrecInferenceLatencyHigh",
                        "SeqrecModelBelowPopularityBaseline",
                        "SeqrecModelLoadFailures");
        List<MonitoringQueries.Query> queries = MonitoringQueries.all();
        assertThat(MonitoringQueries.dashboard()).hasSizeGreaterThanOrEqualTo(10);
        for (MonitoringQueries.Query q : queries) {
            assertThat(MonitoringQueries.metricNames(q.expr())).as(q.where()).isNotEmpty();
            for (String name : MonitoringQueries.metricNames(q.expr())) {
                assertThat(metricsSection)
                        .as(q.where() + " reads " + name)
                        .contains("`" + name + "`");
            }
        }
    }

    @Test
    void metricNamesAreReadFromPromQl() {
        assertThat(
                        MonitoringQueries.metricNames(
                                "sum by (job_name, reason)"
                                    + " (rate(a_total{reason=\"x\",job=~\"$job\"}[5m])) / on"
                                    + " (job_name) group_left sum without (tm_id)"
                                    + " (rate(b:c[$__rate_interval])) > 0.01 and"
                                    + " max(d{quantile=\"0.99\"}) > 5e4 unless count(e offset 1h)"
                                    + " == bool 0"))
                .containsExactly("a_total", "b:c", "d", "e");
        assertThat(MonitoringQueries.metricNames("histogram_quantile(0.99, f)"))
                .containsExactly("f");
    }

    @Test
    void readmeAppliesEveryManifest() {
        String readme = Manifests.read(Manifests.k8s().resolve("README.md"));
        for (String file : everythingApplied().keySet()) {
            if (file.startsWith("overlays/")) {
                assertThat(readme).contains("kubectl apply -k k8s/" + file.replace(" (built)", ""));
            } else {
                assertThat(readme).contains("kubectl apply -f k8s/" + file);
            }
        }
    }

    static JsonNode mainContainer(JsonNode podTemplate) {
        for (JsonNode c : podTemplate.path("spec").path("containers")) {
            if (c.path("name").asText().equals("flink-main-container")) {
                return c;
            }
        }
        throw new AssertionError("no flink-main-container in " + podTemplate);
    }

    private static List<String> args(JsonNode spec) {
        List<String> args = new ArrayList<>();
        spec.path("job").path("args").forEach(a -> args.add(a.asText()));
        return args;
    }

    /**
     * The job's options (after the "run" command), with the mounted properties file replaced by a
     * local one: the CLI checks that the file exists.
     */
    private static String[] jobArgs(List<String> args) {
        List<String> out = new ArrayList<>(args.subList(1, args.size()));
        int i = out.indexOf("--kafka-properties");
        if (i >= 0) {
            try {
                Path local = tmp.resolve("client.properties");
                Files.writeString(local, "security.protocol=SASL_PLAINTEXT\n");
                out.set(i + 1, local.toString());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return out.toArray(String[]::new);
    }

    private static String option(List<String> args, String name) {
        int i = args.indexOf(name);
        assertThat(i).as(name).isPositive();
        return args.get(i + 1);
    }
}
