package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.cli.CliRun;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import io.seqrec.model.TestArtifacts;
import io.seqrec.registry.LiveReport;
import io.seqrec.registry.ModelRegistry;
import io.seqrec.registry.RegistryPointer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 10 % canary: a stable share of users, chosen by their id, gets the canary version and keeps it
 * for every event; after a rollback, the next events of those users are answered by stable.
 */
class CanaryITCase {
    private static final int PARALLELISM = 2;
    private static final int USERS = 1000;
    private static final int EVENTS = 3000;

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);
    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    @Test
    void aTenPercentCanaryServesAStableShareOfUsersUntilRolledBack() throws Exception {
        Path registryDir = tmp.resolve("registry");
        ModelRegistry registry = ModelRegistry.open(registryDir.toString());
        registry.publish(TestArtifacts.defaultModelAs(tmp.resolve("m1"), "canary-v1"), "v1");
        registry.publish(TestArtifacts.defaultModelAs(tmp.resolve("m2"), "canary-v2"), "v2");
        RegistryPointer pointer = registry.canary("v2", 10);

        JobClient job =
                RecoveryRuns.startServingRegistry(
                        KAFKA,
                        "canary",
                        "at-least-once",
                        registryDir,
                        tmp.resolve("ckpt"),
                        PARALLELISM);
        // The generator continues the same users in its second half, with new event ids.
        List<String[]> all = RecoveryRuns.syntheticInput(USERS, 2 * EVENTS, 31);
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "canary-in", all.subList(0, EVENTS));
        Output first =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "canary-out",
                        "canary-dlq",
                        EVENTS,
                        Duration.ofMinutes(2));
        assertThat(first.distinctEvents() + first.deadLetters()).isEqualTo(EVENTS);

        Map<String, Set<String>> versionsByUser = versionsByUser(first.records());
        assertThat(versionsByUser.values())
                .as("each user on one version throughout")
                .allSatisfy(v -> assertThat(v).hasSize(1));
        long onCanary = 0;
        for (Map.Entry<String, Set<String>> e : versionsByUser.entrySet()) {
            String expected =
                    pointer.versionFor(e.getKey()).equals("v2") ? "canary-v2" : "canary-v1";
            assertThat(e.getValue()).as(e.getKey()).containsExactly(expected);
            onCanary += expected.equals("canary-v2") ? 1 : 0;
        }
        // Binomial: n users, p = 0.1; within four standard deviations of n p.
        int n = versionsByUser.size();
        double sd = Math.sqrt(n * 0.1 * 0.9);
        assertThat((double) onCanary).isBetween(n * 0.1 - 4 * sd, n * 0.1 + 4 * sd);

        assertLiveFiguresReachTheRegistry(registry, n);

        // Rollback: the canary's users return to stable at the next poll (every 300 ms; loading
        // nothing new, stable is loaded already). Give it ample time before their next events.
        registry.rollback();
        Thread.sleep(3000);
        KafkaTestSupport.produce(
                KAFKA.bootstrapServers(), "canary-in", all.subList(EVENTS, 2 * EVENTS));
        Output both =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "canary-out",
                        "canary-dlq",
                        2 * EVENTS,
                        Duration.ofMinutes(2));
        job.cancel().get();
        Set<String> firstIds = new HashSet<>();
        first.records().forEach(r -> firstIds.add(r.eventId()));
        List<Recommendation> afterRollback =
                both.records().stream().filter(r -> !firstIds.contains(r.eventId())).toList();
        assertThat(afterRollback).hasSizeGreaterThan(EVENTS / 2);
        assertThat(afterRollback)
                .extracting(Recommendation::modelVersion)
                .as("after the rollback stable answers everyone")
                .containsOnly("canary-v1");
        assertThat(afterRollback)
                .filteredOn(r -> pointer.versionFor(r.userId()).equals("v2"))
                .as("former canary users among them")
                .isNotEmpty();
    }

    /**
     * Every subtask writes its live figures by registry version at its polls; {@code models status}
     * sums them. Both versions have been checked, the canary on its share of users' next items.
     */
    private static void assertLiveFiguresReachTheRegistry(ModelRegistry registry, int users)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Map<String, LiveTotals> live = Map.of();
        List<LiveReport> reports = List.of();
        while (System.nanoTime() < deadline) {
            reports = registry.liveReports();
            live = sum(reports);
            if (reports.size() == PARALLELISM
                    && live.getOrDefault("v1", LiveTotals.NONE).evaluated() > 0
                    && live.getOrDefault("v2", LiveTotals.NONE).evaluated() > 0) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(reports).extracting(LiveReport::subtask).containsExactlyInAnyOrder(0, 1);
        assertThat(reports).allSatisfy(r -> assertThat(r.parallelism()).isEqualTo(PARALLELISM));
        long onStable = live.get("v1").evaluated();
        long onCanary = live.get("v2").evaluated();
        assertThat(onStable).isPositive();
        assertThat(onCanary).isPositive();
        // A user's first event has no earlier list to check against.
        assertThat(onStable + onCanary).isLessThanOrEqualTo(EVENTS - users);
        assertThat((double) onCanary / (onStable + onCanary))
                .as("the canary's share of the checks")
                .isBetween(0.03, 0.2);

        CliRun status = CliRun.of("models", "status", "--registry", registry.uri().toString());
        assertThat(status.status()).isZero();
        assertThat(status.out())
                .containsPattern(
                        "(?m)^v1 +stable +90% +HR@10 0\\.\\d{4} \\[.*\\]  checks \\d+  trending"
                                + " NDCG@10 .*$")
                .containsPattern(
                        "(?m)^v2 +canary +10% +HR@10 0\\.\\d{4} \\[.*\\]  checks \\d+  trending"
                                + " NDCG@10 .*$")
                .contains("live: 2 of 2 subtasks reported");
    }

    private static Map<String, LiveTotals> sum(List<LiveReport> reports) {
        Map<String, LiveTotals> sums = new HashMap<>();
        for (LiveReport r : reports) {
            r.versions().forEach((v, t) -> sums.merge(v, t, LiveTotals::plus));
        }
        return sums;
    }

    private static Map<String, Set<String>> versionsByUser(List<Recommendation> records) {
        Map<String, Set<String>> out = new HashMap<>();
        for (Recommendation r : records) {
            out.computeIfAbsent(r.userId(), u -> new HashSet<>()).add(r.modelVersion());
        }
        return out;
    }
}
