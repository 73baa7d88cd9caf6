package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.model.ModelArtifact;
import io.seqrec.registry.ModelRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code seqrec models ...} through {@link Main#run} on a registry in a temporary directory. */
class ModelsCommandTest {
    @TempDir Path tmp;

    /** What one command printed and returned. */
    private record Result(int status, String out, String err) {}

    private static Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            int status = Main.run(args);
            return new Result(
                    status,
                    outBytes.toString(StandardCharsets.UTF_8),
                    errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void publishCanaryPromoteRollbackAndStatusFromTheCommandLine() {
        String registry = tmp.resolve("registry").toString();
        String model = TestPaths.defaultModel().toString();
        String first = ModelArtifact.load(TestPaths.defaultModel()).modelVersion();

        assertThat(run("models", "status", "--registry", registry).out())
                .contains(": no versions published");
        Result published = run("models", "publish", model, "--registry", registry);
        assertThat(published.status()).isZero();
        assertThat(published.out())
                .contains("published " + first + " to file:")
                .contains("pointer revision 1: stable " + first + " for 100% of users");
        assertThat(run("models", "publish", model, "--registry", registry, "--version", "v2"))
                .extracting(Result::status)
                .isEqualTo(0);

        Result canary = run("models", "canary", "v2", "--percent", "10", "--registry", registry);
        assertThat(canary.status()).isZero();
        assertThat(canary.out())
                .contains(
                        "pointer revision 2: stable "
                                + first
                                + " for 90% of users, canary v2 for 10%");
        Result status = run("models", "status", "--registry", registry);
        assertThat(status.status()).isZero();
        assertThat(status.out())
                .containsPattern("(?m)^VERSION +ROLE +USERS +LIVE$")
                .containsPattern("(?m)^" + first + " +stable +90% +not reported$")
                .containsPattern("(?m)^v2 +canary +10% +not reported$");

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

        Result twice = run("models", "publish", model, "--registry", registry, "--version", "v1");
        assertThat(twice.status()).isEqualTo(2);
        assertThat(twice.err()).contains("seqrec models: version v1 exists already");
        Result nothing = run("models", "rollback", "--registry", registry);
        assertThat(nothing.status()).isEqualTo(2);
        assertThat(nothing.err()).contains("nothing to roll back");
        assertThat(run("models", "canary", "v9", "--percent", "5", "--registry", registry).err())
                .contains("version v9 is not in");
        Result noPercent = run("models", "canary", "v1", "--registry", registry);
        assertThat(noPercent.status()).isEqualTo(2);
        assertThat(noPercent.err()).contains("--percent is required");
        Result noDir = run("models", "publish", "--registry", registry);
        assertThat(noDir.status()).isEqualTo(2);
        assertThat(noDir.err()).contains("models publish needs DIR");

        Path broken = TestPaths.copyOfDefaultModel(tmp.resolve("broken"));
        Files.writeString(broken.resolve("model.onnx"), "not a model");
        Result refused = run("models", "publish", broken.toString(), "--registry", registry);
        assertThat(refused.status()).isEqualTo(3);
        assertThat(refused.err()).contains("model refused:").contains("model.onnx");
        assertThat(ModelRegistry.open(registry).versions()).containsExactly("v1");
    }

    @Test
    void statusShowsEachVersionsLiveFiguresInTheirOwnColumn() {
        ModelRegistry registry = ModelRegistry.open(tmp.resolve("registry").toString());
        registry.publish(TestPaths.defaultModel(), "v1");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelsCommand.printStatus(
                registry,
                version -> "live_hr_at_10=0.9 for " + version,
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .containsPattern("(?m)^v1 +stable +100% +live_hr_at_10=0.9 for v1$");
    }
}
