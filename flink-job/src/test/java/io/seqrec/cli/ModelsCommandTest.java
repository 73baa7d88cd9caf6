package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.model.ModelArtifact;
import io.seqrec.registry.LiveReport;
import io.seqrec.registry.ModelRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code seqrec models ...} through {@link Main#run} on a registry in a temporary directory. */
class ModelsCommandTest {
    @TempDir Path tmp;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void publishCanaryPromoteRollbackAndStatusFromTheCommandLine() {
        String registry = tmp.resolve("registry").toString();
        String model = TestPaths.defaultModel().toString();
        String first = ModelArtifact.load(TestPaths.defaultModel()).modelVersion();

        assertThat(run("models", "status", "--registry", registry).out())
                .contains(": no versions published");
        CliRun published = run("models", "publish", model, "--registry", registry);
        assertThat(published.status()).isZero();
        assertThat(published.out())
                .contains("published " + first + " to file:")
                .contains("pointer revision 1: stable " + first + " for 100% of users");
        assertThat(run("models", "publish", model, "--registry", registry, "--version", "v2"))
                .extracting(CliRun::status)
                .isEqualTo(0);

        CliRun canary = run("models", "canary", "v2", "--percent", "10", "--registry", registry);
        assertThat(canary.status()).isZero();
        assertThat(canary.out())
                .contains(
                        "pointer revision 2: stable "
                                + first
                                + " for 90% of users, canary v2 for 10%");
        CliRun status = run("models", "status", "--registry", registry);
        assertThat(status.status()).isZero();
        assertThat(status.out())
                .containsPattern("(?m)^VERSION +ROLE +USERS +LIVE \\(95 % intervals\\)$")
                .containsPattern("(?m)^" + first + " +stable +90% +-$")
                .containsPattern("(?m)^v2 +canary +10% +-$");

        assertThat(run("models", "promote", "--registry", registry).out())
                .contains(
                        "pointer revision 3: stable v2 for 100% of users; previous stable "
                                + first);
        assertThat(run("models", "rollback", "--registry", registry).out())
                .contains("pointer revision 4: stable " + first + " for 100% of users");
    }

    @Test
    void refusalsExitWithTwoForTheRequestAndThreeForTheModel() throws IOException {
        String registry = tmp.resolve("registry").toString();
        String model = TestPaths.defaultModel().toString();
        assertThat(
                        run("models", "publish", model, "--registry", registry, "--version", "v1")
                                .status())
                .isZero();

        CliRun twice = run("models", "publish", model, "--registry", registry, "--version", "v1");
        assertThat(twice.status()).isEqualTo(2);
        assertThat(twice.err()).contains("seqrec models: version v1 exists already");
        CliRun nothing = run("models", "rollback", "--registry", registry);
        assertThat(nothing.status()).isEqualTo(2);
        assertThat(nothing.err()).contains("nothing to roll back");
        assertThat(run("models", "canary", "v9", "--percent", "5", "--registry", registry).err())
                .contains("version v9 is not in");
        CliRun noPercent = run("models", "canary", "v1", "--registry", registry);
        assertThat(noPercent.status()).isEqualTo(2);
        assertThat(noPercent.err()).contains("--percent is required");
        CliRun noDir = run("models", "publish", "--registry", registry);
        assertThat(noDir.status()).isEqualTo(2);
        assertThat(noDir.err()).contains("models publish needs DIR");

        Path broken = TestPaths.copyOfDefaultModel(tmp.resolve("broken"));
        Files.writeString(broken.resolve("model.onnx"), "not a model");
        CliRun refused = run("models", "publish", broken.toString(), "--registry", registry);
        assertThat(refused.status()).isEqualTo(3);
        assertThat(refused.err()).contains("model refused:").contains("model.onnx");
        assertThat(ModelRegistry.open(registry).versions()).containsExactly("v1");
    }

    @Test
    void statusSumsTheFreshLiveReportsOfEverySubtaskByVersion() {
        ModelRegistry registry = ModelRegistry.open(tmp.resolve("registry").toString());
        registry.publish(TestPaths.defaultModel(), "v1");
        registry.publish(TestPaths.defaultModel(), "v2");
        registry.canary("v2", 10);
        long now = 1_700_000_000_000L;
        // Two subtasks of a running job: v1 checked 300 + 100 times, v2 40 + 0.
        registry.writeLiveReport(
                new LiveReport(
                        0,
                        2,
                        now - 60_000,
                        now - 2_000,
                        30_000,
                        Map.of(
                                "v1", new LiveTotals(300, 60, 30.0, 20.0),
                                "v2", new LiveTotals(40, 10, 5.0, 3.0)),
                        // The trending lists on the same checks: NDCG@10 0.05 for v1's users.
                        Map.of("v1", new LiveTotals(300, 30, 15.0, 9.0))));
        registry.writeLiveReport(
                new LiveReport(
                        1,
                        2,
                        now - 50_000,
                        now - 1_000,
                        30_000,
                        Map.of("v1", new LiveTotals(100, 20, 10.0, 6.0))));
        // A subtask of an earlier run at parallelism 3, silent for an hour: left out.
        registry.writeLiveReport(
                new LiveReport(
                        2,
                        3,
                        now - 7_200_000,
                        now - 3_600_000,
                        30_000,
                        Map.of("v1", new LiveTotals(1_000_000, 0, 0, 0))));

        String out = status(registry, now);
        LiveTotals v1 = new LiveTotals(400, 80, 40.0, 26.0);
        assertThat(out)
                .contains("v1       stable             90%  " + ModelsCommand.liveColumn(v1))
                .contains(
                        "v2       canary             10%  "
                                + ModelsCommand.liveColumn(new LiveTotals(40, 10, 5.0, 3.0)))
                .contains("checks 400  trending NDCG@10 0.0500 (lift 2.00x)")
                .contains("HR@10 0.2000 [")
                .contains("NDCG@10 0.1000 [")
                .contains("live: 2 of 2 subtasks reported, newest 1 s ago")
                .contains("1 stale report(s) ignored");
        // The interval is the Wilson interval of 80 hits in 400 checks.
        assertThat(ModelsCommand.liveColumn(v1))
                .contains(
                        String.format(
                                Locale.ROOT,
                                "[%.4f, %.4f]",
                                v1.hitRateInterval().low(),
                                v1.hitRateInterval().high()));
    }

    /** A registry with v1 stable and v2 a 20 % canary, and one fresh report of both. */
    private String registryWithLive(String name, LiveTotals v1, LiveTotals v2) {
        ModelRegistry registry = ModelRegistry.open(tmp.resolve(name).toString());
        registry.publish(TestPaths.defaultModel(), "v1");
        registry.publish(TestPaths.defaultModel(), "v2");
        registry.canary("v2", 20);
        long now = System.currentTimeMillis();
        registry.writeLiveReport(
                new LiveReport(0, 1, now - 60_000, now, 30_000, Map.of("v1", v1, "v2", v2)));
        return registry.uri().toString();
    }

    @Test
    void promoteIfBetterDecidesFromTheLiveFigures() {
        LiveTotals good = new LiveTotals(500, 150, 100.0, 60.0);
        LiveTotals plain = new LiveTotals(2000, 300, 200.0, 150.0);

        String better = registryWithLive("better", plain, good);
        CliRun promoted =
                run(
                        "models",
                        "promote",
                        "--if-better",
                        "0.02",
                        "--min-checks",
                        "100",
                        "--registry",
                        better);
        assertThat(promoted.status()).as(promoted.err()).isZero();
        assertThat(promoted.out()).contains("promoting v2").contains("stable v2 for 100%");
        assertThat(ModelRegistry.open(better).pointer().stable()).isEqualTo("v2");

        String worse = registryWithLive("worse", good, plain);
        CliRun rolledBack =
                run(
                        "models",
                        "promote",
                        "--if-better",
                        "0.02",
                        "--min-checks",
                        "100",
                        "--registry",
                        worse);
        assertThat(rolledBack.status()).isZero();
        assertThat(rolledBack.out()).contains("rolling back v2");
        assertThat(ModelRegistry.open(worse).pointer().hasCanary()).isFalse();
        assertThat(ModelRegistry.open(worse).pointer().stable()).isEqualTo("v1");

        String early = registryWithLive("early", plain, good);
        CliRun waiting = run("models", "promote", "--if-better", "0.02", "--registry", early);
        assertThat(waiting.status()).isEqualTo(ModelsCommand.UNDECIDED);
        assertThat(waiting.out()).contains("fewer than 1000 checks").contains("nothing changed");
        assertThat(ModelRegistry.open(early).pointer().canary()).isEqualTo("v2");
    }

    @Test
    void publishAsACanaryAndFetchTheStableForARetraining() {
        String registry = tmp.resolve("retrain").toString();
        String model = TestPaths.defaultModel().toString();
        assertThat(
                        run("models", "publish", model, "--registry", registry, "--version", "v1")
                                .status())
                .isZero();
        CliRun canary =
                run(
                        "models",
                        "publish",
                        model,
                        "--registry",
                        registry,
                        "--version",
                        "v2",
                        "--canary",
                        "20");
        assertThat(canary.status()).as(canary.err()).isZero();
        assertThat(canary.out()).contains("stable v1 for 80% of users, canary v2 for 20%");
        CliRun fetched =
                run(
                        "models",
                        "fetch",
                        "--registry",
                        registry,
                        "--out",
                        tmp.resolve("v1").toString());
        assertThat(fetched.status()).as(fetched.err()).isZero();
        assertThat(fetched.out()).startsWith("fetched v1 (");
        assertThat(ModelArtifact.load(tmp.resolve("v1")).numItems())
                .isEqualTo(ModelArtifact.load(TestPaths.defaultModel()).numItems());
    }

    @Test
    void statusSaysWhenNoJobHasReported() {
        ModelRegistry registry = ModelRegistry.open(tmp.resolve("quiet").toString());
        registry.publish(TestPaths.defaultModel(), "v1");
        String out = status(registry, System.currentTimeMillis());
        assertThat(out)
                .containsPattern("(?m)^v1 +stable +100% +-$")
                .contains("live: no job serving this registry has reported");
    }

    private static String status(ModelRegistry registry, long now) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelsCommand.printStatus(
                registry, now, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
