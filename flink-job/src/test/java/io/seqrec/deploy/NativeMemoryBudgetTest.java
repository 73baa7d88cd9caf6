package io.seqrec.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.junit.jupiter.api.Test;

/**
 * Every deployment sets aside task off-heap memory for ONNX Runtime's native allocations, at least
 * what was measured, and its task-manager memory still adds up in Flink's own memory model.
 */
class NativeMemoryBudgetTest {
    /*
     * Measured with OnnxNativeMemory (its Javadoc has the command) on 2026-12-02 on this 2-core
     * machine, ONNX Runtime 1.24.1 CPU through DJL 0.38.0, batch 32, one intra-op thread, 1000
     * batches per session, resident set above the JVM's own non-heap and direct memory:
     *   default model (1,997 items, max_len 50):   33.0 MB with its first session loaded; 4
     *     sessions 63.1 MB (peak 67.8); one step of +18 MB at the second session's batches: the
     *     allocator's growth is lumpy, so the budget per session is the 4-session peak less the
     *     per-JVM part, over 4: 8.5 MB;
     *   ML-1M-sized (3,416 items, max_len 200):     33.7 MB with its first session loaded; +55.0 MB
     *     the first session's warm-up and batches; +52.5 / +55.4 / +48.9 MB per further session
     *     (4 sessions: 245.5 MB). Closing 3 of 4 sessions gave back 128 MB of 157.
     */
    /** The library, its environment and DJL's engine: once per JVM. */
    static final MemorySize PER_JVM = MemorySize.ofMebiBytes(34);

    /**
     * One loaded, warmed-up session of the ML-1M-sized model that has scored (the largest seen).
     */
    static final MemorySize PER_SESSION_ML1M = MemorySize.ofMebiBytes(56);

    /** The same for the default model. */
    static final MemorySize PER_SESSION_DEFAULT = MemorySize.ofMebiBytes(9);

    /**
     * Sessions a slot holds at most with a model registry: the stable version and a canary, and,
     * while the poller loads the next pointer's two new versions, those as well (the old ones close
     * only once the task thread has switched). A single {@code --model}: one.
     */
    static final int SESSIONS_PER_SLOT_REGISTRY = 4;

    @Test
    void everyDeploymentReservesOnnxRuntimesNativeMemory() {
        Map<String, TaskExecutorProcessSpec> specs = new LinkedHashMap<>();
        Map<String, MemorySize> required = new LinkedHashMap<>();

        JsonNode compose = Manifests.compose();
        Configuration composeConf =
                Configuration.fromMap(Manifests.flinkProperties(compose, "taskmanager"));
        List<String> composeJob = new ArrayList<>();
        compose.path("services")
                .path("jobmanager")
                .path("command")
                .forEach(n -> composeJob.add(n.asText()));
        specs.put("docker-compose", TaskExecutorProcessUtils.processSpecFromConfig(composeConf));
        // Compose serves the model baked into the image (--model), one session per slot.
        assertThat(composeJob).contains("--model").doesNotContain("--model-registry");
        required.put(
                "docker-compose",
                budget(specs.get("docker-compose").getNumSlots(), 1, PER_SESSION_DEFAULT));

        Map<String, JsonNode> deployments = new LinkedHashMap<>();
        deployments.put(
                "k8s/base", Manifests.single(Manifests.k8s().resolve("base/flinkdeployment.yaml")));
        for (String overlay : List.of("cpu", "gpu")) {
            deployments.put(
                    "k8s/overlays/" + overlay,
                    Kustomize.build(Manifests.k8s().resolve("overlays").resolve(overlay)).get(0));
        }
        deployments.forEach(
                (name, deployment) -> {
                    JsonNode spec = deployment.path("spec");
                    Map<String, String> conf = new LinkedHashMap<>();
                    spec.path("flinkConfiguration")
                            .fields()
                            .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
                    // The operator sets the process size from the task manager's resource.
                    conf.put(
                            "taskmanager.memory.process.size",
                            spec.path("taskManager").path("resource").path("memory").asText());
                    TaskExecutorProcessSpec s =
                            TaskExecutorProcessUtils.processSpecFromConfig(
                                    Configuration.fromMap(conf));
                    specs.put(name, s);
                    assertThat(spec.path("job").path("args").toString())
                            .contains("--model-registry");
                    required.put(
                            name,
                            budget(s.getNumSlots(), SESSIONS_PER_SLOT_REGISTRY, PER_SESSION_ML1M));
                });

        specs.forEach(
                (name, s) -> {
                    assertThat(s.getTaskOffHeapSize())
                            .as(name + ": task off-heap for ONNX Runtime (" + s + ")")
                            .isGreaterThanOrEqualTo(required.get(name));
                    // What is left for the job's own objects is a usable heap, not Flink's minimum.
                    assertThat(s.getTaskHeapSize().getMebiBytes())
                            .as(name + ": task heap")
                            .isGreaterThanOrEqualTo(256);
                });
        // CUDA's host allocations come on top on a GPU task manager (not measured: more, not less).
        assertThat(specs.get("k8s/overlays/gpu").getTaskOffHeapSize())
                .isGreaterThan(specs.get("k8s/overlays/cpu").getTaskOffHeapSize());
    }

    /** Per JVM once, plus each session of each slot. */
    static MemorySize budget(int slots, int sessionsPerSlot, MemorySize perSession) {
        return PER_JVM.add(perSession.multiply((long) slots * sessionsPerSlot));
    }
}
