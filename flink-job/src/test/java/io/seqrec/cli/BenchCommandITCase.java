package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.TestPaths;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code seqrec bench} end to end on a tiny run (real broker, local Flink, every phase): it answers
 * every event in every phase and ends with a SUMMARY line of positive numbers. Says nothing about
 * how fast: no timed assertions.
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
                    "speedup_vs_naive");

    @Test
    void tinyRunEndsWithAParsableSummaryOfPositiveNumbers() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int status;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            status =
                    new BenchCommand()
                            .run(
                                    new String[] {
                                        "--events", "300",
                                        "--source", "synthetic",
                                        "--users", "40",
                                        "--warmup", "100",
                                        "--model", TestPaths.defaultModel().toString()
                                    });
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        original.print(out);
        assertThat(status).as("every phase received every event").isZero();

        String[] lines = out.strip().split("\n");
        String last = lines[lines.length - 1];
        assertThat(last).startsWith("SUMMARY ");
        Map<String, Double> values = new LinkedHashMap<>();
        for (String field : last.substring("SUMMARY ".length()).split(" ")) {
            String[] kv = field.split("=", 2);
            values.put(kv[0], Double.parseDouble(kv[1]));
        }
        assertThat(values.keySet()).containsExactlyElementsOf(SUMMARY_KEYS);
        assertThat(values.values()).allMatch(v -> v > 0 && Double.isFinite(v));
    }

    @Test
    void naiveModelMustBeTheServedModelsWeights(@TempDir Path dir) throws Exception {
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        for (String name : List.of("model.onnx", "items.txt", "reference.jsonl")) {
            Files.copy(TestPaths.defaultModel().resolve(name), other.resolve(name));
        }
        String metadata =
                Files.readString(TestPaths.defaultModel().resolve("metadata.json"))
                        .replaceFirst(
                                "\"model_version\": \"[^\"]*\"", "\"model_version\": \"x-1\"");
        Files.writeString(other.resolve("metadata.json"), metadata);

        assertThatThrownBy(
                        () ->
                                new BenchCommand()
                                        .run(
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
}
