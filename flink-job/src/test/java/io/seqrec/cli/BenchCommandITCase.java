package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.seqrec.TestPaths;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code seqrec bench} end to end on a tiny run (real broker, local Flink, every phase, twice): it
 * answers every event in every phase and ends with a SUMMARY line of positive numbers. Says nothing
 * about how fast: no timed assertions.
 */
class BenchCommandITCase {
    private static final List<String> SUMMARY_KEYS =
            List.of(
                    "throughput_eps",
                    "latency_p50_ms",
                    "latency_p99_ms",
                    "bare_inference_eps",
                    "pipeline_vs_bare",
                    "unbatched_eps",
                    "batched_vs_unbatched",
                    "naive_eps",
                    "speedup_vs_naive",
                    "job_cpu_us_per_event",
                    "bare_cpu_us_per_event",
                    "job_vs_bare");

    @Test
    void tinyRunEndsWithAParsableSummaryOfPositiveNumbers() throws Exception {
        Output run = bench("--events", "300", "--repeat", "2");
        assertThat(run.status()).as("every phase received every event").isZero();

        String[] lines = run.text().strip().split("\n");
        assertThat(lines)
                .as("each phase twice, then the medians")
                .filteredOn(l -> l.startsWith("phase batched-max:"))
                .hasSize(2);
        assertThat(lines).contains("median of 2 runs of each phase:");
        String last = lines[lines.length - 1];
        assertThat(last).startsWith("SUMMARY ");
        Map<String, Double> values = new LinkedHashMap<>();
        for (String field : last.substring("SUMMARY ".length()).split(" ")) {
            String[] kv = field.split("=", 2);
            values.put(kv[0], Double.parseDouble(kv[1]));
        }
        assertThat(values.keySet()).containsExactlyElementsOf(SUMMARY_KEYS);
        assertThat(values.values()).allMatch(v -> v > 0 && Double.isFinite(v));
        // The phase table's two CPU columns: the whole process (broker and the bench's clients
        // too), and the job's threads with their share of GC and JIT, a part of it.
        String max =
                List.of(lines).stream()
                        .filter(l -> l.startsWith("batched-max "))
                        .reduce((a, b) -> b)
                        .orElseThrow();
        String[] columns = max.trim().split("\\s+");
        double process = Double.parseDouble(columns[columns.length - 2]);
        double job = Double.parseDouble(columns[columns.length - 1]);
        assertThat(job).isEqualTo(values.get("job_cpu_us_per_event"), within(0.5));
        assertThat(job).isPositive().isLessThan(process);
    }

    @Test
    void soakWarmsUpThenAnswersEveryEventAndReportsMemoryAndLatencyWindows() throws Exception {
        Output run = bench("--soak", "3s", "--rate", "200", "--events", "2000");
        assertThat(run.status()).as("every event of the soak answered").isZero();

        List<String> lines = List.of(run.text().strip().split("\n"));
        assertThat(lines)
                .as("the warm-up runs before the measured soak")
                .filteredOn(l -> l.startsWith("phase "))
                .extracting(l -> l.split(":")[0])
                .containsExactly("phase warm-up", "phase soak");
        assertThat(lines).anyMatch(l -> l.matches("rss t=0s rss_mb=[1-9][0-9]* heap_used_mb=.*"));
        // 3 s at 200/s = 600 events, in windows of 10 s of send time: one window.
        assertThat(lines)
                .filteredOn(l -> l.startsWith("latency t="))
                .singleElement()
                .asString()
                .startsWith("latency t=0s events=600 ");
        // (The memory sampler runs on its own thread: its lines may come in anywhere.)
        assertThat(lines)
                .filteredOn(l -> l.startsWith("SOAK "))
                .singleElement()
                .asString()
                .matches("SOAK events=600 rate=200 latency_p50_ms=[0-9.]+ .* rss_mb=[1-9][0-9]*");
    }

    @Test
    void swapPhaseChangesTheModelHalfwayAndReportsTheLatencyAfterIt() throws Exception {
        // Enough events that the half after the change outlasts a poll (1 s) and a load: at half
        // of this machine's maximum, about 4 s.
        Output run = bench("--events", "40000", "--baselines", "false", "--swap", "true");
        assertThat(run.status()).as("every event answered, through the swap too").isZero();

        List<String> lines = List.of(run.text().strip().split("\n"));
        assertThat(lines)
                .filteredOn(l -> l.startsWith("phase ") && l.contains(":"))
                .extracting(l -> l.split(":")[0])
                .containsExactly(
                        "phase warm-up",
                        "phase batched-max",
                        "phase batched-50%",
                        "phase swap-50%");
        assertThat(lines).anyMatch(l -> l.matches("  halfway action done at t=[0-9.]+s .*"));
        assertThat(lines).anyMatch(l -> l.matches("latency t=0s events=[1-9][0-9]* p50_ms=.*"));
        // The job's own reports: v1 answered before the swap and v2 after it.
        assertThat(lines)
                .filteredOn(l -> l.startsWith("  live checks by version"))
                .singleElement()
                .asString()
                .matches(".*\\{v1=[1-9][0-9]*, v2=[1-9][0-9]*\\}");
        assertThat(lines.get(lines.size() - 1))
                .matches(
                        "SWAP swap_latency_p50_ms=[0-9.]+ swap_latency_p99_ms=[0-9.]+"
                                + " swap_window_p50_ms=[0-9.]+ swap_window_p99_ms=[0-9.]+");
    }

    @Test
    void naiveModelMustBeTheServedModelsWeights(@TempDir Path dir) throws Exception {
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        for (String name :
                List.of("model.onnx", "items.txt", "reference.jsonl", "item_vectors.f32")) {
            Files.copy(TestPaths.defaultModel().resolve(name), other.resolve(name));
        }
        String metadata =
                Files.readString(TestPaths.defaultModel().resolve("metadata.json"))
                        .replaceFirst(
                                "\"model_version\": \"[^\"]*\"", "\"model_version\": \"x-1\"");
        Files.writeString(other.resolve("metadata.json"), metadata);

        assertThatThrownBy(
                        () ->
                                BenchCommand.COMMAND.run(
                                        new String[] {
                                            "--events",
                                            "300",
                                            "--source",
                                            "synthetic",
                                            "--model",
                                            TestPaths.defaultModel().toString(),
                                            "--naive-model",
                                            other.toString()
                                        }))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("x-1")
                .hasMessageContaining("--graph full");
    }

    /** What {@code seqrec bench} printed, and its exit status. */
    private record Output(int status, String text) {}

    /**
     * Runs {@code seqrec bench} with {@code args} on a small synthetic load (40 users, a warm-up of
     * 100 events, the default model), capturing (and echoing) standard output.
     */
    private static Output bench(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(
                List.of(
                        "--source", "synthetic",
                        "--users", "40",
                        "--warmup", "100",
                        "--model", TestPaths.defaultModel().toString()));
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int status;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            status = BenchCommand.COMMAND.run(all.toArray(String[]::new));
        } finally {
            System.setOut(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        original.print(text);
        return new Output(status, text);
    }
}
